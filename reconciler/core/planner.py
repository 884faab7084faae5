"""The planner: desired coverage minus observed state, at ``now``, as a ``Plan`` (SPEC §4).

Cost grows with the number of pipelines and of dates that need something, not with
the length of history: covered dates are walked as ranges, never one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import zip_longest
from typing import Any

from reconciler.core.calendar import (
    adjacency,
    is_scheduled,
    last_due_day,
    prev_scheduled,
    progression,
    scheduled_between,
    sla_deadline,
)
from reconciler.core.config_diff import diff_configs
from reconciler.core.coverage import Observed, PipelineObserved
from reconciler.core.intervals import complement
from reconciler.core.plan import (
    ACTION_ORDER,
    Action,
    ConfigChange,
    Gap,
    GapReason,
    Plan,
    SlaBreach,
    Waiting,
)
from reconciler.core.spec import BackfillRequest, PipelineSpec, Schedule

OrderKey = tuple[int, int, int, str]


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


@dataclass(slots=True)
class _Pieces:
    """One pipeline's share of the plan before batching and ordering."""

    actions: list[Action] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    breaches: list[SlaBreach] = field(default_factory=list)


def _batches(spec: PipelineSpec, dates: list[date], newest_first: bool) -> list[tuple[date, ...]]:
    """Consecutive scheduled dates in groups of at most ``max_dates`` (or single dates)."""
    if not spec.multi_date or spec.max_dates == 1:
        ordered = reversed(dates) if newest_first else dates
        return [(d,) for d in ordered]
    runs = _runs_of(spec, dates)
    out: list[tuple[date, ...]] = []
    size = spec.max_dates
    for run in reversed(runs) if newest_first else runs:
        if newest_first:
            chunks = [run[max(i - size, 0) : i] for i in range(len(run), 0, -size)]
        else:
            chunks = [run[i : i + size] for i in range(0, len(run), size)]
        out.extend(tuple(chunk) for chunk in chunks)
    return out


def _runs_of(spec: PipelineSpec, dates: list[date]) -> list[list[date]]:
    """Split ascending dates into runs of consecutive scheduled dates."""
    follows = adjacency(spec.schedule)
    runs: list[list[date]] = []
    for d in dates:
        if runs and follows(runs[-1][-1], d):
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def _group_consecutive(spec: PipelineSpec, dates: list[date]) -> list[tuple[date, ...]]:
    """Runs of consecutive scheduled dates as tuples (for gaps/waiting)."""
    return [tuple(r) for r in _runs_of(spec, dates)]


def _claims(
    spec: PipelineSpec, obs: PipelineObserved, first: date, latest: date
) -> dict[date, BackfillRequest]:
    """Dates each request still has to re-run; the higher priority wins a shared date."""
    claimed: dict[date, BackfillRequest] = {}
    ranked = sorted(spec.requests, key=lambda r: (-r.priority, r.id))
    for request in ranked:
        lo, hi = max(request.start, first), min(request.end, latest)
        done = obs.request_done.get(request.id, ())
        for a, b in complement(done, lo, hi):
            for d in scheduled_between(spec.schedule, a, b):
                if d not in obs.in_flight and d not in claimed:
                    claimed[d] = request
    return claimed


