"""Readiness across pipelines, against a date-by-date oracle (reconciler/core/readiness.py).

Random small fleets (chains, forks, diamonds) with random states. The oracle plans the
fleet once without ``depends_on`` (each pipeline's own decisions) and then, upstreams
first, says what each date of a dependant must become given what the plan makes of its
upstreams' dates: a date the planner would start runs only when every upstream date it
needs is available; otherwise it waits for them (reason ``upstream``) or, when one of
them will never run, is a gap ``upstream_gap`` (a refresh too). Covered dates
reading covered upstream dates that run again (outdated, in flight, planned, or waiting
for a refresh themselves) are listed as waiting for a refresh.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.applied import AppliedConfigs
from reconciler.core.calendar import last_due_day, next_scheduled, scheduled_between
from reconciler.core.coverage import Failed, InFlight, Observed, PipelineObserved
from reconciler.core.dependencies import needed
from reconciler.core.intervals import from_dates
from reconciler.core.plan import Plan
from reconciler.core.plan_records import ACTION_ORDER, Gap, UpstreamDates, Waiting
from reconciler.core.planner import plan
from reconciler.core.spec import (
    BackfillRequest,
    DateMapping,
    Dependency,
    PipelineSpec,
    RetryPolicy,
    Schedule,
    ScheduleType,
)

BASE = date(2026, 1, 1)
STARTS = frozenset({"run", "retry", "backfill", "refresh"})
PROPERTY = settings(max_examples=150, deadline=None)
Decision = tuple[object, ...]
KINDS: tuple[ScheduleType, ...] = ("daily", "weekly", "monthly")
MAPPINGS: tuple[DateMapping, ...] = ("period", "same", "latest")


# -- random fleets ----------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Where random fleets live: schedules start within ``starts`` days of ``BASE``,
    ``now`` is within ``now`` days of it; each date is covered with one of ``coverage``.
    ``sparse_batches``: dependants run batches of dates weeks or months apart."""

    starts: int
    now: int
    coverage: tuple[float, ...]
    sparse_batches: bool = False


SHORT = Window(starts=60, now=90, coverage=(0.3, 0.6, 0.9))
# long histories, mostly covered: the planner looks at the upstreams stretch by stretch
LONG = Window(starts=400, now=800, coverage=(0.3, 0.9, 0.97))
# monthly dependants with a backlog of months to backfill in batches, over upstreams
# that have most of their dates
SPARSE = Window(starts=60, now=700, coverage=(0.9, 0.97), sparse_batches=True)


@st.composite
def schedules(draw: st.DrawFn, starts: int) -> Schedule:
    kind = draw(st.sampled_from(KINDS))
    days: tuple[int, ...] = ()
    if kind == "weekly":
        days = tuple(sorted(draw(st.sets(st.integers(0, 6), max_size=3))))
    elif kind == "monthly":
        choice = st.sampled_from([1, 5, 15, 28, 31, -1, -2])
        days = tuple(sorted(draw(st.sets(choice, max_size=2))))
    start = BASE + timedelta(days=draw(st.integers(0, starts)))
    ends = st.integers(10, 200).map(lambda n: start + timedelta(days=n))
    return Schedule(
        type=kind,
        start=start,
        every=draw(st.integers(1, 3)),
        days=days,
        end=draw(st.none() | ends),
        offset=draw(st.integers(0, 3)),  # (a schedule's offset is never negative)
    )


@st.composite
def sparse_schedules(draw: st.DrawFn, starts: int) -> Schedule:
    """Monthly dates, listed one by one: a batch of three spans over a month."""
    return Schedule(
        type="monthly",
        start=BASE + timedelta(days=draw(st.integers(0, starts))),
        every=draw(st.integers(1, 2)),
        days=(draw(st.sampled_from([1, 15, 31, -1])),),
        offset=draw(st.integers(0, 3)),
    )


dependency_entries = st.tuples(st.sampled_from(MAPPINGS), st.integers(-3, 3))


@st.composite
def shapes(draw: st.DrawFn) -> list[list[int]]:
    """Per pipeline, the earlier pipelines it depends on: chains, forks and diamonds."""
    n = draw(st.integers(2, 4))
    kind = draw(st.sampled_from(["chain", "fork", "random"]))
    if kind == "chain":
        return [[]] + [[i - 1] for i in range(1, n)]
    if kind == "fork":  # A -> B, A -> C, B + C -> D
        return [[], [0], [0], [1, 2]][:n]
    out: list[list[int]] = [[]]
    for i in range(1, n):
        ups = draw(st.sets(st.integers(0, i - 1), min_size=1, max_size=2))
        out.append(sorted(ups))
    return out


