"""Reading the run log and the backfill queue: history, queue rows, batches in flight."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from reconciler.core.batches import Batch
from reconciler.state.connection import Connection, utc
from reconciler.state.records import HistoryRow, QualityResult, QueueRow


def backfill_queue(conn: Connection, pipeline_id: str) -> list[QueueRow]:
    """A pipeline's ``backfill_queue`` rows, by date."""
    rows = conn.execute(
        """SELECT backfill_id, pipeline_id, date_to_process, status, retry_attempts, priority,
                  request_id, batch_id
           FROM backfill_queue WHERE pipeline_id = ? ORDER BY date_to_process, backfill_id""",
        [pipeline_id],
    ).fetchall()
    return [
        QueueRow(
            backfill_id=b,
            pipeline_id=pid,
            date_to_process=day,
            status=status,
            retry_attempts=attempts,
            priority=priority,
            request_id=request_id,
            batch_id=batch_id,
        )
        for b, pid, day, status, attempts, priority, request_id, batch_id in rows
    ]


_RUN_COLUMNS = """run_id, batch_id, run_date, status, attempt, kind, request_id,
                  start_time, end_time, error_message, sla_met, platform_run_id, version"""


def history(conn: Connection, pipeline_id: str, limit: int) -> list[HistoryRow]:
    """The runs of a pipeline, newest first (one row per date per attempt)."""
    rows = conn.execute(
        f"""SELECT {_RUN_COLUMNS}
           FROM pipeline_run_log WHERE pipeline_id = ?
           ORDER BY coalesce(start_time, created_at) DESC, run_date DESC, attempt DESC
           LIMIT ?""",
        [pipeline_id, limit],
    ).fetchall()
    return [_history_row(r) for r in rows]


def date_runs(conn: Connection, pipeline_id: str, day: date) -> list[HistoryRow]:
    """The runs of one date of a pipeline, oldest attempt first."""
    rows = conn.execute(
        f"""SELECT {_RUN_COLUMNS}
           FROM pipeline_run_log WHERE pipeline_id = ? AND run_date = ?
           ORDER BY attempt, coalesce(start_time, created_at), run_id""",
        [pipeline_id, day],
    ).fetchall()
    return [_history_row(r) for r in rows]


def quality_results(conn: Connection, run_ids: Sequence[str]) -> list[QualityResult]:
    """The ``data_quality_log`` rows of these runs, in the order they were recorded."""
    if not run_ids:
        return []
    rows = conn.execute(
        """SELECT run_id, check_name, check_result, error_details
           FROM data_quality_log WHERE run_id IN (SELECT unnest(?::VARCHAR[]))
           ORDER BY created_at, quality_check_id""",
        [list(run_ids)],
    ).fetchall()
    return [
        QualityResult(run_id=r[0], check_name=r[1], passed=r[2], error_details=r[3]) for r in rows
    ]


def _history_row(r: Sequence[Any]) -> HistoryRow:
    return HistoryRow(
        run_id=r[0],
        batch_id=r[1],
        run_date=r[2],
        status=r[3],
        attempt=r[4],
        kind=r[5],
        request_id=r[6],
        start_time=utc(r[7]),
        end_time=utc(r[8]),
        error_message=r[9],
        sla_met=r[10],
        platform_run_id=r[11],
        version=r[12],
    )


def in_flight_batches(conn: Connection) -> list[Batch]:
    """Batches whose rows are pending or running, oldest first."""
    if not conn.execute(
        "SELECT 1 FROM open_dates WHERE status IN ('pending', 'running') LIMIT 1"
    ).fetchone():
        return []
    rows = conn.execute(
        # open_dates names the batches in flight without scanning the whole log
        # (min: every row of a batch has the same value; any_value is not in PostgreSQL 15;
        # 'unconfirmed' is how older versions wrote an unconfirmed start: no run id)
        """SELECT batch_id, min(pipeline_id), array_agg(run_date ORDER BY run_date),
                  max(status), min(attempt), min(kind), min(request_id),
                  min(platform), NULLIF(max(platform_run_id), 'unconfirmed'), min(start_time)
           FROM pipeline_run_log
           WHERE status IN ('pending', 'running') AND batch_id IN (
               SELECT DISTINCT batch_id FROM open_dates WHERE status IN ('pending', 'running'))
           GROUP BY batch_id ORDER BY min(created_at), batch_id"""
    ).fetchall()
    return [
        Batch(
            batch_id=r[0],
            pipeline_id=r[1],
            dates=tuple(r[2]),
            status=r[3],
            attempt=r[4],
            kind=r[5],
            request_id=r[6],
            platform=r[7],
            platform_run_id=r[8],
            started_at=utc(r[9]),
        )
        for r in rows
    ]
