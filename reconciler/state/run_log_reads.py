"""Run-log reads for ``report`` and ``status --calendar``: newest attempts, late dates,
recent failures. Rows come back as the database gives them; the caller shapes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from reconciler.state.connection import Connection

NewestAttempt = tuple[str, date, str, int, str, str | None, bool | None, str | None]
FailedRun = tuple[str, str, list[date], int, datetime | None, str | None, str | None]

_NEWEST = """
    SELECT pipeline_id, run_date, status, attempt, batch_id, error_message, sla_met,
           platform_run_id
    FROM (SELECT *, row_number() OVER (
                     PARTITION BY pipeline_id, run_date
                     ORDER BY created_at DESC, attempt DESC, run_id DESC) AS newest
          FROM pipeline_run_log
          WHERE pipeline_id IN (SELECT unnest(?::VARCHAR[])) AND run_date BETWEEN ? AND ?)
          AS ranked
    WHERE newest = 1"""


def newest_attempts(
    conn: Connection, ids: Sequence[str], lo: date, hi: date, *, late_only: bool = False
) -> list[NewestAttempt]:
    """The newest attempt of every date of ``ids`` in ``lo..hi``: (pipeline, date,
    status, attempt, batch, error, SLA met, platform run id). ``late_only``: only the
    successes that missed their SLA leave the database (10^4 pipelines x a year)."""
    where = " AND status = 'success' AND sla_met = false" if late_only else ""
    rows: list[Any] = conn.execute(_NEWEST + where, [list(ids), lo, hi]).fetchall()
    return rows


def breaches_between(
    conn: Connection, ids: Sequence[str], lo: date, hi: date
) -> list[tuple[str, date]]:
    """Recorded SLA breaches of ``ids`` in ``lo..hi``."""
    rows: list[Any] = conn.execute(
        """SELECT pipeline_id, run_date FROM sla_breaches
           WHERE pipeline_id IN (SELECT unnest(?::VARCHAR[])) AND run_date BETWEEN ? AND ?""",
        [list(ids), lo, hi],
    ).fetchall()
    return rows


def recent_failures(conn: Connection, ids: Sequence[str], limit: int) -> list[FailedRun]:
    """The ``limit`` latest failed runs of ``ids``, newest first: (pipeline, batch, dates,
    attempt, ended, first error, kind)."""
    rows: list[Any] = conn.execute(
        """SELECT pipeline_id, batch_id, array_agg(run_date ORDER BY run_date), max(attempt),
                  max(end_time), (array_agg(error_message ORDER BY run_date))[1], min(kind)
           FROM pipeline_run_log
           WHERE status = 'failed' AND pipeline_id IN (SELECT unnest(?::VARCHAR[]))
           GROUP BY pipeline_id, batch_id
           ORDER BY max(coalesce(end_time, start_time, created_at)) DESC, batch_id
           LIMIT ?""",
        [list(ids), limit],
    ).fetchall()
    return rows
