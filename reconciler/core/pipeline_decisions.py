"""One pipeline's decisions: every due, uncovered date becomes a run, retry, backfill, waiting
retry or gap (docs/planning.md); the fleet planner (``core.planner``) orders them.

Cost grows with the dates that need something, not with the length of history: covered
dates are walked as ranges, never one by one, and a daily-like schedule's plain backfills
stay one compact ``BackfillBlock``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import chain, compress, repeat
from operator import ge, lt

from reconciler.core.batching import batches, group_consecutive
from reconciler.core.calendar import (
    is_scheduled,
    last_due_day,
    prev_scheduled,
    progression,
    scheduled_between,
    sla_deadline,
)
from reconciler.core.canceled import canceled_ordinals
from reconciler.core.compact_actions import BackfillBlock
from reconciler.core.compact_gaps import GapRun, GapSource, ListedGaps
from reconciler.core.coverage import Failed, PipelineObserved
from reconciler.core.exclusions import excluded_days, with_exclusions
from reconciler.core.intervals import complement
from reconciler.core.outdated import busy_dates, outdated_days, refresh_id
from reconciler.core.plan_records import Action, Gap, GapReason, SlaBreach, Waiting
from reconciler.core.spec import BackfillRequest, PipelineSpec, Schedule


def due_window(schedule: Schedule, now: datetime) -> tuple[date, date] | None:
    """First and last scheduled dates due at ``now`` (None when nothing is due yet)."""
    last_day = last_due_day(schedule, now)
    if last_day is None or last_day < schedule.start:
        return None
    if schedule.end is not None and last_day > schedule.end:
        last_day = schedule.end
    latest = last_day if is_scheduled(schedule, last_day) else prev_scheduled(schedule, last_day)
    if latest is None or latest < schedule.start:
        return None
    return schedule.start, latest


@dataclass(slots=True, kw_only=True)
class Pieces:
    """One pipeline's share of the plan before batching and ordering."""

    actions: list[Action] = field(default_factory=list)
    block: BackfillBlock | None = None
    waiting: list[Waiting] = field(default_factory=list)
    gaps: list[GapSource] = field(default_factory=list)
    breaches: list[SlaBreach] = field(default_factory=list)


def _claims(
    spec: PipelineSpec, obs: PipelineObserved, first: date, latest: date
) -> dict[date, BackfillRequest]:
    """Dates each request still has to re-run; the higher priority wins a shared date
    (an excluded date never)."""
    claimed: dict[date, BackfillRequest] = {}
    excluded = excluded_days(spec)
    ranked = sorted(spec.requests, key=lambda r: (-r.priority, r.id))
    for request in ranked:
        lo, hi = max(request.start, first), min(request.end, latest)
        done = obs.request_done.get(request.id, ())
        for a, b in complement(done, lo, hi):
            for d in scheduled_between(spec.schedule, a, b):
                if d not in obs.in_flight and d not in claimed:
                    if excluded and excluded.covers(d.toordinal()):
                        continue
                    claimed[d] = request
    return claimed


def plan_pipeline(spec: PipelineSpec, obs: PipelineObserved, now: datetime) -> Pieces:
    """Decide every due, uncovered date of one pipeline (docs/planning.md)."""
    schedule = spec.schedule
    obs = with_exclusions(spec, obs)
    return plan_in_window(spec, obs, now, due_window(schedule, now), progression(schedule))


