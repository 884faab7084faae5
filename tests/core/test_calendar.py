"""Calendar semantics (docs/calendar.md): tables for the edge cases, properties for the rest."""

from __future__ import annotations

import calendar
import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.calendar import (
    count_between,
    due_instant,
    following,
    is_scheduled,
    last_due_day,
    local_instant,
    next_scheduled,
    prev_scheduled,
    scheduled_between,
    sla_deadline,
)
from reconciler.core.spec import Schedule, ScheduleType

D = date.fromisoformat
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
ONE_DAY = timedelta(days=1)
ONE_US = timedelta(microseconds=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def dates(*texts: str) -> list[date]:
    return [D(t) for t in texts]


def last_days(year: int) -> list[date]:
    return [date(year, m, calendar.monthrange(year, m)[1]) for m in range(1, 13)]


# --- which dates exist -------------------------------------------------------------------

MONTHLY_CASES = [
    pytest.param(
        Schedule(type="monthly", start=D("2024-01-01"), days=(-1,)),
        D("2024-01-01"),
        D("2024-12-31"),
        last_days(2024),
        id="last-day-2024-leap",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2023-01-01"), days=(-1,)),
        D("2023-02-01"),
        D("2023-03-31"),
        dates("2023-02-28", "2023-03-31"),
        id="last-day-2023-common",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2100-01-01"), days=(-1,)),
        D("2100-02-01"),
        D("2100-02-28"),
        dates("2100-02-28"),
        id="last-day-2100-common-century",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2000-01-01"), days=(-1,)),
        D("2000-02-01"),
        D("2000-02-29"),
        dates("2000-02-29"),
        id="last-day-2000-leap-century",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2024-01-01"), days=(-3,)),
        D("2024-01-01"),
        D("2024-04-30"),
        dates("2024-01-29", "2024-02-27", "2024-03-29", "2024-04-28"),
        id="third-last-leap",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2023-02-01"), days=(-3,)),
        D("2023-02-01"),
        D("2023-02-28"),
        dates("2023-02-26"),
        id="third-last-common-feb",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2024-01-31")),
        D("2024-01-01"),
        D("2024-12-31"),
        dates(
            "2024-01-31",
            "2024-03-31",
            "2024-05-31",
            "2024-07-31",
            "2024-08-31",
            "2024-10-31",
            "2024-12-31",
        ),
        id="day-31-default-from-start-skips-short-months",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2024-01-01"), days=(29, 30)),
        D("2024-02-01"),
        D("2024-03-31"),
        dates("2024-02-29", "2024-03-29", "2024-03-30"),
        id="29-30-leap-feb",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2023-01-01"), days=(29, 30)),
        D("2023-02-01"),
        D("2023-03-31"),
        dates("2023-03-29", "2023-03-30"),
        id="29-30-common-feb-skipped",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2100-01-01"), days=(29,)),
        D("2100-01-01"),
        D("2100-03-31"),
        dates("2100-01-29", "2100-03-29"),
        id="29-in-2100-feb-skipped",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2000-01-01"), days=(29,)),
        D("2000-02-01"),
        D("2000-02-29"),
        dates("2000-02-29"),
        id="29-in-2000-feb",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2024-01-01"), days=(-31,)),
        D("2024-01-01"),
        D("2024-05-31"),
        dates("2024-01-01", "2024-03-01", "2024-05-01"),
        id="minus-31-only-in-31-day-months",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2024-01-01"), days=(-30,)),
        D("2024-02-01"),
        D("2024-04-30"),
        dates("2024-03-02", "2024-04-01"),
        id="minus-30-skipped-in-february",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2024-01-01"), days=(31, -1)),
        D("2024-01-01"),
        D("2024-04-30"),
        dates("2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"),
        id="31-and-minus-1-count-once",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2024-01-01"), days=(1, -31, 15, 1)),
        D("2024-01-01"),
        D("2024-02-29"),
        dates("2024-01-01", "2024-01-15", "2024-02-01", "2024-02-15"),
        id="duplicates-in-days-and-minus-31-equal-to-1",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2024-01-15"), every=3),
        D("2024-01-01"),
        D("2024-12-31"),
        dates("2024-01-15", "2024-04-15", "2024-07-15", "2024-10-15"),
        id="every-3-anchored-mid-month",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2024-01-20"), every=2, days=(10, 25)),
        D("2024-01-01"),
        D("2024-05-31"),
        dates("2024-01-25", "2024-03-10", "2024-03-25", "2024-05-10", "2024-05-25"),
        id="every-2-days-before-start-excluded",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2023-11-30"), every=5, days=(-1,)),
        D("2024-01-01"),
        D("2024-12-31"),
        dates("2024-04-30", "2024-09-30"),
        id="every-5-across-year-boundary",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2024-01-31"), every=1, end=D("2024-05-15")),
        D("2023-01-01"),
        D("2025-01-01"),
        dates("2024-01-31", "2024-03-31"),
        id="end-before-last-month-date",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2024-01-31"), end=D("2024-03-31")),
        D("2024-01-01"),
        D("2024-12-31"),
        dates("2024-01-31", "2024-03-31"),
        id="end-inclusive",
    ),
    pytest.param(
        Schedule(type="monthly", start=D("2024-02-01"), every=12, days=(30, 31)),
        D("2024-01-01"),
        D("2030-12-31"),
        [],
        id="february-only-never-has-30",
    ),
]

WEEKLY_CASES = [
    pytest.param(
        Schedule(type="weekly", start=D("2024-01-03")),
        D("2024-01-01"),
        D("2024-01-31"),
        dates("2024-01-03", "2024-01-10", "2024-01-17", "2024-01-24", "2024-01-31"),
        id="default-weekday-of-start",
    ),
    pytest.param(
        Schedule(type="weekly", start=D("2024-01-03"), every=2, days=(MON, WED, FRI)),
        D("2024-01-01"),
        D("2024-02-04"),
        dates(
            "2024-01-03",
            "2024-01-05",
            "2024-01-15",
            "2024-01-17",
            "2024-01-19",
            "2024-01-29",
            "2024-01-31",
            "2024-02-02",
        ),
        id="every-2-several-days-start-mid-week",
    ),
    pytest.param(
        Schedule(type="weekly", start=D("2024-01-07"), every=3, days=(MON, SUN)),
        D("2024-01-01"),
        D("2024-02-29"),
        dates("2024-01-07", "2024-01-22", "2024-01-28", "2024-02-12", "2024-02-18"),
        id="every-3-start-on-sunday-its-monday-excluded",
    ),
    pytest.param(
        Schedule(type="weekly", start=D("2024-01-01"), every=2, days=(SUN, SAT, SAT)),
        D("2024-01-08"),
        D("2024-01-28"),
        dates("2024-01-20", "2024-01-21"),
        id="unsorted-duplicate-days",
    ),
    pytest.param(
        Schedule(type="weekly", start=D("2024-01-05"), days=(FRI,), end=D("2024-01-19")),
        D("2024-01-01"),
        D("2024-12-31"),
        dates("2024-01-05", "2024-01-12", "2024-01-19"),
        id="end-inclusive",
    ),
    pytest.param(
        Schedule(type="weekly", start=D("2023-12-27"), every=2, days=(TUE, THU)),
        D("2024-01-01"),
        D("2024-01-14"),
        dates("2024-01-09", "2024-01-11"),
        id="every-2-across-year-boundary",
    ),
]

DAILY_CASES = [
    pytest.param(
        Schedule(type="daily", start=D("2024-02-27")),
        D("2024-02-01"),
        D("2024-03-02"),
        dates("2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01", "2024-03-02"),
        id="every-day-across-leap-day",
    ),
    pytest.param(
        Schedule(type="daily", start=D("2000-01-01"), every=3),
        D("2030-05-01"),
        D("2030-05-10"),
        # 2030-05-01 is 11078 days after 2000-01-01; 11078 % 3 == 2.
        dates("2030-05-02", "2030-05-05", "2030-05-08"),
        id="every-3-far-from-start",
    ),
    pytest.param(
        Schedule(type="daily", start=D("2024-01-01"), every=7, end=D("2024-01-15")),
        D("2024-01-01"),
        D("2024-12-31"),
        dates("2024-01-01", "2024-01-08", "2024-01-15"),
        id="end-inclusive",
    ),
    pytest.param(
        Schedule(type="daily", start=D("2024-01-01"), end=D("2023-12-31")),
        D("2023-01-01"),
        D("2024-12-31"),
        [],
        id="end-before-start",
    ),
    pytest.param(
        Schedule(type="daily", start=D("2024-06-01")),
        D("2024-05-01"),
        D("2024-05-31"),
        [],
        id="range-before-start",
    ),
]


@pytest.mark.parametrize(
    ("schedule", "first", "last", "expected"), DAILY_CASES + WEEKLY_CASES + MONTHLY_CASES
)
def test_scheduled_between(
    schedule: Schedule, first: date, last: date, expected: list[date]
) -> None:
    assert scheduled_between(schedule, first, last) == expected
    assert count_between(schedule, first, last) == len(expected)
    in_range = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    assert [d for d in in_range if is_scheduled(schedule, d)] == expected


def test_weekly_every_n_far_from_start() -> None:
    # Start's week begins Monday 2000-01-03; Monday 2030-05-13 is 1584 weeks later (4 * 396).
    s = Schedule(type="weekly", start=D("2000-01-05"), every=4, days=(MON, THU))
    got = scheduled_between(s, D("2030-05-01"), D("2030-06-10"))
    assert got == dates("2030-05-13", "2030-05-16", "2030-06-10")


def test_monthly_every_n_far_from_start() -> None:
    s = Schedule(type="monthly", start=D("2000-03-31"), every=7, days=(-1,))
    # 2030-07 is 364 = 7 * 52 months after 2000-03; then 2031-02 and 2031-09.
    assert scheduled_between(s, D("2030-01-01"), D("2031-12-31")) == dates(
        "2030-07-31", "2031-02-28", "2031-09-30"
    )


def test_far_ranges_and_extreme_dates() -> None:
    s = Schedule(type="daily", start=D("0001-01-01"), every=5)
    assert count_between(s, date.min, date.max) == (date.max.toordinal() - 1) // 5 + 1
    assert next_scheduled(s, date.max) is None
    assert prev_scheduled(s, date.min) is None
    assert next_scheduled(s, D("9999-12-24")) == D("9999-12-28")  # ordinal 3652056 = 1 + 5*k
    m = Schedule(type="monthly", start=D("0001-01-31"))
    assert next_scheduled(m, D("9999-12-31")) is None
    assert prev_scheduled(m, D("9999-12-31")) == D("9999-10-31")


@pytest.mark.parametrize(
    ("schedule", "pivot", "after", "before"),
    [
        (
            Schedule(type="daily", start=D("2024-01-01"), every=2),
            D("2024-01-02"),
            D("2024-01-03"),
            D("2024-01-01"),
        ),
        (Schedule(type="daily", start=D("2024-01-10")), D("2023-01-01"), D("2024-01-10"), None),
        (
            Schedule(type="daily", start=D("2024-01-10"), end=D("2024-01-12")),
            D("2024-01-12"),
            None,
            D("2024-01-11"),
        ),
        (
            Schedule(type="daily", start=D("2024-01-10"), end=D("2024-01-12")),
            D("2030-01-01"),
            None,
            D("2024-01-12"),
        ),
        (
            Schedule(type="weekly", start=D("2024-01-03"), every=2),
            D("2024-01-03"),
            D("2024-01-17"),
            None,
        ),
        (
            Schedule(type="monthly", start=D("2024-01-31"), days=(30,)),
            D("2024-01-30"),
            D("2024-03-30"),
            None,
        ),
        (
            Schedule(type="monthly", start=D("2024-02-01"), every=12, days=(30,)),
            D("2024-03-01"),
            None,
            None,
        ),
    ],
)
def test_next_and_prev_scheduled(
    schedule: Schedule, pivot: date, after: date | None, before: date | None
) -> None:
    assert next_scheduled(schedule, pivot) == after
    assert prev_scheduled(schedule, pivot) == before


@pytest.mark.parametrize(
    "schedule",
    [
        Schedule(type="daily", start=D("2024-01-01"), every=0),
        Schedule(type="weekly", start=D("2024-01-01"), days=(7,)),
        Schedule(type="monthly", start=D("2024-01-01"), days=(0,)),
        Schedule(type="monthly", start=D("2024-01-01"), days=(32,)),
        Schedule(type="monthly", start=D("2024-01-01"), days=(-32,)),
    ],
)
def test_invalid_schedules_are_refused(schedule: Schedule) -> None:
    with pytest.raises(ValueError):
        scheduled_between(schedule, D("2024-01-01"), D("2024-12-31"))


# --- when dates are due ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "at", "tz", "expected"),
    [
        (D("2024-01-15"), time(2, 0), "UTC", "2024-01-15T02:00"),
        (D("2024-01-15"), time(2, 0), "Asia/Tokyo", "2024-01-14T17:00"),
        (D("2024-01-15"), time(5, 30), "Asia/Kolkata", "2024-01-15T00:00"),
        (D("2024-01-15"), time(2, 0), "Europe/Berlin", "2024-01-15T01:00"),
        (D("2024-07-15"), time(2, 0), "Europe/Berlin", "2024-07-15T00:00"),
        (D("2024-01-15"), time(18, 0), "America/Los_Angeles", "2024-01-16T02:00"),
        (D("2024-07-15"), time(18, 0), "America/Los_Angeles", "2024-07-16T01:00"),
        # Spring forward: a time in the gap moves forward by the gap's length.
        (D("2024-03-10"), time(2, 30), "America/New_York", "2024-03-10T07:30"),  # 03:30 EDT
        (D("2024-03-10"), time(2, 0), "America/New_York", "2024-03-10T07:00"),  # 03:00 EDT
        (D("2024-03-10"), time(3, 0), "America/New_York", "2024-03-10T07:00"),
        (D("2024-03-10"), time(1, 59), "America/New_York", "2024-03-10T06:59"),
        (D("2024-03-31"), time(2, 30), "Europe/Berlin", "2024-03-31T01:30"),  # 03:30 CEST
        (D("2024-03-10"), time(2, 30), "America/Los_Angeles", "2024-03-10T10:30"),
        # Fall back: an ambiguous time takes its first occurrence (still on summer time).
        (D("2024-11-03"), time(1, 30), "America/New_York", "2024-11-03T05:30"),  # EDT
        (D("2024-11-03"), time(2, 0), "America/New_York", "2024-11-03T07:00"),  # EST only
        (D("2024-10-27"), time(2, 30), "Europe/Berlin", "2024-10-27T00:30"),  # CEST
        (D("2024-10-27"), time(3, 0), "Europe/Berlin", "2024-10-27T02:00"),  # CET only
    ],
)
def test_local_instant(day: date, at: time, tz: str, expected: str) -> None:
    got = local_instant(day, at, tz)
    assert got == utc(expected)
    assert got.utcoffset() == timedelta(0)