def due_dates(s: Schedule, now: datetime) -> list[date]:
    last = last_due_day(s, now)
    return [] if last is None else scheduled_between(s, s.start, last)


@st.composite
def pipelines(
    draw: st.DrawFn, pid: str, now: datetime, ups: list[str], window: Window
) -> tuple[PipelineSpec, PipelineObserved]:
    """One pipeline and a random state of its due dates: covered (some outdated, some
    re-running), failed (retryable or exhausted), in flight, never run."""
    sparse = window.sparse_batches and bool(ups)
    schedule = draw(sparse_schedules(window.starts) if sparse else schedules(window.starts))
    rng = random.Random(draw(st.integers(0, 2**32)))
    due = due_dates(schedule, now)
    coverage = rng.choice((0.1, 0.3) if sparse else window.coverage)
    covered, failed, flying = [], {}, {}
    for d in due:
        roll = rng.random()
        if roll < coverage:
            covered.append(d)
            if rng.random() < 0.05:  # a request's re-run of a covered date
                flying[d] = InFlight(run_id=f"{pid}-r{d}", attempt=1)
        elif roll < coverage + 0.1:
            failed[d] = Failed(
                attempt=rng.randint(1, 3), ended_at=now - timedelta(seconds=rng.randint(0, 900))
            )
        elif roll < coverage + 0.15:
            flying[d] = InFlight(run_id=f"{pid}-r{d}", attempt=1)
    outdated = []
    if due and rng.random() < 0.4:
        for _ in range(rng.randint(1, 2)):
            a = rng.choice(due)
            outdated.append((a, a + timedelta(days=rng.randint(0, 20))))
    requests, done = [], {}
    if due and rng.random() < 0.3:
        a = rng.choice(due)
        request = BackfillRequest(
            id=f"{pid}-req",
            start=a,
            end=a + timedelta(days=rng.randint(0, 25)),
            priority=rng.randint(-1, 2),
        )
        requests.append(request)
        done[request.id] = from_dates(d for d in due if a <= d and rng.random() < 0.3)
    deps = tuple(
        Dependency(pipeline=up, dates=mapping, offset=offset)
        for up in ups
        for mapping, offset in [draw(dependency_entries)]
    )
    spec = PipelineSpec(
        id=pid,
        schedule=schedule,
        retry=RetryPolicy(max_retries=draw(st.integers(0, 2)), base_seconds=300),
        multi_date=sparse or rng.random() < 0.5,
        max_dates=rng.randint(3, 6) if sparse else rng.randint(1, 6),
        auto_backfill=sparse or draw(st.booleans()),
        priority=draw(st.integers(-1, 2)),
        order=draw(st.sampled_from(["oldest_first", "newest_first"])),
        requests=tuple(requests),
        depends_on=deps,
        refresh_on_upstream_change=draw(st.booleans()),
        # a new version to refresh everything with (the applied one is "1")
        version=draw(st.sampled_from(["1", "1", "1", "2"])),
        refresh_on_version_change=draw(st.booleans()),
    )
    observed = PipelineObserved(
        covered=from_dates(covered),
        failed=failed,
        in_flight=flying,
        request_done=done,
        outdated=tuple(outdated),
        outdated_since=now - timedelta(hours=1) if outdated else None,
    )
    return spec, observed


def spans(ranges: Iterable[tuple[date, date]]) -> str:
    return " ".join(f"{a}..{b}" if a != b else f"{a}" for a, b in ranges) or "-"


