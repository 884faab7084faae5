"""Inclusive date ranges, the compact form of coverage: tables and a set-based reference."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.intervals import (
    DateRange,
    complement,
    contains,
    count_days,
    from_dates,
    merge,
)

D = date.fromisoformat


def r(text: str) -> DateRange:
    first, _, last = text.partition("..")
    return D(first), D(last or first)


def days_in(ranges: list[DateRange] | tuple[DateRange, ...]) -> set[date]:
    return {a + timedelta(days=i) for a, b in ranges for i in range((b - a).days + 1)}


@pytest.mark.parametrize(
    ("given_ranges", "expected"),
    [
        ([], []),
        (
            ["2024-01-05..2024-01-07", "2024-01-01..2024-01-02"],
            ["2024-01-01..2024-01-02", "2024-01-05..2024-01-07"],
        ),
        (["2024-01-01..2024-01-02", "2024-01-03..2024-01-04"], ["2024-01-01..2024-01-04"]),
        (["2024-01-01..2024-01-10", "2024-01-03..2024-01-04"], ["2024-01-01..2024-01-10"]),
        (["2024-01-01..2024-01-05", "2024-01-03..2024-01-08"], ["2024-01-01..2024-01-08"]),
        (["2024-02-28..2024-02-29", "2024-03-01"], ["2024-02-28..2024-03-01"]),
    ],
    ids=["empty", "sorted", "adjacent-merge", "nested", "overlap", "leap-day-adjacent"],
)
def test_merge(given_ranges: list[str], expected: list[str]) -> None:
    assert merge(r(x) for x in given_ranges) == tuple(r(x) for x in expected)


@pytest.mark.parametrize(
    ("covered", "first", "last", "expected"),
    [
        ([], "2024-01-01", "2024-01-05", ["2024-01-01..2024-01-05"]),
        (["2024-01-01..2024-01-05"], "2024-01-01", "2024-01-05", []),
        (
            ["2024-01-02..2024-01-03"],
            "2024-01-01",
            "2024-01-05",
            ["2024-01-01", "2024-01-04..2024-01-05"],
        ),
        (
            ["2023-12-01..2024-01-02", "2024-01-10..2024-02-01"],
            "2024-01-01",
            "2024-01-20",
            ["2024-01-03..2024-01-09"],
        ),
        (["2024-01-03"], "2024-01-05", "2024-01-04", []),
        (["2025-01-01..2025-01-05"], "2024-01-01", "2024-01-02", ["2024-01-01..2024-01-02"]),
    ],
    ids=[
        "nothing-covered",
        "all-covered",
        "hole-in-middle",
        "overhanging-ranges",
        "empty-window",
        "covered-after",
    ],
)
def test_complement(covered: list[str], first: str, last: str, expected: list[str]) -> None:
    ranges = tuple(r(x) for x in covered)
    assert list(complement(ranges, D(first), D(last))) == [r(x) for x in expected]


ranges_st = st.lists(
    st.tuples(st.dates(date(2023, 1, 1), date(2024, 12, 31)), st.integers(0, 40)).map(
        lambda t: (t[0], t[0] + timedelta(days=t[1]))
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(ranges_st, st.dates(date(2022, 12, 1), date(2025, 2, 1)), st.integers(-5, 200))
def test_ranges_agree_with_sets(raw: list[DateRange], first: date, length: int) -> None:
    merged = merge(raw)
    days = days_in(raw)
    assert days_in(merged) == days and count_days(merged) == len(days)
    assert from_dates(days) == merged
    for (_, end), (start, _) in itertools.pairwise(merged):
        assert start > end + timedelta(days=1)  # disjoint and not adjacent
    last = first + timedelta(days=length)
    window = {first + timedelta(days=i) for i in range(length + 1)}
    holes = list(complement(merged, first, last))
    assert days_in(holes) == window - days
    assert merge(holes) == tuple(holes)
    for d in window | days:
        assert contains(merged, d) == (d in days)
