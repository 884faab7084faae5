"""Writing config: pipeline rows and parameters, deletions, ad-hoc requests, SLA breaches."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any

from reconciler.core.spec import BackfillRequest
from reconciler.errors import StateError
from reconciler.state.connection import Connection, naive
from reconciler.state.run_writes import cancel_backfills


def sync_pipeline(
    conn: Connection, row: dict[str, Any], parameters: dict[str, str], now: datetime
) -> str:
    """Upsert one pipeline's config row and parameters; returns create/update/unchanged."""
    return sync_pipelines(conn, [(row, parameters)], now).get(row["pipeline_id"], "unchanged")


def sync_pipelines(
    conn: Connection, items: Sequence[tuple[dict[str, Any], dict[str, str]]], now: datetime
) -> dict[str, str]:
    """Upsert config rows and parameters; returns ``create``/``update`` per changed id.

    A pipeline whose applied config is unchanged costs nothing beyond one shared read.
    ``created_at`` is set once; ``updated_at`` moves only when something changed.
    """
    if not items:
        return {}
    existing = {
        r[0]: (r[1], r[2], r[3])
        for r in conn.execute(
            "SELECT pipeline_id, config_json, deleted_at, sla_time FROM pipelines"
        ).fetchall()
    }
    stamp = naive(now)
    changes: dict[str, str] = {}
    for row, parameters in items:
        pid = row["pipeline_id"]
        old = existing.get(pid)
        columns = list(row)
        # SLA tracking starts when an SLA (or a new SLA time) is first applied
        sla_since = stamp if row.get("sla_time") is not None else None
        if old is None:
            names = ", ".join([*columns, "created_at", "updated_at", "sla_since"])
            marks = ", ".join(["?"] * (len(columns) + 3))
            conn.execute(
                f"INSERT INTO pipelines ({names}) VALUES ({marks})",
                [*row.values(), stamp, stamp, sla_since],
            )
            changes[pid] = "create"
        elif old[0] == row["config_json"] and old[1] is None:
            continue
        else:
            sets = ", ".join(f"{c} = ?" for c in columns[1:])
            sla_changed = old[2] != row.get("sla_time")
            conn.execute(
                f"UPDATE pipelines SET {sets}, updated_at = ?, deleted_at = NULL"
                + (", sla_since = ?" if sla_changed else "")
                + " WHERE pipeline_id = ?",
                [*list(row.values())[1:], stamp, *([sla_since] if sla_changed else []), pid],
            )
            changes[pid] = "update" if old[1] is None else "create"
        conn.execute("DELETE FROM pipeline_parameters WHERE pipeline_id = ?", [pid])
        if parameters:
            conn.executemany(
                "INSERT INTO pipeline_parameters VALUES (?, ?, ?, ?, ?)",
                [[f"{pid}:{name}", pid, name, value, stamp] for name, value in parameters.items()],
            )
    return changes


def mark_deleted(conn: Connection, pipeline_ids: Iterable[str], now: datetime) -> None:
    """A removed file stops its pipeline: its pending backfills are canceled, history stays."""
    ids = list(pipeline_ids)
    if not ids:
        return
    conn.execute(
        """UPDATE pipelines SET deleted_at = ?, updated_at = ?
           WHERE deleted_at IS NULL AND pipeline_id IN (SELECT unnest(?::VARCHAR[]))""",
        [naive(now), naive(now), ids],
    )
    cancel_backfills(conn, ids, now)


def applied_configs(conn: Connection) -> dict[str, str]:
    """``config_json`` of each active pipeline: equal text means nothing to sync."""
    rows = conn.execute(
        "SELECT pipeline_id, config_json FROM pipelines WHERE deleted_at IS NULL"
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def active_pipeline_ids(conn: Connection) -> set[str]:
    rows = conn.execute("SELECT pipeline_id FROM pipelines WHERE deleted_at IS NULL").fetchall()
    return {r[0] for r in rows}


def add_request(
    conn: Connection, pipeline_id: str, request: BackfillRequest, now: datetime
) -> None:
    if conn.execute(
        "SELECT 1 FROM backfill_requests WHERE pipeline_id = ? AND request_id = ?",
        [pipeline_id, request.id],
    ).fetchone():
        raise StateError(f"backfill request {request.id!r} already exists for {pipeline_id}")
    conn.execute(
        "INSERT INTO backfill_requests VALUES (?, ?, ?, ?, ?, ?, ?, 'cli')",
        [
            request.id,
            pipeline_id,
            request.start,
            request.end,
            request.priority,
            request.reason,
            naive(now),
        ],
    )


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


def sla_time_value(text: str | None) -> time | None:
    if text is None:
        return None
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