def plan_in_window(
    spec: PipelineSpec,
    obs: PipelineObserved,
    now: datetime,
    window: tuple[date, date] | None,
    prog: tuple[int, int] | None,
    refresh_all: bool = False,
) -> Pieces:
    """``plan_pipeline`` once the due window is known (fleets share a few schedules);
    ``obs`` is read with the pipeline's exclusions (``core.exclusions.with_exclusions``).

    ``refresh_all``: the file changes the pipeline's version and asks for a refresh
    (``core.outdated.version_pending``): every covered date is planned as a refresh."""
    pieces = Pieces()
    by_run: dict[str, list[date]] = {}
    for d, flight in sorted(obs.in_flight.items()):
        by_run.setdefault(flight.run_id, []).append(d)
    for run_id, dates in by_run.items():
        flight = obs.in_flight[dates[0]]
        pieces.actions.append(
            Action(
                spec.id,
                "poll",
                tuple(dates),
                spec.priority,
                flight.attempt,
                flight.request_id,
                None,
                run_id,
            )
        )
    if window is None:
        return pieces
    first, latest = window
    claimed = _claims(spec, obs, first, latest) if spec.requests else {}
    if prog is None:
        _decide_dates(spec, obs, now, first, latest, claimed, pieces)
    else:
        _decide_progression(spec, obs, now, first, latest, prog, claimed, pieces)
    if refresh_all or obs.outdated_marks:
        _refreshes(spec, obs, window, claimed, refresh_all, pieces)
    if pieces.breaches and spec.sla_notify and not spec.paused:
        pieces.actions.append(
            Action(
                spec.id,
                "notify",
                tuple(b.date for b in pieces.breaches),
                spec.priority,
                event="sla_breach",
            )
        )
    return pieces


def _sla_floor(spec: PipelineSpec, obs: PipelineObserved) -> date | None:
    """Dates before this cannot breach: their deadlines all precede ``sla_since``."""
    if spec.sla_time is None or obs.sla_since is None:
        return None
    # a deadline lies within two days of the date plus its offset, in any zone (UTC)
    since_day = obs.sla_since.astimezone(UTC).date()
    return since_day - timedelta(days=spec.schedule.offset + 2)


def _check_sla(
    spec: PipelineSpec, obs: PipelineObserved, now: datetime, d: date, pieces: Pieces
) -> None:
    if d in obs.sla_recorded:
        return
    assert spec.sla_time is not None and obs.sla_since is not None
    deadline = sla_deadline(spec.schedule, spec.sla_time, d)
    if obs.sla_since < deadline <= now:
        pieces.breaches.append(SlaBreach(spec.id, d, deadline))


class _Open:
    """Failed dates sorted into retries, waiting retries and exhausted gaps."""

    def __init__(self, spec: PipelineSpec, now: datetime) -> None:
        self.policy = spec.retry
        self.now = now
        self.retries: dict[tuple[int, str | None], list[date]] = {}
        self.waiting: dict[tuple[datetime, int], list[date]] = {}
        self.gaps: dict[GapReason, list[date]] = {}

    def failed(self, d: date, failed: Failed) -> None:
        policy = self.policy
        if failed.attempt < policy.attempts:
            if failed.ended_at is None:
                raise LookupError(f"state read without the details of retryable date {d}")
            due_at = failed.ended_at + timedelta(seconds=policy.delay_seconds(failed.attempt))
            if due_at <= self.now:
                self.retries.setdefault((failed.attempt + 1, failed.request_id), []).append(d)
            else:
                self.waiting.setdefault((due_at, failed.attempt + 1), []).append(d)
        else:
            self.gaps.setdefault("retries_exhausted", []).append(d)


