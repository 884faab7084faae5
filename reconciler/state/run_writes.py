"""Writing runs: intents before any platform call, runs started, outcomes, the backfill queue.

Each function is called inside one ``transaction`` and keeps the run log, the compact
coverage, ``open_dates`` and ``backfill_queue`` in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from reconciler.core.batches import Batch, Outcome, RunIntent, run_row_id
from reconciler.masking import mask_opt
from reconciler.state import cancel_requests, outdated_marks
from reconciler.state.connection import Connection, naive
from reconciler.state.coverage_rows import set_coverage
from reconciler.state.dialects import dialect_of


def _ids(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


_QUEUE = {"failed": "failed", "canceled": "canceled"}  # run status -> backfill status


def _status(outcome: Outcome) -> str:
    """The run log's status for a finished run: a cancel is not a failure."""
    if outcome.success:
        return "success"
    return "canceled" if outcome.canceled else "failed"


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


def cancel_request_backfills(
    conn: Connection, requests: Sequence[tuple[str, str]], now: datetime
) -> None:
    """Pending backfills of removed requests (pipeline, request id) are canceled."""
    if requests:
        conn.execute(
            """UPDATE backfill_queue SET status = 'canceled', updated_at = ?
               FROM (SELECT unnest(?::VARCHAR[]) AS pid, unnest(?::VARCHAR[]) AS rid) v
               WHERE backfill_queue.status = 'pending'
                 AND backfill_queue.pipeline_id = v.pid AND backfill_queue.request_id = v.rid""",
            [naive(now), [p for p, _ in requests], [r for _, r in requests]],
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
    if fresh and dialect_of(conn).shared:
        fresh = _not_in_flight(conn, fresh)
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
                    intent.version,
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
               request_id, platform, version, created_at)
           SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::DATE[]), 'pending',
                  unnest(?::INTEGER[]), unnest(?::VARCHAR[]), unnest(?::BOOLEAN[]),
                  unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::INTEGER[]),
                  unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),
                  unnest(?::VARCHAR[]), ?""",
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
    # these dates start again: what made them outdated is read by the run about to start
    started: dict[str, list[date]] = {}
    for intent in fresh:
        started.setdefault(intent.pipeline_id, []).extend(intent.dates)
    outdated_marks.cut(conn, started)
    return [i.batch_id for i in fresh]


def _not_in_flight(conn: Connection, intents: list[RunIntent]) -> list[RunIntent]:
    """Intents none of whose dates another batch has in flight.

    Runners sharing a PostgreSQL state may plan the same dates before either writes:
    the one that writes second leaves them (the same batch is skipped by its id above).
    """
    busy = {
        (r[0], r[1])
        for r in conn.execute(
            """SELECT pipeline_id, run_date FROM open_dates
               WHERE status IN ('pending', 'running')
                 AND pipeline_id IN (SELECT unnest(?::VARCHAR[]))""",
            [_ids(i.pipeline_id for i in intents)],
        ).fetchall()
    }
    return [i for i in intents if not any((i.pipeline_id, d) in busy for d in i.dates)]


def mark_running(conn: Connection, batch_id: str, platform_run_id: str, started: datetime) -> None:
    """The platform accepted the run: remember its id before anything else can fail."""
    mark_running_many(conn, [(batch_id, platform_run_id, started)])


def mark_running_many(conn: Connection, items: Sequence[tuple[str, str | None, datetime]]) -> None:
    """``mark_running`` for several batches: (batch id, platform run id, started at); no
    run id for an unconfirmed start."""
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
    return len(record_outcomes_live(conn, items))


def record_outcomes_live(
    conn: Connection, items: Sequence[tuple[Batch, Outcome, dict[date, datetime]]]
) -> set[str]:
    """``record_outcomes``, returning the batch ids recorded now (those still in flight).

    ``sla_met`` is set on every finished run of a pipeline with an SLA: true only for
    a success by the deadline of its date. A failure of a batch whose cancel is
    recorded (``cancel_requests``) is recorded as ``canceled``.
    """
    if not items:
        return set()
    stopped = cancel_requests.cancelled(conn, [b.batch_id for b, o, _ in items if not o.success])
    if stopped:
        items = [
            (b, replace(o, canceled=True) if b.batch_id in stopped else o, d) for b, o, d in items
        ]
    rows: list[tuple[Any, ...]] = []
    for batch, outcome, deadlines in items:
        status = _status(outcome)
        for day in batch.dates:
            deadline = deadlines.get(day)
            met = None if deadline is None else outcome.success and outcome.ended_at <= deadline
            rows.append(
                (
                    run_row_id(batch.batch_id, day),
                    status,
                    naive(outcome.ended_at),
                    mask_opt(outcome.error),  # platforms may echo a token back
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
        return set()
    done = [b.batch_id for b, o, _ in todo if o.success]
    failed = [(b.batch_id, naive(o.ended_at), _status(o)) for b, o, _ in todo if not o.success]
    if done:
        conn.execute(
            "DELETE FROM open_dates WHERE batch_id IN (SELECT unnest(?::VARCHAR[]))", [done]
        )
    if failed:
        conn.execute(
            """UPDATE open_dates SET status = v.status, ended_at = v.ended
               FROM (SELECT unnest(?::VARCHAR[]) AS batch_id,
                            unnest(?::TIMESTAMP[]) AS ended,
                            unnest(?::VARCHAR[]) AS status) v
               WHERE open_dates.batch_id = v.batch_id""",
            [list(c) for c in zip(*failed, strict=True)],
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
            ["done" if o.success else _QUEUE[_status(o)] for _, o, _ in todo],
            [naive(o.ended_at) for _, o, _ in todo],
        ],
    )
    return {b.batch_id for b, _, _ in todo}
