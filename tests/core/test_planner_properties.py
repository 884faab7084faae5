"""Properties of the planner, against a per-date oracle written from docs/planning.md.

Random schedules, states and ``now``; for every due date the oracle says what docs/planning.md
makes of it, and the plan must say exactly the same, batched and ordered as that page says.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.calendar import (
    due_instant,
    is_scheduled,
    last_due_day,
    next_scheduled,
    scheduled_between,
    sla_deadline,
)
from reconciler.core.coverage import (
    Failed,
    FailedDates,
    FailureDetails,
    InFlight,
    Observed,
    PipelineObserved,
    epoch_us,
)
from reconciler.core.intervals import contains, from_dates
from reconciler.core.plan import ACTION_ORDER, Plan
from reconciler.core.planner import plan
from reconciler.core.spec import BackfillRequest, PipelineSpec, RetryPolicy, Schedule
from reconciler.render.dates import compress, expand, next_day
from reconciler.render.plan_json import plan_from_dict, plan_to_dict
from reconciler.render.plan_schema import plan_problems

FAST = settings(max_examples=120, deadline=None)
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Pacific/Kiritimati"]


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    kind = draw(st.sampled_from(["daily", "weekly", "monthly"]))
    days: tuple[int, ...] = ()
    if kind == "weekly":
        days = tuple(sorted(draw(st.sets(st.integers(0, 6), max_size=4))))
    elif kind == "monthly":
        day = st.integers(1, 31) | st.integers(-31, -1)
        days = tuple(sorted(draw(st.sets(day, max_size=3))))
    start = draw(st.dates(date(2023, 1, 1), date(2024, 6, 30)))
    end = draw(st.none() | st.integers(0, 500).map(lambda n: start + timedelta(days=n)))
    return Schedule(
        type=kind,
        start=start,
        every=draw(st.integers(1, 3)),
        days=days,
        end=end,
        offset=draw(st.integers(0, 3)),
        at=draw(st.sampled_from([time(0), time(2, 30), time(6), time(23, 30)])),
        timezone=draw(st.sampled_from(ZONES)),
    )


instants = st.datetimes(datetime(2022, 12, 1), datetime(2025, 6, 30)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)
retry_policies = st.builds(
    RetryPolicy,
    enabled=st.booleans(),
    kind=st.sampled_from(["fixed", "exponential"]),
    base_seconds=st.sampled_from([1, 60, 300]),
    cap_seconds=st.sampled_from([None, 600]),
    max_retries=st.integers(0, 3),
)


def due_dates(s: Schedule, now: datetime) -> list[date]:
    """The due dates, straight from the calendar."""
    last = last_due_day(s, now)
    if last is None:
        return []
    out = scheduled_between(s, s.start, last)
    assert all(due_instant(s, d) <= now for d in out)
    return out


@st.composite
def cases(draw: st.DrawFn, pid: str, now: datetime) -> tuple[PipelineSpec, PipelineObserved]:
    """One pipeline and a random state over its dates due at ``now``."""
    schedule = draw(schedules())
    # one seed rather than a draw per date keeps generation fast for years of dates
    rng = random.Random(draw(st.integers(0, 2**32)))
    due = due_dates(schedule, now)
    covered, failed, flying = [], {}, {}
    previous: InFlight | None = None
    for d in due:
        roll, flight = rng.random(), None
        if roll < 0.45:
            covered.append(d)
        elif roll < 0.6:
            failed[d] = Failed(
                attempt=rng.randint(1, 4), ended_at=now - timedelta(seconds=rng.randint(0, 1500))
            )
        elif roll < 0.68:
            # a multi-date run in flight shares one run id across its dates
            flight = (
                previous
                if previous and rng.random() < 0.5
                else InFlight(run_id=f"r{d}", attempt=rng.randint(1, 3))
            )
            flying[d] = flight
        previous = flight
    lo = schedule.start - timedelta(days=40)
    hi = max(lo, now.date() + timedelta(days=40))
    requests, done = [], {}
    for i in range(draw(st.integers(0, 3))):
        a, b = sorted(rng.randint(lo.toordinal(), hi.toordinal()) for _ in range(2))
        requests.append(
            BackfillRequest(
                id=f"req{i}",
                start=date.fromordinal(a),
                end=date.fromordinal(b),
                priority=rng.randint(-1, 3),
            )
        )
        done[f"req{i}"] = from_dates(
            d for d in due if a <= d.toordinal() <= b and rng.random() < 0.3
        )
    # sla_since is an instant; its zone must not matter
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    sla_since = draw(st.none() | instants.map(lambda t: t.astimezone(zone)))
    spec = PipelineSpec(
        id=pid,
        schedule=schedule,
        retry=draw(retry_policies),
        multi_date=draw(st.booleans()),
        max_dates=draw(st.integers(1, 5)),
        auto_backfill=draw(st.booleans()),
        priority=draw(st.integers(-1, 3)),
        order=draw(st.sampled_from(["oldest_first", "newest_first"])),
        requests=tuple(requests),
        sla_time=draw(st.none() | st.sampled_from([time(1), time(6), time(23, 45)])),
        sla_notify=draw(st.booleans()),
    )
    recorded = frozenset(d for d in due if rng.random() < 0.1)
    observed = PipelineObserved(
        covered=from_dates(covered),
        failed=failed,
        in_flight=flying,
        request_done=done,
        sla_since=sla_since,
        sla_recorded=recorded,
    )
    return spec, observed


def oracle(
    spec: PipelineSpec, obs: PipelineObserved, now: datetime
) -> dict[date, tuple[object, ...]]:
    """docs/planning.md date by date: what each due date must become."""
    due = due_dates(spec.schedule, now)
    expected: dict[date, tuple[object, ...]] = {}
    for d in due:
        wanting = [
            r
            for r in spec.requests
            if r.start <= d <= r.end and not contains(obs.request_done.get(r.id, ()), d)
        ]
        failed = obs.failed.get(d)
        if d in obs.in_flight:
            expected[d] = ("poll",)
        elif wanting:
            top = max(r.priority for r in wanting)
            expected[d] = ("backfill", top, frozenset(r.id for r in wanting if r.priority == top))
        elif contains(obs.covered, d):
            continue
        elif failed is not None:
            policy = spec.retry
            if not policy.enabled or failed.attempt - 1 >= policy.max_retries:
                expected[d] = ("gap", "retries_exhausted")
            else:
                at = failed.ended_at + timedelta(seconds=policy.delay_seconds(failed.attempt))
                attempt = failed.attempt + 1
                expected[d] = ("retry", attempt) if at <= now else ("waiting", attempt, at)
        elif d == due[-1]:
            expected[d] = ("run",)
        elif spec.auto_backfill:
            expected[d] = ("backfill", spec.priority, frozenset([None]))
        else:
            expected[d] = ("gap", "auto_backfill_disabled")
    return expected


def planned(result: Plan, pid: str) -> dict[date, tuple[object, ...]]:
    """What the plan made of each date; a date met twice fails the test."""
    seen: dict[date, tuple[object, ...]] = {}

    def put(d: date, what: tuple[object, ...]) -> None:
        assert d not in seen, f"{d} planned twice: {seen[d]} and {what}"
        seen[d] = what

    for a in result.actions:
        if a.pipeline_id != pid or a.kind == "notify":
            continue
        for d in a.dates:
            if a.kind == "backfill":
                put(d, ("backfill", a.priority, a.request_id))
            elif a.kind == "retry":
                put(d, ("retry", a.attempt))
            else:
                put(d, (a.kind,))
    for w in result.waiting:
        for d in w.dates if w.pipeline_id == pid else ():
            put(d, ("waiting", w.attempt, w.next_retry_at))
    for g in result.gaps:
        for d in g.dates if g.pipeline_id == pid else ():
            put(d, ("gap", g.reason))
    return seen


def check_batches(spec: PipelineSpec, result: Plan) -> None:
    """Runs are consecutive scheduled dates, at most max_dates, as few as that allows."""
    size = spec.max_dates if spec.multi_date else 1
    groups: dict[tuple[object, ...], list[date]] = defaultdict(list)
    actions = [a for a in result.actions if a.pipeline_id == spec.id]
    for a in actions:
        if a.kind in ("retry", "backfill"):
            assert 1 <= len(a.dates) <= size
            for x, y in zip(a.dates, a.dates[1:], strict=False):
                assert next_scheduled(spec.schedule, x) == y
            groups[(a.kind, a.request_id, a.attempt)] += a.dates
        elif a.kind == "run":
            assert len(a.dates) == 1
    following = lambda d: next_scheduled(spec.schedule, d)  # noqa: E731
    for (kind, request_id, attempt), dates in groups.items():
        runs = compress(dates, following)
        wanted = sum(math.ceil(n / size) for _, _, n in runs)
        found = [
            a for a in actions if (a.kind, a.request_id, a.attempt) == (kind, request_id, attempt)
        ]
        assert len(found) == wanted


def check_order(specs: list[PipelineSpec], result: Plan) -> None:
    ranks = [ACTION_ORDER[a.kind] for a in result.actions]
    assert ranks == sorted(ranks)
    backfills = [a for a in result.actions if a.kind == "backfill"]
    assert [a.priority for a in backfills] == sorted((a.priority for a in backfills), reverse=True)
    for spec in specs:
        mine = [a for a in backfills if a.pipeline_id == spec.id]
        for a, b in itertools.pairwise(mine):
            if a.priority == b.priority:
                assert (
                    (a.dates[0] > b.dates[-1])
                    if spec.order == "newest_first"
                    else (a.dates[-1] < b.dates[0])
                )


def check_sla(spec: PipelineSpec, obs: PipelineObserved, now: datetime, result: Plan) -> None:
    breaches = {b.date: b.deadline for b in result.sla_breaches if b.pipeline_id == spec.id}
    expected = {}
    if spec.sla_time is not None and obs.sla_since is not None:
        for d in due_dates(spec.schedule, now):
            deadline = sla_deadline(spec.schedule, spec.sla_time, d)
            if contains(obs.covered, d) or d in obs.sla_recorded:
                continue
            if obs.sla_since < deadline <= now:
                expected[d] = deadline
    assert breaches == expected
    notify = [a for a in result.actions if a.kind == "notify" and a.pipeline_id == spec.id]
    if spec.sla_notify and expected:
        assert [set(a.dates) for a in notify] == [set(expected)]
        assert notify[0].event == "sla_breach"
    else:
        assert notify == []


def check_document(result: Plan) -> None:
    document = plan_to_dict(result)
    assert plan_problems(document) == []
    assert plan_from_dict(document) == result
    # the grouped views tell the same entries as the listings, and the counts agree
    grouped = [a for g in result.action_groups() for a in g.actions()]
    assert sorted(grouped) == sorted(result.actions)
    assert sum(g.run_count for g in result.action_groups()) == result.action_count
    by_kind: dict[str, int] = {}
    for action in result.actions:
        by_kind[action.kind] = by_kind.get(action.kind, 0) + len(action.dates)
    assert result.dates_by_kind() == by_kind
    assert [gap for g in result.gap_groups() for gap in g.gaps()] == list(result.gaps)
    assert result.gap_dates == sum(len(g.dates) for g in result.gaps)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[tuple[PipelineSpec, PipelineObserved]], datetime]:
    """One to three pipelines with their states, all at the same ``now``."""
    now = draw(instants)
    return [draw(cases(f"p{i}", now)) for i in range(draw(st.integers(1, 3)))], now


@settings(max_examples=250, deadline=None)
@given(worlds())
def test_plan_matches_the_spec_date_by_date(
    world: tuple[list[tuple[PipelineSpec, PipelineObserved]], datetime],
) -> None:
    drawn, now = world
    specs = [spec for spec, _ in drawn]
    result = plan(specs, Observed({spec.id: obs for spec, obs in drawn}), now)
    for spec, obs in drawn:
        got = planned(result, spec.id)
        for d in got:
            assert is_scheduled(spec.schedule, d) and due_instant(spec.schedule, d) <= now
        want = oracle(spec, obs, now)
        # where two requests tie on priority, either may take the date
        for d, what in want.items():
            if what[0] == "backfill":
                kind, priority, ids = what
                assert got.get(d, ("?", None, None))[:2] == (kind, priority), d
                assert got[d][2] in ids, d
                got[d] = what
        assert got == want
        check_batches(spec, result)
        check_sla(spec, obs, now, result)
    check_order(specs, result)
    check_document(result)


def without_exhausted_details(spec: PipelineSpec, obs: PipelineObserved) -> PipelineObserved:
    """``obs`` as a store reads it with retry limits: details only where a retry may come."""
    kept = [(d, f) for d, f in sorted(obs.failed.items()) if f.attempt < spec.retry.attempts]
    details = FailureDetails(
        ordinals=[d.toordinal() for d, _ in kept],
        ended_us=[epoch_us(f.ended_at) for _, f in kept if f.ended_at is not None],
        request_ids=[f.request_id for _, f in kept],
        run_ids=[f.run_id for _, f in kept],
    )
    failures = obs.failures
    return replace(obs, failed=FailedDates(failures.ordinals, failures.attempts, details))


@settings(max_examples=150, deadline=None)
@given(worlds())
def test_exhausted_dates_need_no_details_to_plan_the_same(
    world: tuple[list[tuple[PipelineSpec, PipelineObserved]], datetime],
) -> None:
    drawn, now = world
    specs = [spec for spec, _ in drawn]
    full = plan(specs, Observed({spec.id: obs for spec, obs in drawn}), now)
    lean = Observed({spec.id: without_exhausted_details(spec, obs) for spec, obs in drawn})
    assert plan(specs, lean, now) == full


@FAST
@given(schedules(), instants, st.booleans(), st.integers(1, 40))
def test_empty_state_runs_latest_and_backfills_the_rest(
    schedule: Schedule, now: datetime, multi: bool, size: int
) -> None:
    spec = PipelineSpec(id="p", schedule=schedule, multi_date=multi, max_dates=size)
    result = plan([spec], Observed(), now)
    due = due_dates(schedule, now)
    run = [d for a in result.actions if a.kind == "run" for d in a.dates]
    backfill = [d for a in result.actions if a.kind == "backfill" for d in a.dates]
    assert run == due[-1:]
    assert sorted(run + backfill) == due
    assert not result.gaps and not result.waiting and not result.sla_breaches
    assert {a.kind for a in result.actions} <= {"run", "backfill"}
    check_batches(spec, result)
    check_document(result)


@FAST
@given(schedules(), instants, st.integers(0, 3 * 24 * 3600 * 100), st.booleans())
def test_a_later_now_never_plans_fewer_dates(
    schedule: Schedule, now: datetime, later: int, auto: bool
) -> None:
    spec = PipelineSpec(id="p", schedule=schedule, auto_backfill=auto)

    def dates_at(at: datetime) -> set[date]:
        result = plan([spec], Observed(), at)
        return {d for a in result.actions for d in a.dates} | {
            d for g in result.gaps for d in g.dates
        }

    before, after = dates_at(now), dates_at(now + timedelta(seconds=later))
    assert before <= after
    assert after == set(due_dates(schedule, now + timedelta(seconds=later)))


@FAST
@given(schedules(), st.data())
def test_compressed_runs_round_trip(schedule: Schedule, data: st.DataObject) -> None:
    pool = scheduled_between(schedule, schedule.start, schedule.start + timedelta(days=400))
    dates = data.draw(st.lists(st.sampled_from(pool), unique=True) if pool else st.just([]))
    following = lambda d: next_scheduled(schedule, d)  # noqa: E731
    for adjacency in (following, next_day):
        runs = compress(dates, adjacency)
        assert expand(runs, adjacency) == sorted(dates)
        assert sum(n for _, _, n in runs) == len(dates)
        # runs are maximal: the date after a run's last is never the next run's first
        for (_, last, _), (first, _, _) in itertools.pairwise(runs):
            assert adjacency(last) != first
