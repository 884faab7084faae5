"""Inclusive date ranges: merging, complements and membership, the compact form of coverage."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta

DateRange = tuple[date, date]
ONE_DAY = timedelta(days=1)


def merge(ranges: Iterable[DateRange]) -> tuple[DateRange, ...]:
    """Sorted, disjoint, non-adjacent ranges covering the same days as ``ranges``."""
    out: list[DateRange] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1] + ONE_DAY:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return tuple(out)


def from_dates(dates: Iterable[date]) -> tuple[DateRange, ...]:
    """Compress days into merged ranges of consecutive calendar days."""
    return merge((d, d) for d in dates)


def complement(ranges: Sequence[DateRange], first: date, last: date) -> Iterator[DateRange]:
    """Days of [first, last] outside the merged ``ranges``, as ranges, ascending."""
    if first > last:
        return
    cursor = first
    start_index = max(bisect_right(ranges, (first, date.max)) - 1, 0)
    for start, end in ranges[start_index:]:
        if end < cursor:
            continue
        if start > last:
            break
        if start > cursor:
            yield cursor, min(start - ONE_DAY, last)
        cursor = end + ONE_DAY
        if cursor > last:
            return
    if cursor <= last:
        yield cursor, last


def contains(ranges: Sequence[DateRange], day: date) -> bool:
    """Whether ``day`` lies in the merged ``ranges``."""
    index = bisect_right(ranges, (day, date.max)) - 1
    return index >= 0 and ranges[index][0] <= day <= ranges[index][1]


def count_days(ranges: Iterable[DateRange]) -> int:
    """Number of calendar days in disjoint ranges."""
    return sum((end - start).days + 1 for start, end in ranges)
