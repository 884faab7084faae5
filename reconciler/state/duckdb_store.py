"""The DuckDB state store: everything ``apply``, ``plan`` and ``status`` read and write."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any

from reconciler.core.coverage import Failed, InFlight, Observed, PipelineObserved
from reconciler.core.intervals import DateRange, merge
from reconciler.core.spec import BackfillRequest
from reconciler.errors import StateError
from reconciler.state.connection import Connection, checkpoint, naive, reading, utc
from reconciler.state.coverage_rows import set_coverage
from reconciler.state.records import Batch, HistoryRow, Outcome, RunIntent, run_row_id


class DuckDBStore:
    """A state file; every method opens the file for one transaction only."""

    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def open_read_only(cls, path: str) -> DuckDBStore:
        return cls(path)

    def close(self) -> None:
        return None

    # --- reading --------------------------------------------------------------------

    def observe(self, pipeline_ids: Iterable[str]) -> Observed:
        """The compact state of the given pipelines, as the planner reads it."""
        ids = list(pipeline_ids)
        with reading(self.path) as conn:
            return observe(conn, ids)

    def requests(self, pipeline_ids: Iterable[str]) -> dict[str, tuple[BackfillRequest, ...]]:
        """Ad-hoc backfill requests (``reconciler backfill``), per pipeline."""
        ids = list(pipeline_ids)
        with reading(self.path) as conn:
            return adhoc_requests(conn, ids)

    def in_flight(self) -> list[Batch]:
        with reading(self.path) as conn:
            return in_flight_batches(conn)

    def history(self, pipeline_id: str, limit: int) -> list[HistoryRow]:
        with reading(self.path) as conn:
            rows = conn.execute(
                """SELECT run_id, batch_id, run_date, status, attempt, kind, request_id,
                          start_time, end_time, error_message, sla_met
                   FROM pipeline_run_log WHERE pipeline_id = ?
                   ORDER BY coalesce(start_time, created_at) DESC, run_date DESC LIMIT ?""",
                [pipeline_id, limit],
            ).fetchall()
        return [
            HistoryRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], utc(r[7]), utc(r[8]), r[9], r[10])
            for r in rows
        ]

    def checkpoint(self) -> None:
        checkpoint(self.path)


def _ranges_by_pipeline(rows: Sequence[tuple[Any, ...]]) -> dict[str, list[DateRange]]:
    out: dict[str, list[DateRange]] = {}
    for pipeline_id, start, end in rows:
        out.setdefault(pipeline_id, []).append((start, end))
    return out


def observe(conn: Connection, ids: list[str]) -> Observed:
    """Read coverage, open dates, request progress, SLA and applied config."""
    if not ids:
        return Observed()
    conn.execute("CREATE OR REPLACE TEMP TABLE wanted (pipeline_id VARCHAR PRIMARY KEY)")
    conn.executemany("INSERT INTO wanted VALUES (?)", [[i] for i in ids])
    covered = _ranges_by_pipeline(
        conn.execute(
            """SELECT c.pipeline_id, range_start, range_end FROM coverage c
               JOIN wanted USING (pipeline_id) ORDER BY c.pipeline_id, range_start"""
        ).fetchall()
    )
    failed: dict[str, dict[date, Failed]] = {}
    flying: dict[str, dict[date, InFlight]] = {}
    for pid, day, status, attempt, batch_id, request_id, started, ended in conn.execute(
        """SELECT o.pipeline_id, run_date, status, attempt, batch_id, request_id, started_at,
                  ended_at FROM open_dates o JOIN wanted USING (pipeline_id)"""
    ).fetchall():
        if status == "failed":
            ended_at = utc(ended) or utc(started)
            assert ended_at is not None
            failed.setdefault(pid, {})[day] = Failed(attempt, ended_at, request_id, batch_id)
        else:
            flying.setdefault(pid, {})[day] = InFlight(batch_id, attempt, request_id, utc(started))
    done: dict[str, dict[str, list[DateRange]]] = {}
    for pid, request_id, start, end in conn.execute(
        """SELECT pipeline_id, request_id, min(d), max(d) FROM (
               SELECT q.pipeline_id, request_id, date_to_process AS d,
                      date_to_process - CAST(row_number() OVER (
                          PARTITION BY q.pipeline_id, request_id ORDER BY date_to_process)
                          AS INTEGER) AS island
               FROM backfill_queue q JOIN wanted USING (pipeline_id)
               WHERE request_id IS NOT NULL AND status <> 'pending')
           GROUP BY pipeline_id, request_id, island"""
    ).fetchall():
        done.setdefault(pid, {}).setdefault(request_id, []).append((start, end))
    recorded: dict[str, set[date]] = {}
    for pid, day in conn.execute(
        "SELECT s.pipeline_id, run_date FROM sla_breaches s JOIN wanted USING (pipeline_id)"
    ).fetchall():
        recorded.setdefault(pid, set()).add(day)
    applied: dict[str, dict[str, object]] = {}
    deleted: set[str] = set()
    since: dict[str, datetime | None] = {}
    for pid, config_json, created, deleted_at in conn.execute(
        "SELECT pipeline_id, config_json, created_at, deleted_at FROM pipelines"
    ).fetchall():
        applied[pid] = json.loads(config_json) if config_json else {}
        since[pid] = utc(created)
        if deleted_at is not None:
            deleted.add(pid)
    pipelines = {
        pid: PipelineObserved(
            covered=tuple(covered.get(pid, ())),
            failed=failed.get(pid, {}),
            in_flight=flying.get(pid, {}),
            request_done={r: merge(v) for r, v in done.get(pid, {}).items()},
            sla_since=since.get(pid) if pid not in deleted else None,
            sla_recorded=frozenset(recorded.get(pid, ())),
        )
        for pid in ids
    }
    return Observed(pipelines, applied, frozenset(deleted))


def adhoc_requests(conn: Connection, ids: list[str]) -> dict[str, tuple[BackfillRequest, ...]]:
    out: dict[str, list[BackfillRequest]] = {}
    for pid, rid, start, end, priority, reason in conn.execute(
        """SELECT pipeline_id, request_id, date_from, date_to, priority, reason
           FROM backfill_requests ORDER BY requested_at"""
    ).fetchall():
        if pid in ids:
            out.setdefault(pid, []).append(BackfillRequest(rid, start, end, priority, reason or ""))
    return {k: tuple(v) for k, v in out.items()}


def in_flight_batches(conn: Connection) -> list[Batch]:
    rows = conn.execute(
        """SELECT batch_id, any_value(pipeline_id), list(run_date ORDER BY run_date),
                  any_value(status), any_value(attempt), any_value(kind), any_value(request_id),
                  any_value(platform), any_value(platform_run_id), min(start_time)
           FROM pipeline_run_log WHERE status IN ('pending', 'running')
           GROUP BY batch_id ORDER BY min(created_at), batch_id"""
    ).fetchall()
    return [
        Batch(r[0], r[1], tuple(r[2]), r[3], r[4], r[5], r[6], r[7], r[8], utc(r[9])) for r in rows
    ]


# --- writing (each called inside ``transaction``) ------------------------------------


def record_intents(conn: Connection, intents: Sequence[RunIntent], now: datetime) -> list[str]:
    """Write runs as ``pending`` before anything is started; returns the batch ids written.

    A batch id already in the log is skipped: the same work is never recorded twice.
    """
    written: list[str] = []
    stamp = naive(now)
    for intent in intents:
        exists = conn.execute(
            "SELECT 1 FROM pipeline_run_log WHERE batch_id = ? LIMIT 1", [intent.batch_id]
        ).fetchone()
        if exists:
            continue
        is_backfill = intent.kind == "backfill" or intent.request_id is not None
        for day in intent.dates:
            backfill_id = None
            if is_backfill:
                backfill_id = f"{intent.pipeline_id}:{intent.request_id or 'auto'}:{day}"
                conn.execute(
                    """INSERT INTO backfill_queue (backfill_id, pipeline_id, date_to_process,
                           status, retry_attempts, priority, requested_at, request_id,
                           batch_id, updated_at)
                       VALUES (?, ?, ?, 'in_progress', ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (backfill_id) DO UPDATE SET status = 'in_progress',
                           retry_attempts = excluded.retry_attempts,
                           batch_id = excluded.batch_id, updated_at = excluded.updated_at""",
                    [
                        backfill_id,
                        intent.pipeline_id,
                        day,
                        intent.attempt - 1,
                        intent.priority,
                        stamp,
                        intent.request_id,
                        intent.batch_id,
                        stamp,
                    ],
                )
            conn.execute(
                """INSERT INTO pipeline_run_log (run_id, pipeline_id, run_date, status,
                       retry_attempts, retry_schedule_used, is_backfill, backfill_id, batch_id,
                       attempt, kind, request_id, platform, created_at)
                   VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    run_row_id(intent.batch_id, day),
                    intent.pipeline_id,
                    day,
                    intent.attempt - 1,
                    intent.retry_schedule if intent.attempt > 1 else None,
                    is_backfill,
                    backfill_id,
                    intent.batch_id,
                    intent.attempt,
                    intent.kind,
                    intent.request_id,
                    intent.platform,
                    stamp,
                ],
            )
            conn.execute(
                """INSERT INTO open_dates VALUES (?, ?, 'pending', ?, ?, ?, NULL, NULL)
                   ON CONFLICT (pipeline_id, run_date) DO UPDATE SET status = 'pending',
                       attempt = excluded.attempt, batch_id = excluded.batch_id,
                       request_id = excluded.request_id, started_at = NULL, ended_at = NULL""",
                [intent.pipeline_id, day, intent.attempt, intent.batch_id, intent.request_id],
            )
        written.append(intent.batch_id)
    return written


