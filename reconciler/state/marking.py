"""``mark``: record dates produced (or spoiled) outside the reconciler, in one transaction.

Each marked date gets one run-log row of kind ``mark`` (platform ``mark``, attempt 1)
whose ``error_message`` holds who marked it and why ("marked covered by alice: ...").
Covered dates join the coverage and leave ``open_dates``; failed dates leave both, so
the next plan sees them as plain gaps and backfills them like any other missing date.
A date in flight (pending or running) is refused before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal

from reconciler.core.batches import run_row_id
from reconciler.errors import StateError
from reconciler.masking import mask_opt
from reconciler.state import outdated_marks
from reconciler.state.connection import Connection, naive
from reconciler.state.coverage_rows import set_coverage

MarkAs = Literal["covered", "failed"]


def mark_dates(
    conn: Connection,
    pipeline_id: str,
    days: Sequence[date],
    mark_as: MarkAs,
    note: str,
    now: datetime,
) -> str:
    """Mark ``days`` of ``pipeline_id``; returns the batch id of the rows written.

    Raises ``StateError`` (nothing written) when a date is in flight.
    """
    busy = [
        r[0]
        for r in conn.execute(
            """SELECT run_date FROM open_dates
               WHERE pipeline_id = ? AND status IN ('pending', 'running')
                 AND run_date IN (SELECT unnest(?::DATE[]))
               ORDER BY run_date""",
            [pipeline_id, list(days)],
        ).fetchall()
    ]
    if busy:
        listed = ", ".join(d.isoformat() for d in busy)
        raise StateError(
            f"{pipeline_id} has {len(busy)} date(s) in flight ({listed}): wait for the run "
            "to end or cancel it, then mark; nothing marked"
        )
    batch_id = f"mark-{uuid.uuid4().hex[:12]}"
    stamp = naive(now)
    status = "success" if mark_as == "covered" else "failed"
    conn.execute(
        """INSERT INTO pipeline_run_log (run_id, pipeline_id, run_date, status, start_time,
               end_time, retry_attempts, is_backfill, batch_id, attempt, kind, platform,
               created_at, error_message)
           SELECT unnest(?::VARCHAR[]), ?, unnest(?::DATE[]), ?, ?, ?, 0, false, ?, 1,
                  'mark', 'mark', ?, ?""",
        [
            [run_row_id(batch_id, d) for d in days],
            pipeline_id,
            list(days),
            status,
            stamp,
            stamp,
            batch_id,
            stamp,
            mask_opt(note),
        ],
    )
    conn.execute(
        """DELETE FROM open_dates
           WHERE pipeline_id = ? AND run_date IN (SELECT unnest(?::DATE[]))""",
        [pipeline_id, list(days)],
    )
    if mark_as == "covered":
        set_coverage(conn, pipeline_id, add=days, remove=())
        # the data is declared current: no longer outdated (as a run's start cuts them)
        outdated_marks.cut(conn, {pipeline_id: days})
    else:
        set_coverage(conn, pipeline_id, add=(), remove=days)
    return batch_id
