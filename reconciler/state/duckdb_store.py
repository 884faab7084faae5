"""The DuckDB state store: everything ``apply``, ``plan`` and ``status`` read and write.

Reading lives here; the writing functions live in ``run_writes`` and ``config_writes``
and are re-exported, so ``from reconciler.state import duckdb_store as db`` reaches all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar

from reconciler.core.batches import Batch, Outcome, RunIntent
from reconciler.core.coverage import (
    NO_FAILURES,
    InFlight,
    Observed,
    PipelineObserved,
    Retried,
)
from reconciler.core.intervals import DateRange, DayRanges, merge
from reconciler.core.spec import BackfillRequest
from reconciler.state import notification_rows
from reconciler.state.applied import AppliedConfigs
from reconciler.state.config_writes import (
    active_pipeline_ids,
    add_request,
    applied_configs,
    mark_deleted,
    record_breaches,
    sla_time_value,
    sync_pipeline,
    sync_pipelines,
)
from reconciler.state.connection import (
    Connection,
    checkpoint,
    current_version,
    dialect,
    reading,
    transaction,
    utc,
)
from reconciler.state.failed_reads import failed_dates
from reconciler.state.notification_rows import NotificationRow, NotificationStatus
from reconciler.state.records import HistoryRow, QueueRow
from reconciler.state.run_writes import (
    cancel_backfills,
    enqueue_backfills,
    mark_running,
    mark_running_many,
    queue_id,
    record_intents,
    record_outcome,
    record_outcomes,
)

__all__ = [
    "DuckDBStore",
    "DuckDBWriter",
    "active_pipeline_ids",
    "add_request",
    "applied_configs",
    "cancel_backfills",
    "enqueue_backfills",
    "mark_deleted",
    "mark_running",
    "mark_running_many",
    "queue_id",
    "record_breaches",
    "record_intents",
    "record_outcome",
    "record_outcomes",
    "sla_time_value",
    "sync_pipeline",
    "sync_pipelines",
]

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

    def observe(self, pipeline_ids: Iterable[str], retried: Retried = None) -> Observed:
        """The compact state of the given pipelines, as the planner reads it."""
        ids = list(pipeline_ids)
        return self._read(lambda conn: observe(conn, ids, retried), Observed())

    def plan_inputs(
        self, pipeline_ids: Iterable[str], retried: Retried = None
    ) -> tuple[Observed, dict[str, tuple[BackfillRequest, ...]]]:
        """``observe`` and the ad-hoc backfill requests (``reconciler backfill``) per
        pipeline, in one read (opening the file costs ~15 ms)."""
        ids = list(pipeline_ids)
        nothing: dict[str, tuple[BackfillRequest, ...]] = {}
        return self._read(
            lambda conn: (observe(conn, ids, retried), adhoc_requests(conn, ids)),
            (Observed(), nothing),
        )

    def in_flight(self) -> list[Batch]:
        return self._read(in_flight_batches, [])

    def history(self, pipeline_id: str, limit: int) -> list[HistoryRow]:
        return self._read(lambda conn: history(conn, pipeline_id, limit), [])

    def backfill_queue(self, pipeline_id: str) -> list[QueueRow]:
        return self._read(lambda conn: backfill_queue(conn, pipeline_id), [])

    def notifications(
        self, status: NotificationStatus, pipeline_ids: Sequence[str] | None = None
    ) -> list[NotificationRow]:
        """Notifications with ``status`` (``pending``, ``sent``, ``failed``), oldest first."""
        ids = None if pipeline_ids is None else list(pipeline_ids)
        return self._read(lambda conn: notification_rows.listed(conn, status, ids), [])

    def failed_notifications(
        self, pipeline_ids: Sequence[str] | None = None
    ) -> list[NotificationRow]:
        """Notifications that will not be sent (a permanent refusal, or given up on)."""
        return self.notifications("failed", pipeline_ids)

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


def history(conn: Connection, pipeline_id: str, limit: int) -> list[HistoryRow]:
    """The runs of a pipeline, newest first (one row per date per attempt)."""
    rows = conn.execute(
        """SELECT run_id, batch_id, run_date, status, attempt, kind, request_id,
                  start_time, end_time, error_message, sla_met, platform_run_id
           FROM pipeline_run_log WHERE pipeline_id = ?
           ORDER BY coalesce(start_time, created_at) DESC, run_date DESC, attempt DESC
           LIMIT ?""",
        [pipeline_id, limit],
    ).fetchall()
    return [
        HistoryRow(
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
        )
        for r in rows
    ]


NOTHING_COVERED = DayRanges()


def observe(conn: Connection, ids: list[str], retried: Retried = None) -> Observed:
    """Read coverage, open dates, request progress, SLA and applied config.

    The applied config is every stored pipeline's, whatever ``ids`` asks for: with no
    pipeline files at all, the plan must still see what it would delete. ``retried``:
    see ``failed_reads``.
    """
    below = [None if retried is None else retried.get(i) for i in ids]
    if not ids:
        texts, deleted = _applied(conn, {})
        return Observed({}, AppliedConfigs(texts), frozenset(deleted))
    # one list parameter: executemany of 10k single rows takes seconds, this milliseconds
    if dialect(conn) == "postgres":
        # (a read-only snapshot cannot create tables: the list goes with each query)
        wanted = (
            "(SELECT DISTINCT unnest(?::VARCHAR[]) AS pipeline_id,"
            " unnest(?::INTEGER[]) AS detail_below) wanted"
        )
        params = [ids, below]
    else:
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE wanted AS SELECT DISTINCT"
            " unnest(?::VARCHAR[]) AS pipeline_id, unnest(?::INTEGER[]) AS detail_below",
            [ids, below],
        )
        wanted, params = "wanted", []
    # day ordinals (days since 0001-01-01, plus one), one row of lists per pipeline:
    # ten years of scattered holes is 10^5 ranges, too many to build dates for
    covered = {
        pid: DayRanges.from_sorted(starts, ends)
        for pid, starts, ends in conn.execute(
            f"""SELECT c.pipeline_id,
                       array_agg(range_start - DATE '0001-01-01' + 1 ORDER BY range_start),
                       array_agg(range_end - DATE '0001-01-01' + 1 ORDER BY range_start)
                FROM coverage c JOIN {wanted} USING (pipeline_id) GROUP BY c.pipeline_id""",
            params,
        ).fetchall()
    }
    failed = failed_dates(conn, wanted, params)
    flying: dict[str, dict[date, InFlight]] = {}
    for pid, day, attempt, batch_id, request_id, started in conn.execute(
        f"""SELECT o.pipeline_id, run_date, attempt, batch_id, request_id, started_at
            FROM open_dates o JOIN {wanted} USING (pipeline_id) WHERE status <> 'failed'""",
        params,
    ).fetchall():
        flying.setdefault(pid, {})[day] = InFlight(
            run_id=batch_id, attempt=attempt, request_id=request_id, started_at=utc(started)
        )
    done: dict[str, dict[str, list[DateRange]]] = {}
    for pid, request_id, start, end in conn.execute(
        f"""SELECT pipeline_id, request_id, min(d), max(d) FROM (
                SELECT q.pipeline_id, request_id, date_to_process AS d,
                       date_to_process - CAST(row_number() OVER (
                           PARTITION BY q.pipeline_id, request_id ORDER BY date_to_process)
                           AS INTEGER) AS island
                FROM backfill_queue q JOIN {wanted} USING (pipeline_id)
                WHERE request_id IS NOT NULL AND status <> 'pending') AS islands
            GROUP BY pipeline_id, request_id, island""",
        params,
    ).fetchall():
        done.setdefault(pid, {}).setdefault(request_id, []).append((start, end))
    recorded: dict[str, set[date]] = {}
    for pid, day in conn.execute(
        f"SELECT s.pipeline_id, run_date FROM sla_breaches s JOIN {wanted} USING (pipeline_id)",
        params,
    ).fetchall():
        recorded.setdefault(pid, set()).add(day)
    since: dict[str, datetime | None] = {}
    texts, deleted = _applied(conn, since)
    pipelines = {
        pid: PipelineObserved(
            covered=covered.get(pid, NOTHING_COVERED),
            failed=failed.get(pid, NO_FAILURES),
            in_flight=flying.get(pid, {}),
            request_done={r: merge(v) for r, v in done.get(pid, {}).items()},
            sla_since=since.get(pid) if pid not in deleted else None,
            sla_recorded=frozenset(recorded.get(pid, ())),
        )
        for pid in ids
    }
    return Observed(pipelines, AppliedConfigs(texts), frozenset(deleted))


def _applied(
    conn: Connection, since: dict[str, datetime | None]
) -> tuple[dict[str, str | None], set[str]]:
    """Every pipeline's stored config text, the deleted ones; ``since``: SLA tracking starts."""
    texts: dict[str, str | None] = {}
    deleted: set[str] = set()
    for pid, config_json, sla_since, deleted_at in conn.execute(
        "SELECT pipeline_id, config_json, sla_since, deleted_at FROM pipelines"
    ).fetchall():
        texts[pid] = config_json
        # SLA tracking begins when the SLA was applied, not when the pipeline was
        since[pid] = utc(sla_since)
        if deleted_at is not None:
            deleted.add(pid)
    return texts, deleted


def adhoc_requests(conn: Connection, ids: list[str]) -> dict[str, tuple[BackfillRequest, ...]]:
    out: dict[str, list[BackfillRequest]] = {}
    wanted = set(ids)
    for pid, rid, start, end, priority, reason in conn.execute(
        """SELECT pipeline_id, request_id, date_from, date_to, priority, reason
           FROM backfill_requests ORDER BY requested_at"""
    ).fetchall():
        if pid in wanted:
            out.setdefault(pid, []).append(
                BackfillRequest(
                    id=rid, start=start, end=end, priority=priority, reason=reason or ""
                )
            )
    return {k: tuple(v) for k, v in out.items()}


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