def mark_running(conn: Connection, batch_id: str, platform_run_id: str, started: datetime) -> None:
    """The platform accepted the run: remember its id before anything else can fail."""
    conn.execute(
        """UPDATE pipeline_run_log SET status = 'running', platform_run_id = ?,
               start_time = coalesce(start_time, ?)
           WHERE batch_id = ? AND status IN ('pending', 'running')""",
        [platform_run_id, naive(started), batch_id],
    )
    conn.execute(
        """UPDATE open_dates SET status = 'running', started_at = coalesce(started_at, ?)
           WHERE batch_id = ? AND status IN ('pending', 'running')""",
        [naive(started), batch_id],
    )


def record_outcome(
    conn: Connection,
    batch: Batch,
    outcome: Outcome,
    sla_deadlines: dict[date, datetime] | None = None,
) -> None:
    """A run finished: update its rows, coverage, open dates and the backfill queue."""
    status = "success" if outcome.success else "failed"
    ended = naive(outcome.ended_at)
    for day in batch.dates:
        deadline = (sla_deadlines or {}).get(day)
        sla_met = None if deadline is None or not outcome.success else outcome.ended_at <= deadline
        conn.execute(
            """UPDATE pipeline_run_log SET status = ?, end_time = ?, error_message = ?,
                   sla_met = ?, platform_run_id = coalesce(platform_run_id, ?),
                   start_time = coalesce(start_time, ?)
               WHERE run_id = ? AND status IN ('pending', 'running')""",
            [
                status,
                ended,
                outcome.error,
                sla_met,
                outcome.platform_run_id,
                ended,
                run_row_id(batch.batch_id, day),
            ],
        )
    if outcome.success:
        conn.execute(
            "DELETE FROM open_dates WHERE pipeline_id = ? AND batch_id = ?",
            [batch.pipeline_id, batch.batch_id],
        )
        set_coverage(conn, batch.pipeline_id, add=batch.dates, remove=())
    else:
        conn.execute(
            """UPDATE open_dates SET status = 'failed', ended_at = ?
               WHERE pipeline_id = ? AND batch_id = ?""",
            [ended, batch.pipeline_id, batch.batch_id],
        )
        set_coverage(conn, batch.pipeline_id, add=(), remove=batch.dates)
    conn.execute(
        "UPDATE backfill_queue SET status = ?, updated_at = ? WHERE batch_id = ?",
        ["done" if outcome.success else "failed", ended, batch.batch_id],
    )