def test_local_instant_ignores_fold_and_tzinfo_of_at() -> None:
    # fold=1 would pick the second 01:30; docs/calendar.md wants the first whatever `at` carries.
    at = time(1, 30, fold=1, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert local_instant(D("2024-11-03"), at, "America/New_York") == utc("2024-11-03T05:30")


@pytest.mark.parametrize(
    ("schedule", "day", "expected"),
    [
        (Schedule(type="daily", start=D("2024-01-01")), D("2024-05-01"), "2024-05-01T00:00"),
        (
            Schedule(
                type="daily", start=D("2024-01-01"), offset=1, at=time(2), timezone="Europe/Berlin"
            ),
            D("2024-05-01"),
            "2024-05-02T00:00",
        ),
        (
            Schedule(
                type="daily", start=D("2024-01-01"), offset=3, at=time(9, 15), timezone="Asia/Tokyo"
            ),
            D("2024-12-30"),
            "2025-01-02T00:15",
        ),
        (
            Schedule(
                type="daily",
                start=D("2024-01-01"),
                offset=1,
                at=time(23),
                timezone="America/Los_Angeles",
            ),
            D("2024-02-28"),
            "2024-03-01T07:00",
        ),
        (
            Schedule(
                type="daily",
                start=D("2024-01-01"),
                offset=1,
                at=time(2, 30),
                timezone="America/New_York",
            ),
            D("2024-03-09"),
            "2024-03-10T07:30",
        ),
        (
            Schedule(
                type="daily",
                start=D("2024-01-01"),
                offset=2,
                at=time(0, 45),
                timezone="Asia/Kolkata",
            ),
            D("2024-01-30"),
            "2024-01-31T19:15",
        ),
    ],
)
def test_due_instant(schedule: Schedule, day: date, expected: str) -> None:
    assert due_instant(schedule, day) == utc(expected)


@pytest.mark.parametrize(
    ("schedule", "due"),
    [
        (Schedule(type="daily", start=D("2024-01-01")), "2024-05-01T00:00"),
        (
            Schedule(
                type="daily", start=D("2024-01-01"), offset=1, at=time(2), timezone="Europe/Berlin"
            ),
            "2024-05-02T00:00",
        ),
        (
            Schedule(
                type="daily",
                start=D("2024-01-01"),
                offset=1,
                at=time(18),
                timezone="America/Los_Angeles",
            ),
            "2024-05-03T01:00",
        ),
        (
            Schedule(type="daily", start=D("2024-01-01"), at=time(5, 30), timezone="Asia/Kolkata"),
            "2024-05-01T00:00",
        ),
        (
            Schedule(type="daily", start=D("2024-01-01"), at=time(0, 30), timezone="Asia/Tokyo"),
            "2024-04-30T15:30",
        ),
    ],
)
def test_last_due_day_boundary(schedule: Schedule, due: str) -> None:
    d = D("2024-05-01")
    assert due_instant(schedule, d) == utc(due)
    assert last_due_day(schedule, utc(due)) == d
    assert last_due_day(schedule, utc(due) - timedelta(seconds=1)) == d - ONE_DAY
    assert last_due_day(schedule, utc(due) - ONE_US) == d - ONE_DAY


@pytest.mark.parametrize(
    ("schedule", "now", "expected"),
    [
        # 02:30 does not exist on 2024-03-10 in New York: due at 03:30 EDT (07:30 UTC).
        (
            Schedule(
                type="daily", start=D("2024-01-01"), at=time(2, 30), timezone="America/New_York"
            ),
            "2024-03-10T07:29:59",
            "2024-03-09",
        ),
        (
            Schedule(
                type="daily", start=D("2024-01-01"), at=time(2, 30), timezone="America/New_York"
            ),
            "2024-03-10T07:30",
            "2024-03-10",
        ),
        # Local wall clock already shows 03:10 on the 10th, yet the 10th is not due until 03:30.
        (
            Schedule(
                type="daily", start=D("2024-01-01"), at=time(2, 30), timezone="America/New_York"
            ),
            "2024-03-10T07:10",
            "2024-03-09",
        ),
        # 01:30 happens twice on 2024-11-03; the first (EDT, 05:30 UTC) counts.
        (
            Schedule(
                type="daily", start=D("2024-01-01"), at=time(1, 30), timezone="America/New_York"
            ),
            "2024-11-03T05:29:59",
            "2024-11-02",
        ),
        (
            Schedule(
                type="daily", start=D("2024-01-01"), at=time(1, 30), timezone="America/New_York"
            ),
            "2024-11-03T05:30",
            "2024-11-03",
        ),
        (
            Schedule(
                type="daily", start=D("2024-01-01"), at=time(1, 30), timezone="America/New_York"
            ),
            "2024-11-03T06:45",
            "2024-11-03",
        ),
        (
            Schedule(type="daily", start=D("2024-01-01"), at=time(2, 30), timezone="Europe/Berlin"),
            "2024-10-27T00:30",
            "2024-10-27",
        ),
        (
            Schedule(type="daily", start=D("2024-01-01"), at=time(2, 30), timezone="Europe/Berlin"),
            "2024-03-31T01:29:59",
            "2024-03-30",
        ),
        (
            Schedule(type="daily", start=D("2024-01-01"), at=time(2, 30), timezone="Europe/Berlin"),
            "2024-03-31T01:30",
            "2024-03-31",
        ),
        # Not clipped to start or end: the caller decides what to do with days outside.
        (
            Schedule(type="daily", start=D("2030-01-01"), end=D("2030-02-01")),
            "2024-05-01T12:00",
            "2024-05-01",
        ),
        (
            Schedule(type="weekly", start=D("2024-01-01"), offset=7),
            "2024-05-01T12:00",
            "2024-04-24",
        ),
    ],
)
def test_last_due_day_dst(schedule: Schedule, now: str, expected: str) -> None:
    assert last_due_day(schedule, utc(now)) == D(expected)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("1867-10-18T21:01:12", "1867-10-18"),
        ("1867-10-18T21:01:13", "1867-10-19"),
        # Just after the switch the wall clock reads 10-18 again, but 10-19 noon has passed.
        ("1867-10-19T01:00", "1867-10-19"),
        ("1867-10-20T21:01:12", "1867-10-19"),
        ("1867-10-20T21:01:13", "1867-10-20"),
    ],
)
def test_last_due_day_when_the_clock_goes_back_a_whole_day(now: str, expected: str) -> None:
    # Sitka moved from Russian to American time in 1867: its wall clock went back ~24 hours.
    s = Schedule(type="daily", start=D("1867-01-01"), at=time(12), timezone="America/Sitka")
    assert last_due_day(s, utc(now)) == D(expected)


