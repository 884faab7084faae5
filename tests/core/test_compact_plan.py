"""The compact forms behind big plans: ``DayRanges`` ordinals, lazy ``BackfillBlock``s and
``GapRun``s, and their grouped views, must say exactly what the plain per-date forms say."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.core.compact_actions import BackfillBlock, ListedActions
from reconciler.core.intervals import DayRanges, complement, contains, from_dates
from reconciler.core.plan import Action, ActionList, Plan

BASE = date(2024, 1, 1).toordinal()
NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
NOW_2026 = datetime(2026, 1, 1, 12, tzinfo=UTC)
ONE_DAY = timedelta(days=1)
days = st.sets(st.integers(0, 80), max_size=60)


@given(days, st.integers(-5, 85), st.integers(-5, 85))
def test_coverage_counts_and_holes_match_the_days(covered: set[int], a: int, b: int) -> None:
    cov = DayRanges.of(from_dates(date.fromordinal(BASE + d) for d in covered))
    lo, hi = BASE + a, BASE + b
    inside = {BASE + d for d in covered if a <= d <= b}
    assert cov.days_within(lo, hi) == len(inside)
    holes = [o for x, y in cov.holes(lo, hi) for o in range(x, y + 1)]
    assert holes == [o for o in range(lo, hi + 1) if o not in inside]
    assert cov.uncovered_within(lo, hi) == len(holes)
    window = list(range(lo, hi + 1))
    assert cov.any_of(window) == any(o - BASE in covered for o in window)
    for o in range(lo, hi + 1):
        assert cov.any_of([o]) == cov.covers(o) == (o - BASE in covered)
        assert contains(cov, date.fromordinal(o)) == (o - BASE in covered)
    plain = tuple(cov)
    first, last = date.fromordinal(min(lo, hi)), date.fromordinal(hi)
    assert list(complement(cov, first, last)) == list(complement(plain, first, last))
    assert DayRanges.of(plain) == cov == plain


@given(
    days,
    st.integers(0, 40),
    st.integers(20, 90),
    st.integers(1, 7),
    st.integers(0, 6),
    st.integers(1, 4),
    st.booleans(),
    st.sets(st.integers(0, 90), max_size=8),
)
def test_block_lists_the_uncovered_scheduled_dates_in_batches(
    covered: set[int],
    first: int,
    last: int,
    step: int,
    phase: int,
    batch: int,
    newest_first: bool,
    excluded: set[int],
) -> None:
    cov = DayRanges.of(from_dates(date.fromordinal(BASE + d) for d in covered))
    origin = BASE + phase
    scheduled = [
        o
        for o in range(BASE + first, BASE + last + 1)
        if (o - origin) % step == 0 and o - BASE not in covered
    ]
    # the planner's own excluded dates: scheduled, uncovered, inside the window
    exclude = sorted(
        BASE + e
        for e in excluded
        if (BASE + e - origin) % step == 0 and e not in covered and first <= e <= last
    )
    wanted = [o for o in scheduled if o not in exclude]
    block = BackfillBlock(
        pipeline_id="p",
        priority=3,
        coverage=cov,
        first=BASE + first,
        last=BASE + last,
        origin=origin,
        step=step,
        batch=batch,
        newest_first=newest_first,
        exclude=tuple(exclude),
    )
    # runs: maximal stretches of consecutive scheduled dates (no covered/excluded between)
    runs: list[list[int]] = []
    for o in wanted:
        if (
            runs
            and o - runs[-1][-1] == step
            and all(m in wanted for m in range(runs[-1][-1], o + 1, step))
        ):
            runs[-1].append(o)
        else:
            runs.append([o])
    expected: list[tuple[int, ...]] = []
    for run in reversed(runs) if newest_first else runs:
        if newest_first:
            chunks = [run[max(i - batch, 0) : i] for i in range(len(run), 0, -batch)]
        else:
            chunks = [run[i : i + batch] for i in range(0, len(run), batch)]
        expected += [tuple(c) for c in chunks]
    listed = list(block)
    assert [tuple(d.toordinal() for d in a.dates) for a in listed] == expected
    assert all(a.kind == "backfill" and a.priority == 3 for a in listed)
    assert block.date_count == len(wanted)
    assert block.action_count == len(expected) == len(listed)
    # the grouped view: spans are the runs, cut into the same actions without listing them
    groups = list(block.groups())
    assert [tuple(run) for g in groups for run in g.runs()] == expected
    assert [a for g in groups for a in g.actions()] == listed
    assert sum(g.run_count for g in groups) == len(expected)
    assert sum(g.date_count for g in groups) == len(wanted)
    if expected:
        (group,) = groups
        assert [list(span) for span in group.spans] == runs
        if batch == 1:  # one date per action: the days in listing order are the actions
            assert list(group.days()) == [run[0] for run in expected]


def test_action_list_takes_turns_and_counts_without_listing() -> None:
    cov = DayRanges.of([(date(2024, 1, 2), date(2024, 1, 3))])
    o = date(2024, 1, 1).toordinal()
    a = BackfillBlock(
        pipeline_id="a", priority=0, coverage=cov, first=o, last=o + 4, origin=o, step=1
    )
    b = (Action("b", "backfill", (date(2024, 2, 1),)),)
    head = (Action("c", "run", (date(2024, 3, 1),)),)
    listing = ActionList(head, [[a, ListedActions(b)]], ())
    assert len(listing) == 5
    assert listing.dates_by_kind() == {"run": 1, "backfill": 4}
    plan = Plan(now=NOW, pipelines=3, actions=listing)
    assert plan.action_count == 5 and plan.summary["backfill"] == 4
    # one group per lone action, one for the block (its dates as two ranges)
    groups = list(plan.action_groups())
    assert [(g.pipeline_id, g.run_count, g.date_count) for g in groups] == [
        ("c", 1, 1),
        ("a", 3, 3),
        ("b", 1, 1),
    ]
    assert list(groups[1].first_last()) == [(o, o), (o + 3, o + 4)]
    # a writer that renders whole groups still gets one item per action, in start order
    items = plan.each_action(lambda g: (f"{g.pipeline_id}{run[0] - o}" for run in g.runs()))
    assert list(items) == ["c60", "a0", "b31", "a3", "a4"]
    assert [(x.pipeline_id, x.dates[0].day) for x in listing] == [
        ("c", 1),
        ("a", 1),
        ("b", 1),
        ("a", 4),
        ("a", 5),
    ]
    assert listing[1].pipeline_id == "a" and listing == tuple(listing)


@given(st.sets(st.integers(0, 200), max_size=40), st.integers(1, 3))
def test_gap_runs_list_consecutive_dates_as_gaps(days: set[int], step: int) -> None:
    from reconciler.core.compact_gaps import GapRun
    from reconciler.core.plan import GapList

    ordinals = sorted(BASE + d * step for d in days)
    run = GapRun(pipeline_id="p", ordinals=ordinals, step=step, reason="retries_exhausted")
    expected: list[list[int]] = []
    for o in ordinals:
        if expected and o - expected[-1][-1] == step:
            expected[-1].append(o)
        else:
            expected.append([o])
    listed = [gap for group in run.groups() for gap in group.gaps()]
    assert [[d.toordinal() for d in g.dates] for g in listed] == expected
    assert run.gap_count == len(expected)
    gaps = GapList([run])
    assert len(gaps) == len(expected) and gaps.date_count() == len(ordinals)
    assert gaps == tuple(listed)
    plan = Plan(now=NOW, pipelines=1, gaps=gaps)
    assert plan.gap_dates == len(ordinals) and plan.summary["gap"] == len(ordinals)
    assert [list(span) for g in plan.gap_groups() for span in g.spans] == expected
    assert sum(g.gap_count for g in plan.gap_groups()) == len(expected)


def test_failed_dates_build_failed_on_demand_from_explicit_details() -> None:
    from reconciler.core.coverage import Failed, FailedDates, FailureDetails, epoch_us

    ended = datetime(2024, 5, 1, 3, 4, 5, 123456, tzinfo=UTC)
    days = [date(2024, 1, 2), date(2024, 1, 5), date(2024, 1, 9)]
    us = epoch_us(ended)
    details = FailureDetails(
        ordinals=[days[0].toordinal(), days[1].toordinal()],
        ended_us=[us, us],
        request_ids=[None, "req-7"],
        run_ids=["run-a", "run-b"],
    )
    failed = FailedDates([d.toordinal() for d in days], [1, 3, 4], details)
    assert list(failed) == days and date(2024, 1, 3) not in failed
    assert failed[days[0]] == Failed(attempt=1, ended_at=ended, run_id="run-a")
    assert failed[days[1]] == Failed(attempt=3, ended_at=ended, request_id="req-7", run_id="run-b")
    # read without details (its retries are exhausted): the attempt only
    assert failed[days[2]] == Failed(attempt=4, ended_at=None)
    assert failed == FailedDates.of(dict(failed.items()))
    with pytest.raises(ValueError, match="differ in length"):
        FailureDetails(ordinals=[1, 2], ended_us=[0], request_ids=[None, None], run_ids=["", ""])
    with pytest.raises(ValueError, match="differ in length"):
        FailedDates([1, 2], [1])
    with pytest.raises(ValueError, match="more details"):
        FailedDates(
            [1],
            [1],
            FailureDetails(
                ordinals=[1, 2], ended_us=[0, 0], request_ids=[None, None], run_ids=["", ""]
            ),
        )


def test_a_retryable_date_read_without_details_is_refused() -> None:
    """A store must read the details of every date its retry limits say may be retried."""
    from reconciler.core.coverage import FailedDates, Observed, PipelineObserved
    from reconciler.core.planner import plan
    from tests.core.test_planner import spec, utc

    obs = PipelineObserved(failed=FailedDates([date(2024, 1, 3).toordinal()], [1]))
    with pytest.raises(LookupError, match="details of retryable date 2024-01-03"):
        plan([spec()], Observed({"p": obs}), utc("2024-01-10T12:00"))


def test_ten_years_of_single_date_backfills_are_one_group_of_ranges() -> None:
    """A renderer can tell a pipeline's 3,652 one-date backfills from one group."""
    from reconciler.core.coverage import Observed, PipelineObserved
    from reconciler.core.planner import plan
    from reconciler.core.spec import PipelineSpec, Schedule

    start = date(2016, 1, 1)
    spec = PipelineSpec(id="p", schedule=Schedule(type="daily", start=start))
    done = date(2020, 2, 29)  # the one covered date; the latest, 2026-01-01, is a run
    covered = ((done, done),)
    result = plan([spec], Observed({"p": PipelineObserved(covered=covered)}), NOW_2026)
    backfills = [g for g in result.action_groups() if g.kind == "backfill"]
    (group,) = backfills
    assert group.run_count == group.date_count == 3652 == result.summary["backfill"]
    day = date.fromordinal
    assert [(day(a), day(b)) for a, b in group.first_last()] == [
        (start, done - ONE_DAY),
        (done + ONE_DAY, date(2025, 12, 31)),
    ]
    assert all(isinstance(span, range) for span in group.spans)