def sync_pipeline(
    conn: Connection, row: dict[str, Any], parameters: dict[str, str], now: datetime
) -> str:
    """Upsert one pipeline's config row and parameters; returns create/update/unchanged."""
    existing = conn.execute(
        "SELECT config_json, deleted_at FROM pipelines WHERE pipeline_id = ?", [row["pipeline_id"]]
    ).fetchone()
    stamp = naive(now)
    columns = list(row)
    if existing is None:
        names = ", ".join([*columns, "created_at", "updated_at"])
        marks = ", ".join(["?"] * (len(columns) + 2))
        conn.execute(
            f"INSERT INTO pipelines ({names}) VALUES ({marks})", [*row.values(), stamp, stamp]
        )
        change = "create"
    elif existing[0] == row["config_json"] and existing[1] is None:
        return "unchanged"
    else:
        sets = ", ".join(f"{c} = ?" for c in columns[1:])
        conn.execute(
            f"UPDATE pipelines SET {sets}, updated_at = ?, deleted_at = NULL WHERE pipeline_id = ?",
            [*list(row.values())[1:], stamp, row["pipeline_id"]],
        )
        change = "update" if existing[1] is None else "create"
    conn.execute("DELETE FROM pipeline_parameters WHERE pipeline_id = ?", [row["pipeline_id"]])
    for name, value in parameters.items():
        conn.execute(
            "INSERT INTO pipeline_parameters VALUES (?, ?, ?, ?, ?)",
            [f"{row['pipeline_id']}:{name}", row["pipeline_id"], name, value, stamp],
        )
    return change


def mark_deleted(conn: Connection, pipeline_ids: Iterable[str], now: datetime) -> None:
    """A removed file stops its pipeline; its history stays."""
    for pid in pipeline_ids:
        conn.execute(
            "UPDATE pipelines SET deleted_at = ?, updated_at = ? WHERE pipeline_id = ?",
            [naive(now), naive(now), pid],
        )


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