@dataclass(frozen=True)
class Fleet:
    specs: list[PipelineSpec]  # in the order the plan is given them (shuffled)
    observed: Observed
    now: datetime
    order: list[str]  # upstreams first

    def __repr__(self) -> str:
        """Short enough to read when a property fails."""
        lines = [f"Fleet at {self.now.isoformat()}:"]
        for spec in sorted(self.specs, key=lambda s: s.id):
            s, obs = spec.schedule, self.observed.of(spec.id)
            deps = [(d.pipeline, d.dates, d.offset) for d in spec.depends_on]
            lines.append(
                f"  {spec.id}: {s.type} every {s.every} days={s.days} start={s.start}"
                f" offset={s.offset} depends_on={deps}"
                f" auto={spec.auto_backfill} multi={spec.multi_date}/{spec.max_dates}"
                f" retries={spec.retry.max_retries} prio={spec.priority} {spec.order}"
                f" refresh_on_upstream={spec.refresh_on_upstream_change}"
                f" version={spec.version}/{spec.refresh_on_version_change} end={s.end}"
                f" requests {spans((r.start, r.end) for r in spec.requests)}"
            )
            lines.append(f"    covered {spans(obs.coverage)} outdated {spans(obs.outdated_marks)}")
            failed = " ".join(f"{d}#{f.attempt}" for d, f in obs.failed.items())
            flying = " ".join(map(str, sorted(obs.in_flight)))
            lines.append(f"    failed {failed} in flight {flying}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@st.composite
def fleets(draw: st.DrawFn, window: Window) -> Fleet:
    now = datetime.combine(BASE + timedelta(days=draw(st.integers(0, window.now))), time(), UTC)
    now += timedelta(hours=draw(st.integers(0, 23)))
    shape = draw(shapes())
    ids = [f"p{i}" for i in range(len(shape))]
    drawn = [
        draw(pipelines(ids[i], now, [ids[u] for u in ups], window)) for i, ups in enumerate(shape)
    ]
    specs = draw(st.permutations([spec for spec, _ in drawn]))
    applied = AppliedConfigs.parsed({pid: {"version": "1"} for pid in ids})
    observed = Observed({spec.id: obs for spec, obs in drawn}, applied_config=applied)
    return Fleet(list(specs), observed, now, ids)


# -- what a plan made of each date -------------------------------------------------------


def decisions(result: Plan, pid: str) -> dict[date, Decision]:
    """Each date of ``pid`` in the plan (notifications aside); a date met twice fails."""
    seen: dict[date, Decision] = {}

    def put(d: date, what: Decision) -> None:
        assert d not in seen, f"{pid} {d} planned twice: {seen[d]} and {what}"
        seen[d] = what

    for a in result.actions:
        if a.pipeline_id == pid and a.kind != "notify":
            for d in a.dates:
                put(d, (a.kind, a.attempt, a.request_id, a.priority))
    for w in result.waiting:
        if w.pipeline_id == pid:
            for d in w.dates:
                put(d, ("waiting", w.reason, w.attempt, w.next_retry_at, w.refresh))
    for g in result.gaps:
        if g.pipeline_id == pid:
            for d in g.dates:
                put(d, ("gap", g.reason))
    return seen


def entries(result: Plan, pid: str) -> dict[date, Waiting | Gap]:
    out: dict[date, Waiting | Gap] = {}
    for w in result.waiting:
        if w.pipeline_id == pid:
            out.update(dict.fromkeys(w.dates, w))
    for g in result.gaps:
        if g.pipeline_id == pid:
            out.update(dict.fromkeys(g.dates, g))
    return out


def dates_of(ranges: Iterable[tuple[date, date]]) -> set[date]:
    return {a + timedelta(days=i) for a, b in ranges for i in range((b - a).days + 1)}


@dataclass(frozen=True)
class Upstream:
    """One upstream pipeline's dates as the plan leaves them, date by date."""

    covered: set[date]
    rerun: set[date]  # dates about to change: covered ones outdated, in flight, planned or
    # waiting, and any run for a request
    gone: set[date]  # dates in its gaps: they will not run

    def available(self, d: date) -> bool:
        return d in self.covered and d not in self.rerun

    @classmethod
    def of(cls, result: Plan, pid: str, obs: PipelineObserved) -> Upstream:
        covered = dates_of(obs.coverage)
        planned = set(obs.in_flight) | dates_of(obs.outdated_marks)
        for a in result.actions:
            if a.pipeline_id == pid and a.kind != "notify":
                planned.update(a.dates)
        for w in result.waiting:
            if w.pipeline_id == pid:
                planned.update(w.dates)
        gone = {d for g in result.gaps if g.pipeline_id == pid for d in g.dates}
        # dates run for a request (or a refresh) change what read them, covered or not
        asked = {d for d, f in obs.in_flight.items() if f.request_id}
        for a in result.actions:
            if a.pipeline_id == pid and a.kind in STARTS and a.request_id is not None:
                asked.update(a.dates)
        for w in result.waiting:
            if w.pipeline_id == pid and w.reason == "retry":
                asked.update(d for d in w.dates if d in obs.failed and obs.failed[d].request_id)
        return cls(covered, (covered & planned) | asked, gone)


def needs(spec: PipelineSpec, by_id: Mapping[str, PipelineSpec], d: date) -> dict[str, set[date]]:
    """Per upstream, the dates ``d`` needs."""
    out: dict[str, set[date]] = {}
    for dep in spec.depends_on:
        got = needed(spec.schedule, dep, by_id[dep.pipeline].schedule, d)
        out.setdefault(dep.pipeline, set()).update(got)
    return out


def check_listed(upstream: tuple[UpstreamDates, ...], wanted: Mapping[str, set[date]]) -> None:
    """``upstream`` names exactly the pipelines of ``wanted``, each by one range holding
    every date wanted of it."""
    assert sorted(u.pipeline_id for u in upstream) == sorted(p for p, ds in wanted.items() if ds)
    for u in upstream:
        assert u.first <= u.last
        assert all(u.first <= x <= u.last for x in wanted[u.pipeline_id]), (u, wanted)


def stripped(specs: list[PipelineSpec]) -> list[PipelineSpec]:
    return [replace(s, depends_on=()) for s in specs]


def expected_of(
    spec: PipelineSpec,
    by_id: Mapping[str, PipelineSpec],
    ups: Mapping[str, Upstream],
    alone: Mapping[date, Decision],
) -> tuple[dict[date, Decision], dict[date, tuple[str, dict[str, set[date]]]]]:
    """What each date the pipeline decides without ``depends_on`` must become with it,
    and for each held date the entry it must be in (with the upstream dates to name)."""
    expected: dict[date, Decision] = {}
    held: dict[date, tuple[str, dict[str, set[date]]]] = {}
    for d, what in alone.items():
        if what[0] not in STARTS:
            expected[d] = what
            continue
        wanted = needs(spec, by_id, d)
        missing = {p: {x for x in xs if not ups[p].available(x)} for p, xs in wanted.items()}
        lost = {p: xs & ups[p].gone for p, xs in missing.items()}
        if not any(missing.values()):
            expected[d] = what
        elif any(lost.values()):
            expected[d] = ("gap", "upstream_gap")
            held[d] = ("gap", lost)
        else:
            expected[d] = ("waiting", "upstream", what[1], None, what[0] == "refresh")
            held[d] = ("waiting", missing)
    return expected, held


def previews_of(
    spec: PipelineSpec,
    by_id: Mapping[str, PipelineSpec],
    ups: Mapping[str, Upstream],
    covered: set[date],
    decided: Iterable[date],
) -> dict[date, dict[str, set[date]]]:
    """Covered dates (not otherwise decided) reading covered upstream dates about to
    re-run, with those upstream dates: they wait for a refresh."""
    out: dict[date, dict[str, set[date]]] = {}
    if not spec.depends_on or not spec.refresh_on_upstream_change:
        return out
    for d in covered.difference(decided):
        changing = {p: xs & ups[p].rerun for p, xs in needs(spec, by_id, d).items()}
        if any(changing.values()):
            out[d] = changing
    return out


def check_fleet(fleet: Fleet) -> Plan:
    """Every rule of readiness, date by date, for every pipeline of ``fleet``."""
    result = plan(fleet.specs, fleet.observed, fleet.now)
    alone = plan(stripped(fleet.specs), fleet.observed, fleet.now)
    by_id = {s.id: s for s in fleet.specs}
    for pid in fleet.order:
        spec, obs = by_id[pid], fleet.observed.of(pid)
        ups = {
            dep.pipeline: Upstream.of(result, dep.pipeline, fleet.observed.of(dep.pipeline))
            for dep in spec.depends_on
        }
        base = decisions(alone, pid)
        expected, held = expected_of(spec, by_id, ups, base)
        previews = previews_of(spec, by_id, ups, dates_of(obs.coverage), base)
        for d in previews:
            expected[d] = ("waiting", "upstream", 1, None, True)
        got = decisions(result, pid)
        # nothing is lost: the previews aside, the dates it decides alone, moved only
        assert got == expected, pid
        listed = entries(result, pid)
        for d, (kind, wanted) in held.items():
            entry = listed[d]
            assert isinstance(entry, Gap if kind == "gap" else Waiting)
            check_listed(entry.upstream, wanted)
        for d, changing in previews.items():
            entry = listed[d]
            assert isinstance(entry, Waiting)
            check_listed(entry.upstream, changing)
        check_batches(spec, result)
    check_views(result)
    return result


def check_views(result: Plan) -> None:
    """The plan's grouped views and counts tell what its listings tell, and its actions
    are in start order (backfills and refreshes by priority, higher first)."""
    grouped = [a for g in result.action_groups() for a in g.actions()]
    assert sorted(grouped) == sorted(result.actions)
    assert sum(g.run_count for g in result.action_groups()) == result.action_count
    by_kind: dict[str, int] = {}
    for action in result.actions:
        by_kind[action.kind] = by_kind.get(action.kind, 0) + len(action.dates)
    assert result.dates_by_kind() == by_kind
    assert [gap for g in result.gap_groups() for gap in g.gaps()] == list(result.gaps)
    assert result.gap_dates == sum(len(g.dates) for g in result.gaps)
    ranks = [ACTION_ORDER[a.kind] for a in result.actions]
    assert ranks == sorted(ranks)
    turns = [a.priority for a in result.actions if a.kind in ("backfill", "refresh")]
    assert turns == sorted(turns, reverse=True)


def check_batches(spec: PipelineSpec, result: Plan) -> None:
    """Actions left after dates were taken out are still consecutive and within size;
    the dates of each waiting or gap entry for upstreams are consecutive too."""
    size = spec.max_dates if spec.multi_date else 1
    runs = [a.dates for a in result.actions if a.pipeline_id == spec.id and a.kind in STARTS]
    assert all(1 <= len(dates) <= size for dates in runs)
    runs += [w.dates for w in result.waiting if w.pipeline_id == spec.id and w.upstream]
    runs += [g.dates for g in result.gaps if g.pipeline_id == spec.id and g.upstream]
    for dates in runs:
        assert dates
        for x, y in pairwise(dates):
            assert next_scheduled(spec.schedule, x) == y


# -- the properties ----------------------------------------------------------------------


@PROPERTY
@given(fleets(SHORT))
def test_dates_start_only_once_the_upstream_dates_they_need_are_available(fleet: Fleet) -> None:
    check_fleet(fleet)


@settings(max_examples=60, deadline=None)
@given(fleets(LONG))
def test_readiness_holds_over_long_histories(fleet: Fleet) -> None:
    check_fleet(fleet)


@settings(max_examples=60, deadline=None)
@given(fleets(SPARSE))
def test_each_date_of_a_batch_spanning_months_waits_for_its_own_inputs(fleet: Fleet) -> None:
    check_fleet(fleet)


# -- the classic cases -------------------------------------------------------------------


def at(day: date) -> datetime:
    """One hour into ``day``: every date up to ``day`` is due (offset 0, at 00:00)."""
    return datetime.combine(day, time(1), UTC)


def daily(pid: str, start: date, **fields: Any) -> PipelineSpec:
    return PipelineSpec(id=pid, schedule=Schedule(type="daily", start=start), **fields)


def on(pid: str, dates: DateMapping = "period", offset: int = 0) -> tuple[Dependency, ...]:
    return (Dependency(pipeline=pid, dates=dates, offset=offset),)


def covered(*ranges: tuple[date, date], **fields: Any) -> PipelineObserved:
    return PipelineObserved(covered=ranges, **fields)


def kinds(result: Plan, pid: str) -> dict[str, list[date]]:
    """Per action kind, the dates of ``pid`` the plan starts or polls."""
    out: dict[str, list[date]] = {}
    for a in result.actions:
        if a.pipeline_id == pid:
            out.setdefault(a.kind, []).extend(a.dates)
    return out


def mine(result: Plan, pid: str) -> tuple[list[Waiting], list[Gap]]:
    return (
        [w for w in result.waiting if w.pipeline_id == pid],
        [g for g in result.gaps if g.pipeline_id == pid],
    )


MAR = date(2026, 3, 1)


def _days(first: int, last: int, month: int = 3) -> list[date]:
    """Days ``first`` to ``last`` of a month of 2026."""
    return [date(2026, month, n) for n in range(first, last + 1)]


def test_a_sunday_rollup_waits_for_the_seven_days_of_its_week() -> None:
    load = daily("load", date(2026, 3, 2))
    sundays = Schedule(type="weekly", start=date(2026, 3, 8), days=(6,))
    rollup = PipelineSpec(id="rollup", schedule=sundays, depends_on=on("load"))
    # the load has its first week; its second is still to run
    state = Observed({"load": covered((date(2026, 3, 2), date(2026, 3, 8)))})
    result = plan([rollup, load], state, at(date(2026, 3, 16)))
    assert kinds(result, "load") == {"run": [date(2026, 3, 16)], "backfill": _days(9, 15)}
    assert kinds(result, "rollup") == {"backfill": [date(2026, 3, 8)]}
    [waiting], [] = mine(result, "rollup")
    assert waiting.dates == (date(2026, 3, 15),)
    assert waiting.reason == "upstream" and not waiting.refresh
    assert waiting.upstream == (UpstreamDates("load", date(2026, 3, 9), date(2026, 3, 15)),)
    # six days of the week are not enough
    state = Observed({"load": covered((date(2026, 3, 2), date(2026, 3, 14)))})
    result = plan([rollup, load], state, at(date(2026, 3, 16)))
    [waiting], [] = mine(result, "rollup")
    assert waiting.upstream == (UpstreamDates("load", date(2026, 3, 15), date(2026, 3, 15)),)
    # the whole week: the rollup runs
    state = Observed({"load": covered((date(2026, 3, 2), date(2026, 3, 16)))})
    result = plan([rollup, load], state, at(date(2026, 3, 16)))
    assert kinds(result, "rollup") == {"backfill": [date(2026, 3, 8)], "run": [date(2026, 3, 15)]}
    assert mine(result, "rollup") == ([], [])


def test_a_month_end_report_needs_every_day_of_its_month() -> None:
    load = daily("load", date(2026, 1, 1))
    month_end = Schedule(type="monthly", start=date(2026, 1, 31), days=(-1,))
    report = PipelineSpec(id="report", schedule=month_end, depends_on=on("load"))
    # February 27th failed and waits for its retry; January is all there
    failed = {date(2026, 2, 27): Failed(attempt=1, ended_at=at(date(2026, 3, 1)))}
    state = Observed(
        {
            "load": covered((date(2026, 1, 1), date(2026, 2, 26)), (MAR, MAR), failed=failed),
            "report": covered(),
        }
    )
    result = plan([load, report], state, at(date(2026, 3, 1)))
    assert kinds(result, "report") == {"backfill": [date(2026, 1, 31)]}
    [waiting], [] = mine(result, "report")
    assert waiting.dates == (date(2026, 2, 28),)
    # the 27th waits for its retry, the 28th runs now: both are named
    assert waiting.upstream == (UpstreamDates("load", date(2026, 2, 27), date(2026, 2, 28)),)


def test_a_daily_report_on_the_latest_weekly_snapshot() -> None:
    mondays = Schedule(type="weekly", start=date(2026, 3, 2), days=(0,))
    snapshot = PipelineSpec(id="snapshot", schedule=mondays)
    report = daily("report", date(2026, 3, 2), depends_on=on("snapshot", "latest"))
    # the Monday 9th snapshot is still running: the report's 9th to 12th wait for it,
    # the days before read the 2nd's
    flying = {date(2026, 3, 9): InFlight(run_id="s9")}
    state = Observed(
        {
            "snapshot": covered((date(2026, 3, 2), date(2026, 3, 2)), in_flight=flying),
            "report": covered((date(2026, 3, 2), date(2026, 3, 5))),
        }
    )
    result = plan([snapshot, report], state, at(date(2026, 3, 12)))
    assert kinds(result, "report") == {"backfill": _days(6, 8)}
    [waiting], [] = mine(result, "report")
    assert waiting.dates == tuple(_days(9, 12))
    assert waiting.upstream == (UpstreamDates("snapshot", date(2026, 3, 9), date(2026, 3, 9)),)


def test_yesterdays_load_with_an_offset_of_minus_one() -> None:
    load = daily("load", MAR, retry=RetryPolicy(max_retries=2, base_seconds=600))
    report = daily("report", date(2026, 3, 2), depends_on=on("load", "same", -1))
    failed = {date(2026, 3, 15): Failed(attempt=1, ended_at=at(date(2026, 3, 16)))}
    state = Observed(
        {
            "load": covered((MAR, date(2026, 3, 14)), failed=failed),
            "report": covered((date(2026, 3, 2), date(2026, 3, 14))),
        }
    )
    result = plan([load, report], state, at(date(2026, 3, 16)))
    # the 15th reads the 14th (there); the 16th reads the 15th (waiting for a retry)
    assert kinds(result, "report") == {"backfill": [date(2026, 3, 15)]}
    [waiting], [] = mine(result, "report")
    assert waiting.dates == (date(2026, 3, 16),) and waiting.attempt == 1
    assert waiting.upstream == (UpstreamDates("load", date(2026, 3, 15), date(2026, 3, 15)),)


def test_a_request_re_running_upstream_days_shows_the_refreshes_it_will_cause() -> None:
    request = BackfillRequest(id="fix", start=date(2026, 3, 5), end=date(2026, 3, 6))
    load = daily("load", MAR, requests=(request,))
    report = daily("report", MAR, depends_on=on("load", "same"))
    sundays = Schedule(type="weekly", start=MAR, days=(6,))
    rollup = PipelineSpec(id="rollup", schedule=sundays, depends_on=on("report"))
    everything = covered((MAR, date(2026, 3, 16)))
    state = Observed({"load": everything, "report": everything, "rollup": everything})
    result = plan([load, report, rollup], state, at(date(2026, 3, 16)))
    assert kinds(result, "load") == {"backfill": _days(5, 6)}
    assert kinds(result, "report") == {} and kinds(result, "rollup") == {}
    # the report's two days, and through them the rollup's Sunday, will be refreshed
    report_waits, [] = mine(result, "report")
    assert [(w.dates, w.refresh, w.reason) for w in report_waits] == [
        ((date(2026, 3, 5),), True, "upstream"),
        ((date(2026, 3, 6),), True, "upstream"),
    ]
    assert [w.upstream for w in report_waits] == [
        (UpstreamDates("load", date(2026, 3, 5), date(2026, 3, 5)),),
        (UpstreamDates("load", date(2026, 3, 6), date(2026, 3, 6)),),
    ]
    [rollup_waits], [] = mine(result, "rollup")
    assert rollup_waits.dates == (date(2026, 3, 8),) and rollup_waits.refresh
    assert rollup_waits.upstream == (UpstreamDates("report", date(2026, 3, 5), date(2026, 3, 6)),)
    # a report that does not refresh on upstream changes shows nothing, nor does its rollup
    quiet = replace(report, refresh_on_upstream_change=False)
    result = plan([load, quiet, rollup], state, at(date(2026, 3, 16)))
    assert mine(result, "report") == ([], []) and mine(result, "rollup") == ([], [])
    assert kinds(result, "load") == {"backfill": _days(5, 6)}


def test_an_upstream_gap_makes_gaps_downstream_all_the_way_down() -> None:
    load = daily("load", MAR, retry=RetryPolicy(max_retries=0))
    report = daily("report", MAR, depends_on=on("load", "same"))
    sundays = Schedule(type="weekly", start=MAR, days=(6,))
    rollup = PipelineSpec(id="rollup", schedule=sundays, depends_on=on("report"))
    failed = {date(2026, 3, 10): Failed(attempt=1, ended_at=at(date(2026, 3, 10)))}
    state = Observed(
        {
            "load": covered(
                (MAR, date(2026, 3, 9)), (date(2026, 3, 11), date(2026, 3, 16)), failed=failed
            ),
            "report": covered((MAR, date(2026, 3, 9))),
            "rollup": covered((MAR, MAR)),
        }
    )
    result = plan([rollup, report, load], state, at(date(2026, 3, 16)))
    [], [load_gap] = mine(result, "load")
    assert load_gap.reason == "retries_exhausted" and load_gap.dates == (date(2026, 3, 10),)
    [], [report_gap] = mine(result, "report")
    assert report_gap.dates == (date(2026, 3, 10),) and report_gap.reason == "upstream_gap"
    assert report_gap.upstream == (UpstreamDates("load", date(2026, 3, 10), date(2026, 3, 10)),)
    assert kinds(result, "report") == {"backfill": _days(11, 15), "run": [date(2026, 3, 16)]}
    # the rollup's 8th is there to read; its 15th needs the report's 10th, which will not
    # run, and the report's 11th to 15th, which will: it is a gap, naming the 10th
    assert kinds(result, "rollup") == {"backfill": [date(2026, 3, 8)]}
    [], [rollup_gap] = mine(result, "rollup")
    assert rollup_gap.dates == (date(2026, 3, 15),) and rollup_gap.reason == "upstream_gap"
    assert rollup_gap.upstream == (UpstreamDates("report", date(2026, 3, 10), date(2026, 3, 10)),)


def test_an_outdated_date_is_refreshed_once_its_inputs_are_available() -> None:
    load = daily("load", MAR)
    report = daily("report", MAR, depends_on=on("load", "same"))
    flying = {date(2026, 3, 12): InFlight(run_id="l12")}
    state = Observed(
        {
            "load": covered((MAR, date(2026, 3, 16)), in_flight=flying),
            "report": covered(
                (MAR, date(2026, 3, 16)),
                outdated=((date(2026, 3, 10), date(2026, 3, 12)),),
                outdated_since=at(date(2026, 3, 16)),
            ),
        }
    )
    result = plan([load, report], state, at(date(2026, 3, 16)))
    assert kinds(result, "report") == {"refresh": _days(10, 11)}
    [waiting], [] = mine(result, "report")
    # the 12th reads a load date that is running again: it waits, then refreshes
    assert waiting.dates == (date(2026, 3, 12),) and waiting.refresh
    assert waiting.upstream == (UpstreamDates("load", date(2026, 3, 12), date(2026, 3, 12)),)


def test_a_covered_date_a_request_cannot_re_run_is_a_gap_and_not_also_a_preview() -> None:
    request = BackfillRequest(id="again", start=date(2026, 3, 8), end=date(2026, 3, 8))
    load = daily("load", MAR, auto_backfill=False)
    sundays = Schedule(type="weekly", start=MAR, days=(6,))
    rollup = PipelineSpec(id="rollup", schedule=sundays, depends_on=on("load"), requests=(request,))
    # the load's 3rd never ran (and will not: no auto backfill), its 5th runs again
    flying = {date(2026, 3, 5): InFlight(run_id="l5")}
    state = Observed(
        {
            "load": covered(
                (MAR, date(2026, 3, 2)), (date(2026, 3, 4), date(2026, 3, 9)), in_flight=flying
            ),
            "rollup": covered((MAR, date(2026, 3, 8))),
        }
    )
    result = plan([load, rollup], state, at(date(2026, 3, 9)))
    assert kinds(result, "rollup") == {}
    [], [gap] = mine(result, "rollup")
    assert gap.dates == (date(2026, 3, 8),) and gap.reason == "upstream_gap"
    assert gap.upstream == (UpstreamDates("load", date(2026, 3, 3), date(2026, 3, 3)),)


def test_only_upstream_dates_that_run_again_preview_a_refresh() -> None:
    load = daily("load", MAR, retry=RetryPolicy(max_retries=2, base_seconds=60))
    report = daily("report", MAR, depends_on=on("load", "same"))
    # the load's 5th never succeeded; the report's 5th ran anyway (before the dependency)
    holes = covered((MAR, date(2026, 3, 4)), (date(2026, 3, 6), date(2026, 3, 9)))
    retried = replace(holes, failed={date(2026, 3, 5): Failed(attempt=1, ended_at=at(MAR))})
    for load_state, kind in ((holes, "backfill"), (retried, "retry")):
        state = Observed({"load": load_state, "report": covered((MAR, date(2026, 3, 9)))})
        result = plan([load, report], state, at(date(2026, 3, 9)))
        assert kinds(result, "load") == {kind: [date(2026, 3, 5)]}
        assert mine(result, "report") == ([], [])


def test_the_middle_month_of_a_batch_waits_for_its_own_inputs() -> None:
    load = daily("load", date(2026, 1, 1))
    firsts = Schedule(type="monthly", start=date(2026, 1, 1), days=(1,))
    report = PipelineSpec(
        id="report", schedule=firsts, multi_date=True, max_dates=3, depends_on=on("load")
    )
    # February 1st reads January 2nd to February 1st; the 15th waits for a retry
    failed = {date(2026, 1, 15): Failed(attempt=1, ended_at=at(date(2026, 4, 1)))}
    holes = ((date(2026, 1, 1), date(2026, 1, 14)), (date(2026, 1, 16), date(2026, 4, 1)))
    state = Observed({"load": covered(*holes, failed=failed)})
    result = plan([load, report], state, at(date(2026, 4, 1)))
    assert kinds(result, "report") == {
        "run": [date(2026, 4, 1)],
        "backfill": [date(2026, 1, 1), date(2026, 3, 1)],
    }
    [waiting], [] = mine(result, "report")
    assert waiting.dates == (date(2026, 2, 1),)
    assert waiting.upstream == (UpstreamDates("load", date(2026, 1, 15), date(2026, 1, 15)),)


def test_a_refresh_whose_input_will_never_run_is_a_gap() -> None:
    orders = daily("orders", MAR, auto_backfill=False)
    prices = daily("prices", MAR)
    report = daily(
        "report",
        MAR,
        depends_on=(Dependency(pipeline="orders", dates="same"), *on("prices", "same")),
    )
    day = date(2026, 3, 10)
    state = Observed(
        {
            # the orders' 10th never ran and will not; the prices' 10th runs again
            "orders": covered((MAR, date(2026, 3, 9)), (date(2026, 3, 11), date(2026, 3, 16))),
            "prices": covered((MAR, date(2026, 3, 16)), in_flight={day: InFlight(run_id="p")}),
            "report": covered((MAR, date(2026, 3, 16)), outdated=((day, day),)),
        }
    )
    result = plan([orders, prices, report], state, at(date(2026, 3, 16)))
    # the orders' 10th will never run: the refresh is a gap naming it (waiting would
    # never end), though the date stays covered
    [], [gap] = mine(result, "report")
    assert gap.dates == (day,) and gap.reason == "upstream_gap"
    assert gap.upstream == (UpstreamDates("orders", day, day),)


def test_a_date_whose_upstream_is_not_in_the_plan_waits_for_it() -> None:
    report = daily("report", MAR, depends_on=on("elsewhere", "same", -1))
    result = plan([report], Observed(), at(date(2026, 3, 3)))
    assert kinds(result, "report") == {}
    [waiting], [] = mine(result, "report")
    assert waiting.dates == (MAR, date(2026, 3, 2), date(2026, 3, 3))
    assert waiting.upstream == (UpstreamDates("elsewhere", date(2026, 2, 28), date(2026, 3, 2)),)