def _decide_progression(
    spec: PipelineSpec,
    obs: PipelineObserved,
    now: datetime,
    first: date,
    latest: date,
    prog: tuple[int, int],
    claimed: Mapping[date, BackfillRequest],
    pieces: Pieces,
) -> None:
    """Daily-like schedules: holes stay ranges; only dates that are not plain
    backfills (failed, in flight, claimed by a request, near an SLA) are looked at one
    by one, so ten years of history cost what its holes' count costs to sum."""
    origin, step = prog
    coverage = obs.coverage
    lo, hi = first.toordinal(), latest.toordinal()
    covers = coverage.covers
    taken: set[int] = set()  # in flight or claimed by a request: decided elsewhere
    for d in chain(obs.in_flight, claimed):
        o = d.toordinal()
        if lo <= o <= hi and (o - origin) % step == 0 and not covers(o):
            taken.add(o)
    special = set(taken)
    stopped = canceled_ordinals(obs, lo, hi, origin, step, taken)
    special.update(stopped)
    sla_floor = _sla_floor(spec, obs)
    if sla_floor is not None:
        for a, b in coverage.holes(max(lo, sla_floor.toordinal()), hi):
            a += (origin - a) % step
            for o in range(a, b + 1, step):
                _check_sla(spec, obs, now, date.fromordinal(o), pieces)
    open_: _Open | None = None
    exhausted: list[int] = []
    failures = obs.failures
    if failures:
        # one tight pass over the failed dates' columns: most are exhausted (an imported
        # history's failures), and only a date to retry gets its ``Failed`` built
        open_ = _Open(spec, now)
        limit = spec.retry.attempts  # a failed attempt of this number exhausts
        i0, i1 = bisect_left(failures.ordinals, lo), bisect_right(failures.ordinals, hi)
        if step == 1 and not taken and not coverage.any_of(failures.ordinals[i0:i1]):
            # the usual case, sorted in C: every failed date in the window is to decide
            ords, attempts = failures.ordinals[i0:i1], failures.attempts[i0:i1]
            exhausted = list(compress(ords, map(ge, attempts, repeat(limit))))
            special.update(ords)
            for i in compress(range(i0, i1), map(lt, attempts, repeat(limit))):
                open_.failed(date.fromordinal(failures.ordinals[i]), failures.at(i))
        else:
            ords, attempts = failures.ordinals, failures.attempts
            for i in range(i0, i1):
                o = ords[i]
                if (o - origin) % step or o in taken or coverage.covers(o):
                    continue
                special.add(o)
                if attempts[i] >= limit:
                    exhausted.append(o)
                else:
                    open_.failed(date.fromordinal(o), failures.at(i))
        _retries(spec, open_, pieces)
    run_latest = hi not in special and not coverage.covers(hi)
    if run_latest:
        pieces.actions.append(Action(spec.id, "run", (latest,), spec.priority, 1))
    if claimed:
        _requests(spec, claimed, pieces)
    last = hi - step if run_latest else hi
    if step == 1 and coverage.uncovered_within(lo, last) <= len(special):
        # every hole is a date decided above (an imported history's failures): no
        # block to build. ``special`` holds only uncovered days of [lo, last] (the
        # rule ``BackfillBlock.exclude`` states), so this is its ``date_count == 0``
        block = None
    else:
        block = BackfillBlock(
            pipeline_id=spec.id,
            priority=spec.priority,
            coverage=coverage,
            first=lo,
            last=last,
            origin=origin,
            step=step,
            batch=spec.max_dates if spec.multi_date else 1,
            newest_first=spec.order == "newest_first",
            exclude=tuple(sorted(special)),
        )
    if block is not None and block.date_count:
        if spec.auto_backfill:
            pieces.block = block
        else:
            disabled = (
                Gap(spec.id, tuple(map(date.fromordinal, days)), "auto_backfill_disabled")
                for days in block.day_ranges()
            )
            pieces.gaps.append(ListedGaps(tuple(disabled)))
    if open_ is not None:
        _waiting_and_gaps(spec, open_, pieces)
    if stopped:
        pieces.gaps.append(
            GapRun(pipeline_id=spec.id, ordinals=stopped, step=step, reason="canceled")
        )
    if exhausted:
        pieces.gaps.append(
            GapRun(pipeline_id=spec.id, ordinals=exhausted, step=step, reason="retries_exhausted")
        )


