"""The DuckDB state store: everything ``apply``, ``plan`` and ``status`` read and write."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from typing import Any, TypeVar

from reconciler.core.coverage import Failed, InFlight, Observed, PipelineObserved
from reconciler.core.intervals import DateRange, merge
from reconciler.core.spec import BackfillRequest
from reconciler.errors import StateError
from reconciler.state.connection import (
    Connection,
    checkpoint,
    current_version,
    naive,
    reading,
    transaction,
    utc,
)
from reconciler.state.coverage_rows import set_coverage
from reconciler.state.records import (
    Batch,
    HistoryRow,
    Outcome,
    QueueRow,
    RunIntent,
    run_row_id,
)

T = TypeVar("T")


class DuckDBStore:
    """A state file; every method opens the file for one transaction only."""

    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def open_read_only(cls, path: str) -> DuckDBStore:
        return cls(path)

    def close(self) -> None:
        return None

    def _read(self, query: Callable[[Connection], T], empty: T) -> T:
        """Run ``query`` on a read-only view; an empty (never migrated) file reads as empty."""
        with reading(self.path) as conn:
            if current_version(conn) is None:
                return empty
            return query(conn)

    # --- reading --------------------------------------------------------------------

    def observe(self, pipeline_ids: Iterable[str]) -> Observed:
        """The compact state of the given pipelines, as the planner reads it."""
        ids = list(pipeline_ids)
        return self._read(lambda conn: observe(conn, ids), Observed())

    def requests(self, pipeline_ids: Iterable[str]) -> dict[str, tuple[BackfillRequest, ...]]:
        """Ad-hoc backfill requests (``reconciler backfill``), per pipeline."""
        ids = list(pipeline_ids)
        return self._read(lambda conn: adhoc_requests(conn, ids), {})

    def in_flight(self) -> list[Batch]:
        return self._read(in_flight_batches, [])

    def history(self, pipeline_id: str, limit: int) -> list[HistoryRow]:
        return self._read(lambda conn: history(conn, pipeline_id, limit), [])

    def backfill_queue(self, pipeline_id: str) -> list[QueueRow]:
        return self._read(lambda conn: backfill_queue(conn, pipeline_id), [])

    @contextmanager
    def write(self) -> Iterator[DuckDBWriter]:
        """One read-write transaction, committed when the block ends without error."""
        with transaction(self.path) as conn:
            yield DuckDBWriter(conn)

    def checkpoint(self) -> None:
        checkpoint(self.path)


class DuckDBWriter:
    """``StoreWriter`` over an open DuckDB transaction (the module functions, bound)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def sync_pipelines(
        self, items: Sequence[tuple[dict[str, Any], dict[str, str]]], now: datetime
    ) -> dict[str, str]:
        return sync_pipelines(self.conn, items, now)

    def mark_deleted(self, pipeline_ids: Iterable[str], now: datetime) -> None:
        mark_deleted(self.conn, pipeline_ids, now)

    def active_pipeline_ids(self) -> set[str]:
        return active_pipeline_ids(self.conn)

    def add_request(self, pipeline_id: str, request: BackfillRequest, now: datetime) -> None:
        add_request(self.conn, pipeline_id, request, now)

    def enqueue_backfills(self, intents: Sequence[RunIntent], now: datetime) -> int:
        return enqueue_backfills(self.conn, intents, now)

    def record_intents(self, intents: Sequence[RunIntent], now: datetime) -> list[str]:
        return record_intents(self.conn, intents, now)

    def mark_running(self, items: Sequence[tuple[str, str, datetime]]) -> None:
        mark_running_many(self.conn, items)

    def record_outcomes(self, items: Sequence[tuple[Batch, Outcome, dict[date, datetime]]]) -> int:
        return record_outcomes(self.conn, items)

    def record_breaches(
        self, pipeline_id: str, breaches: Iterable[tuple[date, datetime]], now: datetime
    ) -> list[date]:
        return record_breaches(self.conn, pipeline_id, breaches, now)


