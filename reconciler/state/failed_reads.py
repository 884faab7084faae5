"""Failed dates of the pipelines being read, as the columns ``FailedDates`` holds.

Every failed date's ordinal and attempt are read (the planner sorts failures with
them); end time, request id and run id only where a pipeline's ``detail_below`` (the
attempt number from which its failures are exhausted, NULL for all) says a date can
still be retried: an imported history's 10^5 exhausted dates would otherwise cost
10^5 id strings for nothing.
"""

from __future__ import annotations

from reconciler.core.coverage import FailedDates, FailureDetails
from reconciler.state.connection import Connection
from reconciler.state.dialects import dialect_of


def failed_dates(conn: Connection, wanted: str, params: list[object]) -> dict[str, FailedDates]:
    """Per pipeline with failed dates; ``wanted`` is a relation of ``pipeline_id`` and
    ``detail_below`` that ``params`` complete."""
    ordinal = "run_date - DATE '0001-01-01' + 1"
    # (no recorded time at all, as a hand-migrated row may have: long ago, retry now)
    ended = "coalesce(ended_at, started_at, TIMESTAMP '1970-01-01 00:00:00')"
    ended_us = dialect_of(conn).epoch_us(ended)
    # attempts as a range first: they are nearly always all equal (an import's are 1)
    heads = conn.execute(
        f"""SELECT o.pipeline_id, array_agg({ordinal} ORDER BY run_date),
                   min(attempt), max(attempt)
            FROM open_dates o JOIN {wanted} USING (pipeline_id)
            WHERE status = 'failed' GROUP BY o.pipeline_id""",
        params,
    ).fetchall()
    mixed = [pid for pid, _, low, high in heads if low != high]
    attempts: dict[str, list[int]] = {}
    if mixed:
        attempts = dict(
            conn.execute(
                """SELECT pipeline_id, array_agg(attempt ORDER BY run_date) FROM open_dates
                   WHERE status = 'failed' AND pipeline_id IN (SELECT unnest(?::VARCHAR[]))
                   GROUP BY pipeline_id""",
                [mixed],
            ).fetchall()
        )
    details = {
        pid: FailureDetails(ordinals=o, ended_us=e, request_ids=r, run_ids=b)
        for pid, o, e, r, b in conn.execute(
            f"""SELECT o.pipeline_id, array_agg({ordinal} ORDER BY run_date),
                       array_agg({ended_us} ORDER BY run_date),
                       array_agg(request_id ORDER BY run_date),
                       array_agg(coalesce(batch_id, '') ORDER BY run_date)
                FROM open_dates o JOIN {wanted} USING (pipeline_id)
                WHERE status = 'failed'
                  AND (detail_below IS NULL OR attempt < detail_below)
                GROUP BY o.pipeline_id""",
            params,
        ).fetchall()
    }
    return {
        pid: FailedDates(
            ordinals,
            attempts[pid] if pid in attempts else [low] * len(ordinals),
            details.get(pid),
        )
        for pid, ordinals, low, _ in heads
    }
