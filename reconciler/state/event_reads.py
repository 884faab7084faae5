"""What notifications need to say that the plan does not carry: errors and request digests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from reconciler.state.connection import Connection

FAILED_LISTED = 200  # failed dates named in a digest


def run_errors(conn: Connection, run_ids: Sequence[str]) -> dict[str, str | None]:
    """Run row id -> its error message, for the rows asked about."""
    if not run_ids:
        return {}
    rows = conn.execute(
        """SELECT run_id, error_message FROM pipeline_run_log
           WHERE run_id IN (SELECT unnest(?::VARCHAR[]))""",
        [list(run_ids)],
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def request_digest(conn: Connection, pipeline_id: str, request_id: str) -> dict[str, Any]:
    """Counts of a backfill request's dates by how they ended, from ``backfill_queue``."""
    rows: list[tuple[date, str]] = conn.execute(
        """SELECT date_to_process, status FROM backfill_queue
           WHERE pipeline_id = ? AND request_id = ? ORDER BY date_to_process""",
        [pipeline_id, request_id],
    ).fetchall()
    failed = [d for d, status in rows if status == "failed"]
    return {
        "dates": len(rows),
        "succeeded": sum(1 for _, status in rows if status == "done"),
        "failed": len(failed),
        "failed_dates": [d.isoformat() for d in failed[:FAILED_LISTED]],
        "first_date": rows[0][0].isoformat() if rows else None,
        "last_date": rows[-1][0].isoformat() if rows else None,
    }
