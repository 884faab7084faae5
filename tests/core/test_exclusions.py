"""Excluded dates in the planner (docs/planning.md, "Excluded dates"): never in an action,
a gap, a waiting entry or an SLA breach; a covered excluded date keeps its coverage and
is never re-run; a dependant treats an excluded upstream date as not needed.

The property test is metamorphic: excluding dates from a random pipeline plans, date by
date, exactly what the same pipeline planned without the exclusion, less those dates.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from test_planner_properties import cases, instants

from reconciler.core.coverage import Failed, InFlight, Observed, PipelineObserved
from reconciler.core.date_states import classify_dates
from reconciler.core.intervals import from_dates
from reconciler.core.plan import Excluded, Plan
from reconciler.core.planner import plan
from reconciler.core.spec import (
    BackfillRequest,
    Dependency,
    Exclusion,
    PipelineSpec,
    RetryPolicy,
    Schedule,
)
from reconciler.core.status import pipeline_status

D = date.fromisoformat
NOW = datetime(2024, 1, 10, 12, tzinfo=UTC)  # daily from 2024-01-01: 01-01..01-10 due
DAILY = Schedule(type="daily", start=D("2024-01-01"))


def days(first: str, last: str) -> list[date]:
    a, b = D(first), D(last)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


def excluding(*spans: str) -> tuple[Exclusion, ...]:
    out = []
    for text in spans:
        first, _, last = text.partition("..")
        out.append(Exclusion(first=D(first), last=D(last or first), reason="outage"))
    return tuple(out)


def dated(p: Plan) -> dict[str, set[date]]:
    """Every date the plan mentions, by what it becomes (polls and notifications aside)."""
    out: dict[str, set[date]] = {}
    for action in p.actions:
        if action.kind not in ("poll", "notify"):
            out.setdefault(action.kind, set()).update(action.dates)
    for gap in p.gaps:
        out.setdefault(f"gap {gap.reason}", set()).update(gap.dates)
    for waiting in p.waiting:
        out.setdefault(f"waiting {waiting.reason}", set()).update(waiting.dates)
    for breach in p.sla_breaches:
        out.setdefault("sla", set()).add(breach.date)
    return out


def mentioned(p: Plan) -> set[date]:
    return {d for found in dated(p).values() for d in found}


def one(spec: PipelineSpec, obs: PipelineObserved | None = None, now: datetime = NOW) -> Plan:
    return plan([spec], Observed({spec.id: obs} if obs else {}), now)


def test_excluded_dates_are_never_planned_and_counted() -> None:
    spec = PipelineSpec(id="p", schedule=DAILY, exclude=excluding("2024-01-03..2024-01-05"))
    p = one(spec)
    assert dated(p) == {
        "run": {D("2024-01-10")},
        "backfill": set(days("2024-01-01", "2024-01-09")) - set(days("2024-01-03", "2024-01-05")),
    }
    assert p.excluded == (Excluded("p", 3),)
    assert not p.gaps and not p.waiting


def test_an_excluded_latest_date_is_not_run() -> None:
    spec = PipelineSpec(id="p", schedule=DAILY, exclude=excluding("2024-01-10"))
    assert dated(one(spec)) == {"backfill": set(days("2024-01-01", "2024-01-09"))}


def test_a_batch_splits_around_an_excluded_date() -> None:
    spec = PipelineSpec(
        id="p", schedule=DAILY, multi_date=True, max_dates=31, exclude=excluding("2024-01-04")
    )
    batches = [a.dates for a in one(spec).actions if a.kind == "backfill"]
    assert batches == [
        tuple(days("2024-01-01", "2024-01-03")),
        tuple(days("2024-01-05", "2024-01-09")),
    ]


def test_excluded_dates_are_no_gaps_when_auto_backfill_is_off() -> None:
    spec = PipelineSpec(
        id="p", schedule=DAILY, auto_backfill=False, exclude=excluding("2024-01-02..2024-01-08")
    )
    gaps = {d for g in one(spec).gaps for d in g.dates}
    assert gaps == {D("2024-01-01"), D("2024-01-09")}


def test_failed_excluded_dates_are_neither_retried_nor_gaps() -> None:
    spec = PipelineSpec(
        id="p",
        schedule=DAILY,
        retry=RetryPolicy(max_retries=1),
        exclude=excluding("2024-01-02..2024-01-03"),
    )
    obs = PipelineObserved(
        covered=from_dates([*days("2024-01-04", "2024-01-10"), D("2024-01-01")]),
        failed={
            D("2024-01-02"): Failed(attempt=1, ended_at=NOW - timedelta(hours=1)),
            D("2024-01-03"): Failed(attempt=2, ended_at=NOW - timedelta(hours=1)),
        },
    )
    p = one(spec, obs)
    assert mentioned(p) == set()
    assert not p.has_changes


def test_a_run_in_flight_on_an_excluded_date_is_still_polled() -> None:
    spec = PipelineSpec(id="p", schedule=DAILY, exclude=excluding("2024-01-05"))
    obs = PipelineObserved(
        covered=from_dates(d for d in days("2024-01-01", "2024-01-10") if d != D("2024-01-05")),
        in_flight={D("2024-01-05"): InFlight(run_id="r1")},
    )
    assert [(a.kind, a.dates) for a in one(spec, obs).actions] == [("poll", (D("2024-01-05"),))]


def test_excluded_dates_never_breach_their_sla() -> None:
    spec = PipelineSpec(
        id="p",
        schedule=DAILY,
        sla_time=time(6),
        sla_notify=True,
        exclude=excluding("2024-01-06..2024-01-09"),
    )
    obs = PipelineObserved(
        covered=from_dates(days("2024-01-01", "2024-01-04")),
        sla_since=datetime(2024, 1, 1, tzinfo=UTC),
    )
    p = one(spec, obs)
    # 01-10's deadline (06:00) has passed too
    assert {b.date for b in p.sla_breaches} == {D("2024-01-05"), D("2024-01-10")}
    assert [a.dates for a in p.actions if a.kind == "notify"] == [
        (D("2024-01-05"), D("2024-01-10"))
    ]


def test_a_covered_excluded_date_keeps_its_coverage_and_is_never_rerun() -> None:
    spec = PipelineSpec(
        id="p",
        schedule=DAILY,
        exclude=excluding("2024-01-02..2024-01-03"),
        requests=(BackfillRequest(id="again", start=D("2024-01-01"), end=D("2024-01-04")),),
    )
    obs = PipelineObserved(
        covered=from_dates(days("2024-01-01", "2024-01-10")),
        outdated=[(D("2024-01-01"), D("2024-01-10"))],
        outdated_since=NOW - timedelta(hours=1),
    )
    p = one(spec, obs)
    found = dated(p)
    assert found["backfill"] == {D("2024-01-01"), D("2024-01-04")}
    assert D("2024-01-02") not in mentioned(p) and D("2024-01-03") not in mentioned(p)
    assert p.excluded == ()  # covered: nothing left out
    status = pipeline_status(spec, obs, NOW)
    assert (status.covered, status.excluded, status.missing) == (10, 0, 0)


def test_a_weekly_pipeline_skips_its_excluded_dates() -> None:
    weekly = Schedule(type="weekly", start=D("2024-01-01"), days=(0, 3))  # Mon, Thu
    spec = PipelineSpec(id="w", schedule=weekly, exclude=excluding("2024-01-04..2024-01-08"))
    assert mentioned(one(spec, now=datetime(2024, 1, 20, tzinfo=UTC))) == {
        D("2024-01-01"),
        D("2024-01-11"),
        D("2024-01-15"),
        D("2024-01-18"),
    }


def test_a_dependant_does_not_wait_for_an_excluded_upstream_date() -> None:
    up = PipelineSpec(id="up", schedule=DAILY, exclude=excluding("2024-01-03"))
    weekly = Schedule(type="weekly", start=D("2024-01-07"), days=(6,))  # Sundays
    down = PipelineSpec(id="down", schedule=weekly, depends_on=(Dependency(pipeline="up"),))
    covered = from_dates(d for d in days("2024-01-01", "2024-01-10") if d != D("2024-01-03"))
    p = plan([up, down], Observed({"up": PipelineObserved(covered=covered)}), NOW)
    assert dated(p) == {"run": {D("2024-01-07")}}
    # without the exclusion the same Sunday waits for the missing day
    plain = plan(
        [PipelineSpec(id="up", schedule=DAILY), down],
        Observed({"up": PipelineObserved(covered=covered)}),
        NOW,
    )
    assert dated(plain) == {"backfill": {D("2024-01-03")}, "waiting upstream": {D("2024-01-07")}}


def test_status_and_calendar_count_excluded_dates_apart() -> None:
    spec = PipelineSpec(
        id="p",
        schedule=DAILY,
        retry=RetryPolicy(max_retries=0),
        exclude=excluding("2024-01-04..2024-01-06"),
    )
    obs = PipelineObserved(
        covered=from_dates([*days("2024-01-01", "2024-01-03"), D("2024-01-06")]),
        failed={
            D("2024-01-05"): Failed(attempt=1, ended_at=NOW),
            D("2024-01-07"): Failed(attempt=1, ended_at=NOW),
        },
        in_flight={D("2024-01-04"): InFlight(run_id="r")},
    )
    status = pipeline_status(spec, obs, NOW)
    # 04 in flight, 05 excluded (its failure is no news), 06 covered, 07 failed, 08..10 missing
    assert (status.due, status.covered, status.excluded, status.failed) == (10, 4, 1, 1)
    assert (status.in_flight, status.missing) == (1, 3)
    assert status.coverage_pct == 100.0 * 4 / 9
    states = classify_dates(spec, obs, NOW, D("2024-01-03"), D("2024-01-12"))
    assert [states[d] for d in days("2024-01-03", "2024-01-08")] == [
        "covered",
        "in_flight",
        "excluded",
        "covered",
        "failed",
        "gap",
    ]


def _with_random_exclusions(spec: PipelineSpec, seed: int, now: datetime) -> PipelineSpec:
    rng = random.Random(seed)
    lo = spec.schedule.start.toordinal() - 10
    hi = max(lo, now.date().toordinal() + 10)
    spans: list[Exclusion] = []
    for _ in range(rng.randint(1, 4)):
        a = rng.randint(lo, hi)
        b = a + rng.choice([0, 0, 1, 3, 20, 90])
        spans.append(Exclusion(first=date.fromordinal(a), last=date.fromordinal(b)))
    return replace(spec, exclude=tuple(spans))


def _inside(spec: PipelineSpec, found: Iterable[date]) -> set[date]:
    return {d for d in found if any(e.first <= d <= e.last for e in spec.exclude)}


@settings(max_examples=80, deadline=None)
@given(st.data(), instants, st.integers(0, 2**32))
def test_excluding_dates_plans_the_rest_date_by_date_as_before(
    data: st.DataObject, now: datetime, seed: int
) -> None:
    spec, obs = data.draw(cases("p", now))
    excluded = _with_random_exclusions(spec, seed, now)
    before = dated(one(spec, obs, now))
    after = dated(one(excluded, obs, now))
    expected = {k: v - _inside(excluded, v) for k, v in before.items()}
    assert {k: v for k, v in after.items() if v} == {k: v for k, v in expected.items() if v}
    # polls are untouched: runs in flight are followed, excluded or not
    polls_before = [a for a in one(spec, obs, now).actions if a.kind == "poll"]
    assert [a for a in one(excluded, obs, now).actions if a.kind == "poll"] == polls_before
