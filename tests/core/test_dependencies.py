"""Which upstream dates a downstream date needs, and which downstream dates are blocked,
checked against a day-by-day oracle on random schedules (docs/planning.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.calendar import is_scheduled
from reconciler.core.dependencies import blocked, needed
from reconciler.core.spec import Dependency, Schedule

DAY = timedelta(days=1)
BASE = date(2024, 1, 1)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    kind = draw(st.sampled_from(["daily", "weekly", "monthly"]))
    start = BASE + timedelta(days=draw(st.integers(0, 120)))
    start = start.replace(day=min(start.day, 28))  # (the oracle moves start by whole years)
    every = draw(st.integers(1, 3))
    days: tuple[int, ...] = ()
    if kind == "weekly":
        days = tuple(sorted(draw(st.sets(st.integers(0, 6), max_size=3))))
    elif kind == "monthly":
        days = tuple(sorted(draw(st.sets(st.sampled_from([1, 5, 15, 28, 31, -1, -2]), max_size=3))))
    end = None
    if draw(st.booleans()):
        end = start + timedelta(days=draw(st.integers(30, 400)))
    return Schedule(type=kind, start=start, every=every, days=days, end=end)


dependencies = st.builds(
    Dependency,
    pipeline=st.just("up"),
    dates=st.sampled_from(["period", "same", "latest"]),
    offset=st.integers(-8, 8),
)


def unbounded(s: Schedule) -> Schedule:
    """The same pattern reaching years back (start moved by whole periods), no end."""
    years = 6 * s.every
    if s.type == "daily":
        start = s.start - timedelta(days=s.every * 365 * years)
    elif s.type == "weekly":
        start = s.start - timedelta(days=7 * s.every * 52 * years)
    else:
        start = s.start.replace(year=s.start.year - years)
    return replace(s, start=start, end=None)


def oracle_needed(down: Schedule, dep: Dependency, up: Schedule, d: date) -> tuple[date, ...]:
    shifted = d + timedelta(days=dep.offset)
    if dep.dates == "same":
        return (shifted,) if is_scheduled(up, shifted) else ()
    if dep.dates == "latest":
        day = shifted
        while day >= up.start:
            if is_scheduled(up, day):
                return (day,)
            day -= DAY
        return ()
    pattern = unbounded(down)
    previous = d - DAY
    while not is_scheduled(pattern, previous):
        previous -= DAY
    low = previous + timedelta(days=dep.offset + 1)
    return tuple(
        low + timedelta(days=i)
        for i in range((shifted - low).days + 1)
        if is_scheduled(up, low + timedelta(days=i))
    )


def scheduled_days(schedule: Schedule, first: date, last: date) -> list[date]:
    return [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if is_scheduled(schedule, first + timedelta(days=i))
    ]


@settings(max_examples=300, deadline=None)
@given(schedules(), schedules(), dependencies, st.integers(0, 500))
def test_needed_dates_match_the_day_by_day_oracle(
    down: Schedule, up: Schedule, dep: Dependency, day: int
) -> None:
    d = down.start + timedelta(days=day)
    if not is_scheduled(down, d):
        return
    assert needed(down, dep, up, d) == oracle_needed(down, dep, up, d)


@st.composite
def unavailable(draw: st.DrawFn) -> list[tuple[date, date]]:
    out = []
    for _ in range(draw(st.integers(0, 4))):
        first = BASE + timedelta(days=draw(st.integers(-20, 600)))
        out.append((first, first + timedelta(days=draw(st.integers(0, 90)))))
    return out


@settings(max_examples=300, deadline=None)
@given(schedules(), schedules(), dependencies, unavailable())
def test_blocked_ranges_are_exactly_the_dates_needing_an_unavailable_date(
    down: Schedule, up: Schedule, dep: Dependency, missing: list[tuple[date, date]]
) -> None:
    window = (BASE, BASE + timedelta(days=500))
    gone = {d for a, b in missing for d in scheduled_days(up, a, b)}  # unavailable upstream
    expected = {
        d for d in scheduled_days(down, *window) if set(oracle_needed(down, dep, up, d)) & gone
    }
    blocks = blocked(down, dep, up, missing)
    got: set[date] = set()
    for block in blocks:
        first, last = block.blocked
        days = scheduled_days(down, max(first, window[0]), min(last, window[1]))
        got.update(days)
        for d in days:  # each date in a block waits for something in its waits_for
            lo, hi = block.waits_for
            assert any(lo <= x <= hi for x in oracle_needed(down, dep, up, d) if x in gone)
    assert got == expected


def test_a_sunday_rollup_over_a_daily_load_needs_its_week_and_one_missing_day_blocks_it() -> None:
    daily = Schedule(type="daily", start=date(2026, 1, 1))
    sundays = Schedule(type="weekly", start=date(2026, 1, 4), days=(6,))
    dep = Dependency(pipeline="orders_daily")
    week = needed(sundays, dep, daily, date(2026, 3, 15))
    assert week == tuple(date(2026, 3, 9) + timedelta(days=i) for i in range(7))
    [block] = blocked(sundays, dep, daily, [(date(2026, 3, 12), date(2026, 3, 12))])
    assert block.blocked == (date(2026, 3, 15), date(2026, 3, 15))
    # ten missing years of the load are one range, and block one range of Sundays
    [years] = blocked(sundays, dep, daily, [(date(2016, 1, 1), date(2026, 1, 10))])
    assert years.blocked == (date(2026, 1, 4), date(2026, 1, 11))


def test_latest_and_same_with_offsets() -> None:
    daily = Schedule(type="daily", start=date(2026, 1, 1))
    month_end = Schedule(type="monthly", start=date(2026, 1, 31), days=(-1,))
    # a daily report on the latest month-end snapshot
    latest = Dependency(pipeline="snap", dates="latest")
    assert needed(daily, latest, month_end, date(2026, 3, 15)) == (date(2026, 2, 28),)
    assert needed(daily, latest, month_end, date(2026, 1, 15)) == ()  # none yet
    # yesterday's load: same date, offset -1
    same = Dependency(pipeline="load", dates="same", offset=-1)
    assert needed(daily, same, daily, date(2026, 3, 15)) == (date(2026, 3, 14),)