def backfill_queue(conn: Connection, pipeline_id: str) -> list[QueueRow]:
    """A pipeline's ``backfill_queue`` rows, by date."""
    rows = conn.execute(
        """SELECT backfill_id, pipeline_id, date_to_process, status, retry_attempts, priority,
                  request_id, batch_id
           FROM backfill_queue WHERE pipeline_id = ? ORDER BY date_to_process, backfill_id""",
        [pipeline_id],
    ).fetchall()
    return [QueueRow(*r) for r in rows]


def history(conn: Connection, pipeline_id: str, limit: int) -> list[HistoryRow]:
    """The runs of a pipeline, newest first (one row per date per attempt)."""
    rows = conn.execute(
        """SELECT run_id, batch_id, run_date, status, attempt, kind, request_id,
                  start_time, end_time, error_message, sla_met, platform_run_id
           FROM pipeline_run_log WHERE pipeline_id = ?
           ORDER BY coalesce(start_time, created_at) DESC, created_at DESC, run_date DESC,
                    attempt DESC
           LIMIT ?""",
        [pipeline_id, limit],
    ).fetchall()
    return [
        HistoryRow(
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], utc(r[7]), utc(r[8]), r[9], r[10], r[11]
        )
        for r in rows
    ]


def _ranges_by_pipeline(rows: Sequence[tuple[Any, ...]]) -> dict[str, list[DateRange]]:
    out: dict[str, list[DateRange]] = {}
    for pipeline_id, start, end in rows:
        out.setdefault(pipeline_id, []).append((start, end))
    return out


def observe(conn: Connection, ids: list[str]) -> Observed:
    """Read coverage, open dates, request progress, SLA and applied config."""
    if not ids:
        return Observed()
    # one list parameter: executemany of 10k single rows takes seconds, this milliseconds
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE wanted AS "
        "SELECT DISTINCT unnest(?::VARCHAR[]) AS pipeline_id",
        [ids],
    )
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
    """Batches whose rows are pending or running, oldest first."""
    if not conn.execute(
        "SELECT 1 FROM open_dates WHERE status IN ('pending', 'running') LIMIT 1"
    ).fetchone():
        return []
    rows = conn.execute(
        # open_dates names the batches in flight without scanning the whole log
        """SELECT batch_id, any_value(pipeline_id), list(run_date ORDER BY run_date),
                  max(status), any_value(attempt), any_value(kind), any_value(request_id),
                  any_value(platform), max(platform_run_id), min(start_time)
           FROM pipeline_run_log
           WHERE status IN ('pending', 'running') AND batch_id IN (
               SELECT DISTINCT batch_id FROM open_dates WHERE status IN ('pending', 'running'))
           GROUP BY batch_id ORDER BY min(created_at), batch_id"""
    ).fetchall()
    return [
        Batch(r[0], r[1], tuple(r[2]), r[3], r[4], r[5], r[6], r[7], r[8], utc(r[9])) for r in rows
    ]


# --- writing (each called inside ``transaction``) ------------------------------------