def _range_walker(schedule: Schedule) -> Callable[[date, date], list[date]]:
    """Scheduled dates of a range inside ``[start, latest]``, as fast as the schedule allows.

    Daily schedules (and weekly ones on one weekday) are one arithmetic progression:
    stepping through it directly avoids the general calendar walk for each of the
    (many) uncovered ranges of a long history.
    """
    prog = progression(schedule)
    if prog is None:
        return lambda a, b: scheduled_between(schedule, a, b)
    origin, step = prog

    def walk(a: date, b: date) -> list[date]:
        lo = a.toordinal()
        term = origin - ((origin - lo) // step) * step
        return list(map(date.fromordinal, range(term, b.toordinal() + 1, step)))

    return walk


def plan_pipeline(spec: PipelineSpec, obs: PipelineObserved, now: datetime) -> _Pieces:
    """Decide every due, uncovered date of one pipeline (SPEC §4)."""
    pieces = _Pieces()
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
    window = due_window(spec.schedule, now)
    if window is None:
        return pieces
    first, latest = window
    claimed = _claims(spec, obs, first, latest) if spec.requests else {}
    retries: dict[tuple[int, str | None], list[date]] = {}
    waiting: dict[tuple[datetime, int], list[date]] = {}
    gaps: dict[GapReason, list[date]] = {}
    backfill: list[date] = []
    run_latest = False
    sla_floor: date | None = None
    if spec.sla_time is not None and obs.sla_since is not None:
        # no deadline of a date before this can fall after sla_since: a deadline lies
        # within two days of the date plus its offset, in any zone (compared in UTC)
        since_day = obs.sla_since.astimezone(UTC).date()
        sla_floor = since_day - timedelta(days=spec.schedule.offset + 2)
    policy = spec.retry
    fresh_path = sla_floor is None and not claimed and not obs.in_flight and not obs.failed
    dates_in = _range_walker(spec.schedule)
    if fresh_path:
        fresh: list[date] = []
        for a, b in complement(obs.covered, first, latest):
            fresh += dates_in(a, b)
        if fresh and fresh[-1] == latest:
            fresh.pop()
            run_latest = True
        if spec.auto_backfill:
            backfill = fresh
        elif fresh:
            gaps["auto_backfill_disabled"] = fresh
    for a, b in complement(obs.covered, first, latest) if not fresh_path else ():
        for d in dates_in(a, b):
            if sla_floor is not None and d >= sla_floor and d not in obs.sla_recorded:
                assert spec.sla_time is not None and obs.sla_since is not None
                deadline = sla_deadline(spec.schedule, spec.sla_time, d)
                if obs.sla_since < deadline <= now:
                    pieces.breaches.append(SlaBreach(spec.id, d, deadline))
            if d in obs.in_flight or d in claimed:
                continue
            failed = obs.failed.get(d)
            if failed is not None:
                if policy.enabled and failed.attempt - 1 < policy.max_retries:
                    due_at = failed.ended_at + timedelta(
                        seconds=policy.delay_seconds(failed.attempt)
                    )
                    if due_at <= now:
                        retries.setdefault((failed.attempt + 1, failed.request_id), []).append(d)
                    else:
                        waiting.setdefault((due_at, failed.attempt + 1), []).append(d)
                else:
                    gaps.setdefault("retries_exhausted", []).append(d)
            elif d == latest:
                run_latest = True
            elif spec.auto_backfill:
                backfill.append(d)
            else:
                gaps.setdefault("auto_backfill_disabled", []).append(d)
    for (attempt, request_id), dates in sorted(retries.items(), key=lambda kv: kv[1][0]):
        for batch in _batches(spec, dates, newest_first=False):
            pieces.actions.append(
                Action(spec.id, "retry", batch, spec.priority, attempt, request_id)
            )
    if run_latest:
        pieces.actions.append(Action(spec.id, "run", (latest,), spec.priority, 1))
    newest_first = spec.order == "newest_first"
    by_request: dict[str, list[date]] = {}
    for d in sorted(claimed):
        by_request.setdefault(claimed[d].id, []).append(d)
    requests = {r.id: r for r in spec.requests}
    for request_id, dates in by_request.items():
        request = requests[request_id]
        for batch in _batches(spec, dates, newest_first):
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
    for batch in _batches(spec, backfill, newest_first):
        pieces.actions.append(Action(spec.id, "backfill", batch, spec.priority, 1))
    for (due_at, attempt), dates in sorted(waiting.items()):
        for group in _group_consecutive(spec, dates):
            pieces.waiting.append(Waiting(spec.id, group, due_at, attempt))
    for reason, dates in sorted(gaps.items()):
        for group in _group_consecutive(spec, dates):
            pieces.gaps.append(Gap(spec.id, group, reason))
    if pieces.breaches and spec.sla_notify:
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


def _backfills_in_order(spec: PipelineSpec, actions: list[Action]) -> dict[int, list[Action]]:
    """One pipeline's backfills by priority, each list in its ``backfill.order``."""
    backfills = [a for a in actions if a.kind == "backfill"]
    if spec.requests:  # without requests, the one batching pass is already in order
        newest_first = spec.order == "newest_first"

        def within(action: Action) -> tuple[int, int]:
            when = -action.dates[-1].toordinal() if newest_first else action.dates[0].toordinal()
            return -action.priority, when

        backfills.sort(key=within)
    by_priority: dict[int, list[Action]] = {}
    for action in backfills:
        by_priority.setdefault(action.priority, []).append(action)
    return by_priority


def _interleave(lists: list[list[Action]]) -> list[Action]:
    """Take turns: the first action of each list (in list order), then the second, ..."""
    if len(lists) == 1:
        return list(lists[0])
    out: list[Action] = []
    for turn in zip_longest(*lists):
        out.extend(a for a in turn if a is not None)
    return out


def plan(
    pipelines: Sequence[PipelineSpec],
    observed: Observed,
    now: datetime,
    desired_config: Mapping[str, Mapping[str, Any]] | None = None,
) -> Plan:
    """The plan for ``pipelines`` given ``observed`` state, at ``now`` (aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    # Order (SPEC §4): poll, retry, run by date; then backfills by priority, pipelines
    # taking turns (in id order) each in its own backfill.order; notify last. Buckets
    # instead of one big sort: a plan can hold 10^5 single-date backfills.
    others: list[tuple[OrderKey, Action]] = []
    buckets: dict[int, list[tuple[str, list[Action]]]] = {}
    waiting: list[Waiting] = []
    gaps: list[Gap] = []
    breaches: list[SlaBreach] = []
    for spec in pipelines:
        pieces = plan_pipeline(spec, observed.of(spec.id), now)
        for priority, backfills in _backfills_in_order(spec, pieces.actions).items():
            buckets.setdefault(priority, []).append((spec.id, backfills))
        for action in pieces.actions:
            if action.kind != "backfill":
                rank = ACTION_ORDER[action.kind]
                others.append(((rank, 0, action.dates[0].toordinal(), spec.id), action))
        waiting += pieces.waiting
        gaps += pieces.gaps
        breaches += pieces.breaches
    others.sort(key=lambda item: item[0])
    backfill_rank = ACTION_ORDER["backfill"]
    ordered = [a for key, a in others if key[0] < backfill_rank]
    for priority in sorted(buckets, reverse=True):
        ordered += _interleave([acts for _, acts in sorted(buckets[priority], key=lambda x: x[0])])
    ordered += [a for key, a in others if key[0] > backfill_rank]
    changes: tuple[ConfigChange, ...] = ()
    if desired_config is not None:
        changes = diff_configs(desired_config, observed.applied_config, observed.deleted)
    return Plan(
        now=now,
        pipelines=len(pipelines),
        config_changes=changes,
        actions=tuple(ordered),
        waiting=tuple(waiting),
        gaps=tuple(gaps),
        sla_breaches=tuple(breaches),
    )
