"""SLA breaches: each (pipeline, date) recorded once, so that it is announced once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from reconciler.state.connection import Connection, naive


def record_breaches(
    conn: Connection, pipeline_id: str, breaches: Iterable[tuple[date, datetime]], now: datetime
) -> list[date]:
    """Remember SLA breaches once; returns the dates that were new."""
    new: list[date] = []
    for day, deadline in breaches:
        if conn.execute(
            "SELECT 1 FROM sla_breaches WHERE pipeline_id = ? AND run_date = ?", [pipeline_id, day]
        ).fetchone():
            continue
        conn.execute(
            "INSERT INTO sla_breaches VALUES (?, ?, ?, ?)",
            [pipeline_id, day, naive(deadline), naive(now)],
        )
        new.append(day)
    return new


def recorded(conn: Connection, wanted: str, params: list[object]) -> dict[str, set[date]]:
    """The breached dates of the pipelines of ``wanted`` (a relation ``params`` complete)."""
    out: dict[str, set[date]] = {}
    for pid, day in conn.execute(
        f"SELECT s.pipeline_id, run_date FROM sla_breaches s JOIN {wanted} USING (pipeline_id)",
        params,
    ).fetchall():
        out.setdefault(pid, set()).add(day)
    return out