def _ids(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def queue_id(pipeline_id: str, request_id: str | None, day: date) -> str:
    """The ``backfill_queue`` row of one date for one request (``auto`` without one)."""
    return f"{pipeline_id}:{request_id or 'auto'}:{day.isoformat()}"


def enqueue_backfills(conn: Connection, intents: Sequence[RunIntent], now: datetime) -> int:
    """Backfill dates a pass is about to start, as ``pending`` queue rows; returns how many.

    A date already queued keeps its row (an ``in_progress`` one is left alone; a finished
    one is queued again).
    """
    rows = [
        (queue_id(i.pipeline_id, i.request_id, d), i.pipeline_id, d, i.attempt - 1, i.priority)
        for i in intents
        if i.kind == "backfill"
        for d in i.dates
    ]
    if not rows:
        return 0
    ids, pids, days, tries, priorities = (list(c) for c in zip(*rows, strict=True))
    requests = [i.request_id for i in intents if i.kind == "backfill" for _ in i.dates]
    stamp = naive(now)
    conn.execute(
        """INSERT INTO backfill_queue (backfill_id, pipeline_id, date_to_process, status,
               retry_attempts, priority, requested_at, request_id, batch_id, updated_at)
           SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::DATE[]), 'pending',
                  unnest(?::INTEGER[]), unnest(?::INTEGER[]), ?, unnest(?::VARCHAR[]), NULL, ?
           ON CONFLICT (backfill_id) DO UPDATE SET status = 'pending',
               retry_attempts = excluded.retry_attempts, priority = excluded.priority,
               updated_at = excluded.updated_at
           WHERE backfill_queue.status NOT IN ('pending', 'in_progress')""",
        [ids, pids, days, tries, priorities, stamp, requests, stamp],
    )
    return len(rows)


def cancel_backfills(conn: Connection, pipeline_ids: Sequence[str], now: datetime) -> None:
    """Pending backfills of stopped pipelines are canceled."""
    if pipeline_ids:
        conn.execute(
            """UPDATE backfill_queue SET status = 'canceled', updated_at = ?
               WHERE status = 'pending' AND pipeline_id IN (SELECT unnest(?::VARCHAR[]))""",
            [naive(now), list(pipeline_ids)],
        )


def record_intents(conn: Connection, intents: Sequence[RunIntent], now: datetime) -> list[str]:
    """Write runs as ``pending`` before anything is started; returns the batch ids written.

    A batch id already in the log is skipped: the same work is never recorded twice.
    Backfills (and retries of backfilled dates) move their queue rows to ``in_progress``.
    """
    if not intents:
        return []
    known = {
        r[0]
        for r in conn.execute(
            """SELECT DISTINCT batch_id FROM pipeline_run_log
               WHERE batch_id IN (SELECT unnest(?::VARCHAR[]))""",
            [_ids(i.batch_id for i in intents)],
        ).fetchall()
    }
    fresh: list[RunIntent] = []
    for intent in intents:
        if intent.batch_id not in known:
            known.add(intent.batch_id)
            fresh.append(intent)
    if not fresh:
        return []
    # a retry of a backfilled date stays a backfill: its queue row follows it
    retry_ids = [
        queue_id(i.pipeline_id, i.request_id, d)
        for i in fresh
        if i.kind == "retry"
        for d in i.dates
    ]
    queued = (
        {
            r[0]
            for r in conn.execute(
                """SELECT backfill_id FROM backfill_queue
                   WHERE backfill_id IN (SELECT unnest(?::VARCHAR[]))""",
                [retry_ids],
            ).fetchall()
        }
        if retry_ids
        else set()
    )
    stamp = naive(now)
    log: list[tuple[Any, ...]] = []
    queue: list[tuple[Any, ...]] = []
    for intent in fresh:
        for day in intent.dates:
            qid = queue_id(intent.pipeline_id, intent.request_id, day)
            is_backfill = (
                intent.kind == "backfill" or intent.request_id is not None or qid in queued
            )
            backfill_id = qid if is_backfill else None
            if is_backfill:
                queue.append(
                    (
                        qid,
                        intent.pipeline_id,
                        day,
                        intent.attempt - 1,
                        intent.priority,
                        intent.request_id,
                        intent.batch_id,
                    )
                )
            log.append(
                (
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
                )
            )
    if queue:
        columns = [list(c) for c in zip(*queue, strict=True)]
        conn.execute(
            """INSERT INTO backfill_queue (backfill_id, pipeline_id, date_to_process, status,
                   retry_attempts, priority, requested_at, request_id, batch_id, updated_at)
               SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::DATE[]),
                      'in_progress', unnest(?::INTEGER[]), unnest(?::INTEGER[]), ?,
                      unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), ?
               ON CONFLICT (backfill_id) DO UPDATE SET status = 'in_progress',
                   retry_attempts = excluded.retry_attempts, priority = excluded.priority,
                   batch_id = excluded.batch_id, updated_at = excluded.updated_at""",
            [*columns[:5], stamp, *columns[5:], stamp],
        )
    columns = [list(c) for c in zip(*log, strict=True)]
    conn.execute(
        """INSERT INTO pipeline_run_log (run_id, pipeline_id, run_date, status, retry_attempts,
               retry_schedule_used, is_backfill, backfill_id, batch_id, attempt, kind,
               request_id, platform, created_at)
           SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::DATE[]), 'pending',
                  unnest(?::INTEGER[]), unnest(?::VARCHAR[]), unnest(?::BOOLEAN[]),
                  unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::INTEGER[]),
                  unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), ?""",
        [*columns, stamp],
    )
    # the newest attempt of each date decides: these dates are now in flight
    pids, days, attempts, batches, requests = (
        columns[1],
        columns[2],
        columns[8],
        columns[7],
        columns[10],
    )
    conn.execute(
        """INSERT INTO open_dates (pipeline_id, run_date, status, attempt, batch_id, request_id,
               started_at, ended_at)
           SELECT unnest(?::VARCHAR[]), unnest(?::DATE[]), 'pending', unnest(?::INTEGER[]),
                  unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), NULL, NULL
           ON CONFLICT (pipeline_id, run_date) DO UPDATE SET status = 'pending',
               attempt = excluded.attempt, batch_id = excluded.batch_id,
               request_id = excluded.request_id, started_at = NULL, ended_at = NULL""",
        [pids, days, attempts, batches, requests],
    )
    return [i.batch_id for i in fresh]


def mark_running(conn: Connection, batch_id: str, platform_run_id: str, started: datetime) -> None:
    """The platform accepted the run: remember its id before anything else can fail."""
    mark_running_many(conn, [(batch_id, platform_run_id, started)])


def mark_running_many(conn: Connection, items: Sequence[tuple[str, str, datetime]]) -> None:
    """``mark_running`` for several batches: (batch id, platform run id, started at)."""
    if not items:
        return
    batches = [i[0] for i in items]
    run_ids = [i[1] for i in items]
    starts = [naive(i[2]) for i in items]
    values = """(SELECT unnest(?::VARCHAR[]) AS batch_id, unnest(?::VARCHAR[]) AS prid,
                        unnest(?::TIMESTAMP[]) AS started) v"""
    conn.execute(
        f"""UPDATE pipeline_run_log SET status = 'running', platform_run_id = v.prid,
               start_time = coalesce(start_time, v.started)
           FROM {values}
           WHERE pipeline_run_log.batch_id = v.batch_id
             AND pipeline_run_log.status IN ('pending', 'running')""",
        [batches, run_ids, starts],
    )
    conn.execute(
        f"""UPDATE open_dates SET status = 'running',
               started_at = coalesce(started_at, v.started)
           FROM {values}
           WHERE open_dates.batch_id = v.batch_id
             AND open_dates.status IN ('pending', 'running')""",
        [batches, run_ids, starts],
    )


def record_outcome(
    conn: Connection,
    batch: Batch,
    outcome: Outcome,
    sla_deadlines: dict[date, datetime] | None = None,
) -> None:
    """A run finished: update its rows, coverage, open dates and the backfill queue."""
    record_outcomes(conn, [(batch, outcome, sla_deadlines or {})])


def record_outcomes(
    conn: Connection, items: Sequence[tuple[Batch, Outcome, dict[date, datetime]]]
) -> int:
    """Several runs finished; a batch that is no longer in flight is left alone.

    Returns the number of batches recorded (so recording twice changes nothing).
    """
    if not items:
        return 0
    rows: list[tuple[Any, ...]] = []
    for batch, outcome, deadlines in items:
        status = "success" if outcome.success else "failed"
        for day in batch.dates:
            deadline = deadlines.get(day)
            met = None if deadline is None or not outcome.success else outcome.ended_at <= deadline
            rows.append(
                (
                    run_row_id(batch.batch_id, day),
                    status,
                    naive(outcome.ended_at),
                    outcome.error,
                    met,
                    outcome.platform_run_id,
                    naive(batch.started_at),
                )
            )
    conn.execute(
        """UPDATE pipeline_run_log SET status = v.status, end_time = v.ended,
               error_message = v.error, sla_met = v.met,
               platform_run_id = coalesce(pipeline_run_log.platform_run_id, v.prid),
               start_time = coalesce(pipeline_run_log.start_time, v.started, v.ended)
           FROM (SELECT unnest(?::VARCHAR[]) AS run_id, unnest(?::VARCHAR[]) AS status,
                        unnest(?::TIMESTAMP[]) AS ended, unnest(?::VARCHAR[]) AS error,
                        unnest(?::BOOLEAN[]) AS met, unnest(?::VARCHAR[]) AS prid,
                        unnest(?::TIMESTAMP[]) AS started) v
           WHERE pipeline_run_log.run_id = v.run_id
             AND pipeline_run_log.status IN ('pending', 'running')
           RETURNING pipeline_run_log.batch_id""",
        [list(c) for c in zip(*rows, strict=True)],
    )
    # only the batches that were still in flight count (recording twice changes nothing)
    live = {r[0] for r in conn.fetchall()}
    todo = [(b, o, d) for b, o, d in items if b.batch_id in live]
    if not todo:
        return 0
    done = [b.batch_id for b, o, _ in todo if o.success]
    failed = [(b.batch_id, naive(o.ended_at)) for b, o, _ in todo if not o.success]
    if done:
        conn.execute(
            "DELETE FROM open_dates WHERE batch_id IN (SELECT unnest(?::VARCHAR[]))", [done]
        )
    if failed:
        conn.execute(
            """UPDATE open_dates SET status = 'failed', ended_at = v.ended
               FROM (SELECT unnest(?::VARCHAR[]) AS batch_id,
                            unnest(?::TIMESTAMP[]) AS ended) v
               WHERE open_dates.batch_id = v.batch_id""",
            [[f[0] for f in failed], [f[1] for f in failed]],
        )
    changes: dict[str, tuple[list[date], list[date]]] = {}
    for batch, outcome, _ in todo:
        add, remove = changes.setdefault(batch.pipeline_id, ([], []))
        (add if outcome.success else remove).extend(batch.dates)
    for pipeline_id, (add, remove) in changes.items():
        set_coverage(conn, pipeline_id, add=add, remove=remove)
    conn.execute(
        """UPDATE backfill_queue SET status = v.status, updated_at = v.ended
           FROM (SELECT unnest(?::VARCHAR[]) AS batch_id, unnest(?::VARCHAR[]) AS status,
                        unnest(?::TIMESTAMP[]) AS ended) v
           WHERE backfill_queue.batch_id = v.batch_id""",
        [
            [b.batch_id for b, _, _ in todo],
            ["done" if o.success else "failed" for _, o, _ in todo],
            [naive(o.ended_at) for _, o, _ in todo],
        ],
    )
    return len(todo)


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
    existing = {
        r[0]: (r[1], r[2])
        for r in conn.execute(
            "SELECT pipeline_id, config_json, deleted_at FROM pipelines"
        ).fetchall()
    }
    stamp = naive(now)
    changes: dict[str, str] = {}
    for row, parameters in items:
        pid = row["pipeline_id"]
        old = existing.get(pid)
        columns = list(row)
        if old is None:
            names = ", ".join([*columns, "created_at", "updated_at"])
            marks = ", ".join(["?"] * (len(columns) + 2))
            conn.execute(
                f"INSERT INTO pipelines ({names}) VALUES ({marks})", [*row.values(), stamp, stamp]
            )
            changes[pid] = "create"
        elif old[0] == row["config_json"] and old[1] is None:
            continue
        else:
            sets = ", ".join(f"{c} = ?" for c in columns[1:])
            conn.execute(
                f"UPDATE pipelines SET {sets}, updated_at = ?, deleted_at = NULL "
                "WHERE pipeline_id = ?",
                [*list(row.values())[1:], stamp, pid],
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
