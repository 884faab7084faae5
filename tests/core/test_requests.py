"""When a backfill request is complete (docs/notifications.md, ``backfill_complete``):
decided from the plan, the observed state and the spec alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from reconciler.core.calendar import is_scheduled
from reconciler.core.compact_actions import ActionList
from reconciler.core.coverage import Failed, Observed, PipelineObserved
from reconciler.core.intervals import from_dates
from reconciler.core.plan import Action, Plan, Waiting
from reconciler.core.planner import plan
from reconciler.core.requests import request_complete
from reconciler.core.spec import BackfillRequest, PipelineSpec, RetryPolicy, Schedule

NOW = datetime(2024, 1, 11, tzinfo=UTC)  # 2024-01-11 is the latest due date
DAILY = Schedule(type="daily", start=date(2024, 1, 1))
R1 = BackfillRequest(id="r1", start=date(2024, 1, 3), end=date(2024, 1, 5))


def d(day: int) -> date:
    return date(2024, 1, day)


def spec(request: BackfillRequest = R1, schedule: Schedule = DAILY) -> PipelineSpec:
    return PipelineSpec(id="p", schedule=schedule, requests=(request,))


def done(*days: int, request: str = "r1", **kw: object) -> PipelineObserved:
    return PipelineObserved(request_done={request: from_dates(d(x) for x in days)}, **kw)  # type: ignore[arg-type]


def bare(*, actions: tuple[Action, ...] = (), waiting: tuple[Waiting, ...] = ()) -> Plan:
    return Plan(now=NOW, pipelines=1, actions=ActionList.of(actions), waiting=waiting)


def test_every_date_run_for_the_request_and_nothing_pending_is_complete() -> None:
    assert request_complete(spec(), done(3, 4, 5), bare(), R1)


def test_a_date_not_run_for_the_request_is_not_complete() -> None:
    assert not request_complete(spec(), done(3, 5), bare(), R1)
    # run for another request does not count
    assert not request_complete(spec(), done(3, 4, 5, request="r2"), bare(), R1)


def test_an_action_serving_the_request_keeps_it_open() -> None:
    action = Action("p", "backfill", (d(4),), 0, 2, "r1")
    assert not request_complete(spec(), done(3, 4, 5), bare(actions=(action,)), R1)
    other = Action("p", "backfill", (d(4),), 0, 2, "r2")
    assert request_complete(spec(), done(3, 4, 5), bare(actions=(other,)), R1)


def test_a_failed_date_of_the_request_waiting_for_its_retry_keeps_it_open() -> None:
    waiting = Waiting(pipeline_id="p", dates=(d(4),), next_retry_at=NOW, attempt=1)
    failed = {d(4): Failed(attempt=1, ended_at=NOW, request_id="r1", run_id="b")}
    assert not request_complete(spec(), done(3, 4, 5, failed=failed), bare(waiting=(waiting,)), R1)
    # the waiting date failed for something else: not this request's retry
    other = {d(4): Failed(attempt=1, ended_at=NOW, request_id=None, run_id="b")}
    assert request_complete(spec(), done(3, 4, 5, failed=other), bare(waiting=(waiting,)), R1)


def test_dates_still_to_come_keep_it_open() -> None:
    later = BackfillRequest(id="r1", start=d(9), end=d(20))
    assert not request_complete(spec(later), done(9, 10, 11), bare(), later)
    # a schedule that ends before the request's end has nothing more to come
    ended = Schedule(type="daily", start=d(1), end=d(10))
    assert request_complete(spec(later, ended), done(9, 10), bare(), later)


def test_nothing_due_or_nothing_scheduled_is_never_complete() -> None:
    future = Schedule(type="daily", start=d(20))
    assert not request_complete(spec(schedule=future), done(), bare(), R1)
    # weekly on Mondays: 2024-01-03..05 (Wednesday..Friday) holds no scheduled date
    mondays = Schedule(type="weekly", start=d(1), days=(0,))
    assert not request_complete(spec(schedule=mondays), done(), bare(), R1)


# --- against the planner ------------------------------------------------------------


@st.composite
def cases(draw: st.DrawFn) -> tuple[PipelineSpec, PipelineObserved, datetime, BackfillRequest]:
    weekly = draw(st.booleans())
    schedule = Schedule(
        type="weekly" if weekly else "daily",
        start=date(2024, 1, 1),
        every=draw(st.integers(1, 2)),
        days=tuple(sorted(draw(st.sets(st.integers(0, 6), min_size=1)))) if weekly else (),
    )
    first = draw(st.dates(date(2023, 12, 20), date(2024, 3, 1)))
    request = BackfillRequest(
        id="r1", start=first, end=first + timedelta(days=draw(st.integers(0, 40)))
    )
    now = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=draw(st.integers(0, 120)))
    days = [request.start + timedelta(days=i) for i in range((request.end - request.start).days)]
    if draw(st.booleans()):  # all of it, or some of it, run for the request
        ran = [*days, request.end]
    else:
        ran = draw(st.lists(st.sampled_from(days), unique=True)) if days else []
    obs = PipelineObserved(
        # every due date is covered: the request is all the planner has to do
        covered=[(schedule.start, now.date())],
        request_done={"r1": from_dates(ran)},
    )
    return PipelineSpec(id="p", schedule=schedule, requests=(request,)), obs, now, request


@settings(max_examples=200, deadline=None)
@given(cases())
def test_complete_exactly_when_the_planner_has_nothing_left_for_it(
    case: tuple[PipelineSpec, PipelineObserved, datetime, BackfillRequest],
) -> None:
    """Complete <=> the request has a due date, none still to come, and the planner plans
    no run for it (its dates listed one by one here, not with the calendar's ranges)."""
    s, obs, now, request = case
    the_plan = plan([s], Observed({"p": obs}), now)
    dates = [
        request.start + timedelta(days=i) for i in range((request.end - request.start).days + 1)
    ]
    scheduled = [x for x in dates if x >= s.schedule.start and is_scheduled(s.schedule, x)]
    due = [x for x in scheduled if x <= now.date()]  # due at midnight of their own day
    planned = any(a.request_id == "r1" for a in the_plan.actions)
    expected = bool(due) and len(due) == len(scheduled) and not planned
    event(f"complete: {expected}")
    assert request_complete(s, obs, the_plan, request) == expected


def test_retry_policy_does_not_matter_once_every_date_ran() -> None:
    """A failed run of a request's date still counts as run for it (no retry left)."""
    s = PipelineSpec(id="p", schedule=DAILY, requests=(R1,), retry=RetryPolicy(enabled=False))
    failed = {d(4): Failed(attempt=1, ended_at=NOW, request_id="r1", run_id="b")}
    obs = done(3, 4, 5, failed=failed)
    assert request_complete(s, obs, plan([s], Observed({"p": obs}), NOW), R1)