def test_last_due_day_accepts_any_aware_now_and_refuses_naive() -> None:
    s = Schedule(type="daily", start=D("2024-01-01"), at=time(2), timezone="Europe/Berlin")
    now = datetime(2024, 5, 1, 2, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert last_due_day(s, now) == D("2024-05-01")
    assert last_due_day(s, now.astimezone(ZoneInfo("Asia/Tokyo"))) == D("2024-05-01")
    with pytest.raises(ValueError, match="aware"):
        last_due_day(s, datetime(2024, 5, 1, 2, 0))


def test_start_in_future_has_nothing_due() -> None:
    s = Schedule(type="daily", start=D("2024-06-01"), offset=1)
    now = utc("2024-06-01T23:59:59")
    day = last_due_day(s, now)
    assert day == D("2024-05-31")
    assert scheduled_between(s, s.start, day) == []
    assert count_between(s, s.start, day) == 0
    assert prev_scheduled(s, day + ONE_DAY) is None
    assert last_due_day(s, utc("2024-06-02T00:00")) == s.start


@pytest.mark.parametrize(
    ("schedule", "sla", "day", "expected"),
    [
        (
            Schedule(type="daily", start=D("2024-01-01"), at=time(2)),
            time(6),
            D("2024-05-01"),
            "2024-05-01T06:00",
        ),
        (
            Schedule(type="daily", start=D("2024-01-01"), at=time(2)),
            time(2),
            D("2024-05-01"),
            "2024-05-02T02:00",
        ),
        (
            Schedule(type="daily", start=D("2024-01-01"), at=time(2)),
            time(1),
            D("2024-05-01"),
            "2024-05-02T01:00",
        ),
        (
            Schedule(
                type="daily", start=D("2024-01-01"), offset=1, at=time(2), timezone="Europe/Berlin"
            ),
            time(6),
            D("2024-05-01"),
            "2024-05-02T04:00",
        ),
        (
            Schedule(
                type="daily", start=D("2024-01-01"), offset=1, at=time(22), timezone="Asia/Tokyo"
            ),
            time(6),
            D("2024-05-01"),
            "2024-05-02T21:00",  # 06:00 JST on 05-03
        ),
        # On spring-forward night 02:30 is 03:30 EDT, so it is after a 03:00 due time...
        (
            Schedule(type="daily", start=D("2024-01-01"), at=time(3), timezone="America/New_York"),
            time(2, 30),
            D("2024-03-10"),
            "2024-03-10T07:30",
        ),
        # ...and an SLA of 03:00 is before a 02:30 (= 03:30) due time: next day.
        (
            Schedule(
                type="daily", start=D("2024-01-01"), at=time(2, 30), timezone="America/New_York"
            ),
            time(3),
            D("2024-03-10"),
            "2024-03-11T07:00",
        ),
        # Both land on 03:30 EDT: equal is not after.
        (
            Schedule(
                type="daily", start=D("2024-01-01"), at=time(2, 30), timezone="America/New_York"
            ),
            time(3, 30),
            D("2024-03-10"),
            "2024-03-11T07:30",
        ),
        # The next day's 01:00 is ambiguous (fall-back night): its first occurrence, EDT.
        (
            Schedule(
                type="daily", start=D("2024-01-01"), at=time(1, 30), timezone="America/New_York"
            ),
            time(1),
            D("2024-11-02"),
            "2024-11-03T05:00",
        ),
    ],
)
def test_sla_deadline(schedule: Schedule, sla: time, day: date, expected: str) -> None:
    deadline = sla_deadline(schedule, sla, day)
    assert deadline == utc(expected)
    assert deadline > due_instant(schedule, day)


# --- properties --------------------------------------------------------------------------

ZONES = [
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "America/Santiago",  # transitions at midnight
    "America/St_Johns",  # -03:30 / -02:30
    "Europe/Berlin",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Chatham",  # +12:45 / +13:45
]


def brute_force(s: Schedule, first: date, last: date) -> list[date]:
    """docs/calendar.md read literally, one day at a time."""
    out = []
    start_monday = s.start - timedelta(days=s.start.weekday())
    for i in range((last - first).days + 1):
        d = first + timedelta(days=i)
        if d < s.start or (s.end is not None and d > s.end):
            continue
        if s.type == "daily":
            ok = (d - s.start).days % s.every == 0
        elif s.type == "weekly":
            weeks = (d - timedelta(days=d.weekday()) - start_monday).days // 7
            ok = weeks % s.every == 0 and d.weekday() in (s.days or (s.start.weekday(),))
        else:
            months = (d.year - s.start.year) * 12 + d.month - s.start.month
            length = calendar.monthrange(d.year, d.month)[1]
            wanted = s.days or (s.start.day,)
            ok = months % s.every == 0 and (d.day in wanted or d.day - length - 1 in wanted)
        if ok:
            out.append(d)
    return out


DAYS_2000_2040 = st.dates(date(2000, 1, 1), date(2040, 12, 31))


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    kind: ScheduleType = draw(st.sampled_from(["daily", "weekly", "monthly"]))
    start = draw(DAYS_2000_2040)
    if kind == "weekly":
        days = draw(st.lists(st.integers(0, 6), max_size=4))
    elif kind == "monthly":
        day = st.one_of(
            st.integers(1, 31), st.integers(-31, -1), st.sampled_from([28, 29, 30, 31, -1])
        )
        days = draw(st.lists(day, max_size=4))
    else:
        days = []
    end = draw(st.none() | st.dates(start - timedelta(days=5), start + timedelta(days=1500)))
    return Schedule(
        type=kind,
        start=start,
        every=draw(st.integers(1, 14)),
        days=tuple(days),
        end=end,
        offset=draw(st.integers(0, 10)),
        at=draw(st.times()),
        timezone=draw(st.sampled_from(ZONES)),
    )


@st.composite
def ranges(draw: st.DrawFn, s: Schedule) -> tuple[date, date]:
    # Centre the range near start or end sometimes, where the edge cases live.
    near = draw(st.sampled_from([s.start, s.end or s.start, date(2020, 1, 1)]))
    first = near + timedelta(days=draw(st.integers(-400, 600)))
    return first, first + timedelta(days=draw(st.integers(0, 1100)))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_scheduled_between_matches_brute_force(data: st.DataObject) -> None:
    s = data.draw(schedules())
    first, last = data.draw(ranges(s))
    expected = brute_force(s, first, last)
    assert scheduled_between(s, first, last) == expected
    assert count_between(s, first, last) == len(expected)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_next_and_prev_agree_with_the_list(data: st.DataObject) -> None:
    s = data.draw(schedules())
    first, last = data.draw(ranges(s))
    got = scheduled_between(s, first, last)
    for a, b in itertools.pairwise(got):
        assert next_scheduled(s, a) == b
        assert prev_scheduled(s, b) == a
    pivot = first + timedelta(days=data.draw(st.integers(0, (last - first).days)))
    assert is_scheduled(s, pivot) == (pivot in got)
    nxt = next_scheduled(s, pivot)
    later = [d for d in got if d > pivot]
    if later:
        assert nxt == later[0]
    else:
        assert nxt is None or nxt > last
    prv = prev_scheduled(s, pivot)
    earlier = [d for d in got if d < pivot]
    if earlier:
        assert prv == earlier[-1]
    else:
        assert prv is None or prv < first
    if nxt is not None:
        assert is_scheduled(s, nxt)
        assert prev_scheduled(s, nxt) == (prv if not is_scheduled(s, pivot) else pivot)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_following_is_next_scheduled_for_any_date(data: st.DataObject) -> None:
    """The per-schedule shortcut renderers use: the same answer on and off the schedule,
    before its start and after its end."""
    s = data.draw(schedules())
    first, last = data.draw(ranges(s))
    step = following(s)
    for d in (first, last, s.start - ONE_DAY, s.start, *scheduled_between(s, first, last)[:20]):
        assert step(d) == next_scheduled(s, d), d
    if s.end is not None:
        assert step(s.end) is None and step(s.end - ONE_DAY) == next_scheduled(s, s.end - ONE_DAY)
    assert step(date.max) is None


@settings(max_examples=300, deadline=None)
@given(schedules(), DAYS_2000_2040)
def test_due_instant_is_strictly_increasing(s: Schedule, d: date) -> None:
    assert due_instant(s, d) < due_instant(s, d + ONE_DAY)


@settings(max_examples=300, deadline=None)
@given(schedules(), DAYS_2000_2040)
def test_last_due_day_inverts_due_instant(s: Schedule, d: date) -> None:
    due = due_instant(s, d)
    assert last_due_day(s, due) == d
    assert last_due_day(s, due - ONE_US) == d - ONE_DAY


@settings(max_examples=300, deadline=None)
@given(
    schedules(), st.datetimes(datetime(2000, 1, 1), datetime(2040, 12, 31), timezones=st.just(UTC))
)
def test_last_due_day_brackets_now(s: Schedule, now: datetime) -> None:
    day = last_due_day(s, now)
    assert day is not None
    assert due_instant(s, day) <= now < due_instant(s, day + ONE_DAY)


@settings(max_examples=200, deadline=None)
@given(schedules(), DAYS_2000_2040, st.times())
def test_sla_deadline_is_after_due_and_within_a_day_of_it(s: Schedule, d: date, sla: time) -> None:
    deadline = sla_deadline(s, sla, d)
    due = due_instant(s, d)
    assert due < deadline
    assert deadline.astimezone(ZoneInfo(s.timezone)).date() - (d + timedelta(days=s.offset)) in (
        timedelta(0),
        ONE_DAY,
    )