def _decide_dates(
    spec: PipelineSpec,
    obs: PipelineObserved,
    now: datetime,
    first: date,
    latest: date,
    claimed: Mapping[date, BackfillRequest],
    pieces: Pieces,
) -> None:
    """Other schedules (several weekdays, monthly): few dates a year, decided one by one."""
    sla_floor = _sla_floor(spec, obs)
    open_ = _Open(spec, now)
    backfill: list[date] = []
    run_latest = False
    for a, b in complement(obs.covered, first, latest):
        for d in scheduled_between(spec.schedule, a, b):
            if sla_floor is not None and d >= sla_floor:
                _check_sla(spec, obs, now, d, pieces)
            if d in obs.in_flight or d in claimed:
                continue
            if obs.canceled_days.covers(d.toordinal()):
                open_.gaps.setdefault("canceled", []).append(d)
                continue
            failed = obs.failed.get(d)
            if failed is not None:
                open_.failed(d, failed)
            elif d == latest:
                run_latest = True
            elif spec.auto_backfill:
                backfill.append(d)
            else:
                open_.gaps.setdefault("auto_backfill_disabled", []).append(d)
    _retries(spec, open_, pieces)
    if run_latest:
        pieces.actions.append(Action(spec.id, "run", (latest,), spec.priority, 1))
    _requests(spec, claimed, pieces)
    newest_first = spec.order == "newest_first"
    for batch in batches(spec, backfill, newest_first):
        pieces.actions.append(Action(spec.id, "backfill", batch, spec.priority, 1))
    _waiting_and_gaps(spec, open_, pieces)


def _refreshes(
    spec: PipelineSpec,
    obs: PipelineObserved,
    window: tuple[date, date],
    claimed: Mapping[date, BackfillRequest],
    everything: bool,
    pieces: Pieces,
) -> None:
    """Covered dates that are outdated, re-run as ``refresh`` actions (batched like
    backfills, at the pipeline's priority)."""
    days = outdated_days(spec, obs, window, busy_dates(obs, claimed), everything)
    if days and spec.exclude:  # (a version refresh reads every covered date)
        excluded = excluded_days(spec)
        days = [d for d in days if not excluded.covers(d.toordinal())]
    if not days:
        return
    request_id = refresh_id(spec, obs, everything)
    for batch in batches(spec, days, spec.order == "newest_first"):
        pieces.actions.append(Action(spec.id, "refresh", batch, spec.priority, 1, request_id))


def _retries(spec: PipelineSpec, open_: _Open, pieces: Pieces) -> None:
    for (attempt, request_id), dates in sorted(open_.retries.items(), key=lambda kv: kv[1][0]):
        for batch in batches(spec, dates, newest_first=False):
            pieces.actions.append(
                Action(spec.id, "retry", batch, spec.priority, attempt, request_id)
            )


def _requests(spec: PipelineSpec, claimed: Mapping[date, BackfillRequest], pieces: Pieces) -> None:
    newest_first = spec.order == "newest_first"
    by_request: dict[str, list[date]] = {}
    for d in sorted(claimed):
        by_request.setdefault(claimed[d].id, []).append(d)
    requests = {r.id: r for r in spec.requests}
    for request_id, dates in by_request.items():
        request = requests[request_id]
        for batch in batches(spec, dates, newest_first):
            pieces.actions.append(
                Action(
                    spec.id,
                    "backfill",
                    batch,
                    request.priority,
                    1,
                    request_id,
                    request.reason or None,
                )
            )


def _waiting_and_gaps(spec: PipelineSpec, open_: _Open, pieces: Pieces) -> None:
    if not open_.waiting and not open_.gaps:
        return
    for (due_at, attempt), dates in sorted(open_.waiting.items()):
        for group in group_consecutive(spec, dates):
            pieces.waiting.append(
                Waiting(pipeline_id=spec.id, dates=group, next_retry_at=due_at, attempt=attempt)
            )
    gaps = tuple(
        Gap(spec.id, group, reason)
        for reason, dates in sorted(open_.gaps.items())
        for group in group_consecutive(spec, dates)
    )
    if gaps:
        pieces.gaps.append(ListedGaps(gaps))
