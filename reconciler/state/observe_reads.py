"""The planner's read of the state (``Observed``), one query per concern.

``observe`` builds the list of pipelines asked for once (see ``Dialect.pipeline_list``)
and each read below joins it: coverage, failed dates (``failed_reads``), dates in
flight, progress of backfill requests, SLA breaches recorded, outdated marks, and every
stored pipeline's applied config.
"""

from __future__ import annotations

from datetime import date, datetime

from reconciler.core.applied import AppliedConfigs
from reconciler.core.coverage import (
    NO_FAILURES,
    InFlight,
    Observed,
    PipelineObserved,
    Retried,
)
from reconciler.core.intervals import DateRange, DayRanges, merge
from reconciler.state import outdated_marks, sla_breaches
from reconciler.state.connection import Connection, utc
from reconciler.state.dialects import dialect_of
from reconciler.state.failed_reads import failed_dates

NOTHING_COVERED = DayRanges()


def observe(conn: Connection, ids: list[str], retried: Retried = None) -> Observed:
    """Coverage, open dates, request progress, SLA and applied config of ``ids``.

    The applied config is every stored pipeline's, whatever ``ids`` asks for: with no
    pipeline files at all, the plan must still see what it would delete. ``retried``:
    see ``failed_reads``.
    """
    applied = applied_pipelines(conn)
    if not ids:
        return Observed({}, AppliedConfigs(applied.texts), frozenset(applied.deleted))
    below = [None if retried is None else retried.get(i) for i in ids]
    wanted, params = dialect_of(conn).pipeline_list(conn, ids, below)
    covered = coverage(conn, wanted, params)
    failed = failed_dates(conn, wanted, params)
    flying = in_flight_dates(conn, wanted, params)
    done = request_progress(conn, wanted, params)
    breached = sla_breaches.recorded(conn, wanted, params)
    marked = outdated_marks.marked(conn, wanted, params)
    stopped = canceled_dates(conn, wanted, params)
    pipelines = {
        pid: PipelineObserved(
            covered=covered.get(pid, NOTHING_COVERED),
            failed=failed.get(pid, NO_FAILURES),
            in_flight=flying.get(pid, {}),
            request_done={r: merge(v) for r, v in done.get(pid, {}).items()},
            sla_since=applied.sla_since.get(pid) if pid not in applied.deleted else None,
            sla_recorded=frozenset(breached.get(pid, ())),
            outdated=marks.ranges if (marks := marked.get(pid)) else NOTHING_COVERED,
            outdated_since=marks.newest if marks else None,
            canceled=stopped.get(pid, NOTHING_COVERED),
        )
        for pid in ids
    }
    return Observed(pipelines, AppliedConfigs(applied.texts), frozenset(applied.deleted))


def coverage(conn: Connection, wanted: str, params: list[object]) -> dict[str, DayRanges]:
    """Covered ranges per pipeline, as day ordinals (days since 0001-01-01, plus one),
    one row of lists per pipeline: ten years of scattered holes is 10^5 ranges, too
    many to build dates for."""
    return {
        pid: DayRanges.from_sorted(starts, ends)
        for pid, starts, ends in conn.execute(
            f"""SELECT c.pipeline_id,
                       array_agg(range_start - DATE '0001-01-01' + 1 ORDER BY range_start),
                       array_agg(range_end - DATE '0001-01-01' + 1 ORDER BY range_start)
                FROM coverage c JOIN {wanted} USING (pipeline_id) GROUP BY c.pipeline_id""",
            params,
        ).fetchall()
    }


def canceled_dates(conn: Connection, wanted: str, params: list[object]) -> dict[str, DayRanges]:
    """Dates whose newest attempt was cancelled, as ranges of day ordinals per pipeline."""
    ordinal = "run_date - DATE '0001-01-01' + 1"
    out: dict[str, DayRanges] = {}
    for pid, ordinals in conn.execute(
        f"""SELECT o.pipeline_id, array_agg({ordinal} ORDER BY run_date)
            FROM open_dates o JOIN {wanted} USING (pipeline_id)
            WHERE status = 'canceled' GROUP BY o.pipeline_id""",
        params,
    ).fetchall():
        out[pid] = DayRanges.of([(date.fromordinal(o), date.fromordinal(o)) for o in ordinals])
    return out


def in_flight_dates(
    conn: Connection, wanted: str, params: list[object]
) -> dict[str, dict[date, InFlight]]:
    """Dates pending or running, with the run that holds each."""
    flying: dict[str, dict[date, InFlight]] = {}
    for pid, day, attempt, batch_id, request_id, started in conn.execute(
        f"""SELECT o.pipeline_id, run_date, attempt, batch_id, request_id, started_at
            FROM open_dates o JOIN {wanted} USING (pipeline_id)
            WHERE status IN ('pending', 'running')""",
        params,
    ).fetchall():
        flying.setdefault(pid, {})[day] = InFlight(
            run_id=batch_id, attempt=attempt, request_id=request_id, started_at=utc(started)
        )
    return flying


def request_progress(
    conn: Connection, wanted: str, params: list[object]
) -> dict[str, dict[str, list[DateRange]]]:
    """Per pipeline and backfill request, the ranges of its dates no longer pending."""
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
    return done


class AppliedPipelines:
    """Every stored pipeline's config text, the deleted ones, and when SLA tracking began."""

    __slots__ = ("deleted", "sla_since", "texts")

    def __init__(self) -> None:
        self.texts: dict[str, str | None] = {}
        self.deleted: set[str] = set()
        self.sla_since: dict[str, datetime | None] = {}


def applied_pipelines(conn: Connection) -> AppliedPipelines:
    """The ``pipelines`` table as the planner needs it (all of it: see ``observe``)."""
    out = AppliedPipelines()
    for pid, config_json, sla_since, deleted_at in conn.execute(
        "SELECT pipeline_id, config_json, sla_since, deleted_at FROM pipelines"
    ).fetchall():
        out.texts[pid] = config_json
        # SLA tracking begins when the SLA was applied, not when the pipeline was
        out.sla_since[pid] = utc(sla_since)
        if deleted_at is not None:
            out.deleted.add(pid)
    return out
