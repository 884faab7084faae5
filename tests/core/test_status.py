"""``reconciler status`` figures against a date-by-date count, for any schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.calendar import due_instant, next_scheduled, scheduled_between
from reconciler.core.coverage import Failed, InFlight, PipelineObserved
from reconciler.core.intervals import DayRanges
from reconciler.core.pipeline_decisions import due_window
from reconciler.core.spec import PipelineSpec, Schedule
from reconciler.core.status import pipeline_status

START = date(2024, 1, 1)
ENDED = datetime(2024, 1, 1, tzinfo=UTC)
RANGES = st.lists(st.tuples(st.integers(-10, 160), st.integers(1, 40)), max_size=6)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    kind = draw(st.sampled_from(["daily", "daily", "weekly", "monthly"]))
    days: tuple[int, ...] = ()
    if kind == "weekly":
        days = tuple(draw(st.lists(st.integers(0, 6), min_size=1, max_size=3, unique=True)))
    elif kind == "monthly":
        days = tuple(draw(st.lists(st.integers(1, 28), min_size=1, max_size=3, unique=True)))
    every = draw(st.sampled_from([1, 1, 1, 2, 3]))
    end = draw(st.none() | st.integers(20, 150).map(lambda n: START + timedelta(days=n)))
    return Schedule(type=kind, start=START, every=every, days=days, end=end, at=time(2))


@settings(max_examples=300, deadline=None)
@given(schedules(), RANGES, st.data(), st.integers(-5, 170))
def test_status_counts_every_due_date_once(
    schedule: Schedule, ranges: list[tuple[int, int]], data: st.DataObject, now_offset: int
) -> None:
    now = datetime.combine(START + timedelta(days=now_offset), time(12), UTC)
    spec = PipelineSpec(id="p", schedule=schedule)
    # runs of covered days: they often cross the window's ends
    covered = {START + timedelta(days=a + i) for a, n in ranges for i in range(n)}
    window = due_window(schedule, now)
    due = scheduled_between(schedule, *window) if window else []
    open_ = sorted(set(due) - covered)
    failed = set(data.draw(st.lists(st.sampled_from(open_), unique=True))) if open_ else set()
    obs = PipelineObserved(
        covered=DayRanges.of((d, d) for d in sorted(covered)),
        failed={d: Failed(attempt=1, ended_at=ENDED) for d in failed},
    )
    got = pipeline_status(spec, obs, now)
    done = [d for d in due if d in covered]
    assert (got.due, got.covered, got.failed) == (len(due), len(done), len(failed))
    assert got.missing == len(due) - len(done) - len(failed)
    assert got.last_covered == (done[-1] if done else None)
    if window is not None:
        nxt = next_scheduled(schedule, window[1])
        assert got.next_date == nxt
        assert got.next_due_at == (due_instant(schedule, nxt) if nxt else None)


def test_runs_in_flight_count_batches_not_dates() -> None:
    """Three dates in flight, two of them in one batch: two runs, three dates."""
    spec = PipelineSpec(id="p", schedule=Schedule(type="daily", start=START, at=time(2)))
    flying = {
        START: InFlight(run_id="b1"),
        START + timedelta(days=1): InFlight(run_id="b1"),
        START + timedelta(days=5): InFlight(run_id="b2", attempt=2),
    }
    now = datetime.combine(START + timedelta(days=9), time(12), UTC)
    got = pipeline_status(spec, PipelineObserved(in_flight=flying), now)
    assert (got.in_flight, got.runs_in_flight) == (3, 2)
    before = datetime.combine(START - timedelta(days=3), time(12), UTC)  # nothing due yet
    early = pipeline_status(spec, PipelineObserved(in_flight=flying), before)
    assert (early.due, early.runs_in_flight) == (0, 2)
