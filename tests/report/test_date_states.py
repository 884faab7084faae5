"""Classifying scheduled dates for calendars: table-driven cases and a property."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_support import DAILY, DAILY_LATE, DAILY_OBS, MONTHLY, MONTHLY_OBS, NOW, d

from reconciler.core.calendar import count_between
from reconciler.core.coverage import EMPTY, Failed, InFlight, PipelineObserved
from reconciler.core.date_states import STATES, classify_dates, count_states
from reconciler.core.spec import PipelineSpec, RetryPolicy, Schedule

STATES_OF_DAILY = classify_dates(
    DAILY, DAILY_OBS, NOW, d("2026-01-01"), d("2026-03-31"), DAILY_LATE
)


@pytest.mark.parametrize(
    ("day", "state"),
    [
        ("2026-01-01", "covered"),
        ("2026-01-15", "covered_late"),  # covered, and the run log says the SLA was missed
        ("2026-02-10", "failed"),  # attempt 3 with max_retries 2: nothing more will run it
        ("2026-02-11", "retrying"),  # attempt 1 failed: the policy allows another
        ("2026-03-11", "in_flight"),
        ("2026-03-14", "gap"),  # never attempted, due
        ("2026-03-19", "gap"),  # the latest due date: offset 1, due 03-20T00:00Z <= NOW
        ("2026-03-20", "not_due"),  # due 03-21T00:00Z
        ("2026-03-31", "not_due"),
    ],
)
def test_each_kind_of_date(day: str, state: str) -> None:
    assert STATES_OF_DAILY[d(day)] == state


def test_in_flight_wins_over_covered() -> None:
    obs = PipelineObserved(
        covered=((d("2026-01-01"), d("2026-01-31")),),
        in_flight={d("2026-01-10"): InFlight(run_id="rerun", attempt=1, request_id="fix-1")},
    )
    states = classify_dates(DAILY, obs, NOW, d("2026-01-09"), d("2026-01-11"))
    assert list(states.values()) == ["covered", "in_flight", "covered"]


def test_late_only_marks_covered_dates() -> None:
    states = classify_dates(DAILY, EMPTY, NOW, d("2026-01-01"), d("2026-01-02"), {d("2026-01-01")})
    assert states[d("2026-01-01")] == "gap"


def test_retry_disabled_means_failed() -> None:
    spec = PipelineSpec(id="x", schedule=DAILY.schedule, retry=RetryPolicy(enabled=False))
    obs = PipelineObserved(failed={d("2026-01-05"): Failed(attempt=1, ended_at=NOW)})
    assert classify_dates(spec, obs, NOW, d("2026-01-05"), d("2026-01-05")) == {
        d("2026-01-05"): "failed"
    }


def test_monthly_dates_only() -> None:
    states = classify_dates(MONTHLY, MONTHLY_OBS, NOW, d("2025-11-01"), d("2026-04-30"))
    assert states == {
        d("2025-11-30"): "covered",
        d("2025-12-31"): "covered",
        d("2026-01-31"): "retrying",
        d("2026-02-28"): "gap",
        d("2026-03-31"): "not_due",
        d("2026-04-30"): "not_due",
    }


def test_nothing_due_before_the_first_due_instant() -> None:
    early = datetime(2025, 12, 1, tzinfo=UTC)
    states = classify_dates(DAILY, EMPTY, early, d("2026-01-01"), d("2026-01-03"))
    assert set(states.values()) == {"not_due"}


def test_counts_have_every_state_in_legend_order() -> None:
    counts = count_states(STATES_OF_DAILY)
    assert tuple(counts) == STATES
    assert sum(counts.values()) == len(STATES_OF_DAILY) == 90


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["daily", "weekly", "monthly"]),
    every=st.integers(1, 3),
    start=st.dates(date(2025, 1, 1), date(2026, 6, 1)),
    first=st.dates(date(2024, 6, 1), date(2026, 12, 1)),
    length=st.integers(0, 200),
    covered=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 30)), max_size=4),
    failed=st.lists(st.tuples(st.integers(0, 400), st.integers(1, 4)), max_size=4),
)
def test_one_state_per_scheduled_date(
    kind: str,
    every: int,
    start: date,
    first: date,
    length: int,
    covered: list[tuple[int, int]],
    failed: list[tuple[int, int]],
) -> None:
    schedule = Schedule(type=kind, start=start, every=every)  # type: ignore[arg-type]
    spec = PipelineSpec(id="p", schedule=schedule)
    ranges = sorted((start + timedelta(a), start + timedelta(a + n)) for a, n in covered)
    merged: list[tuple[date, date]] = []
    for a, b in ranges:
        if merged and a <= merged[-1][1] + timedelta(1):
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    obs = PipelineObserved(
        covered=tuple(merged),
        failed={start + timedelta(a): Failed(attempt=n, ended_at=NOW) for a, n in failed},
    )
    last = first + timedelta(days=length)
    states = classify_dates(spec, obs, NOW, first, last)
    assert len(states) == count_between(schedule, first, last)
    assert list(states) == sorted(states)
    due_limit = NOW.date()
    for day, state in states.items():
        if state == "not_due":
            assert day >= due_limit
        if state in ("gap",):
            assert day <= due_limit
