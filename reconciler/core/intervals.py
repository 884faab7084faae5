"""Inclusive date ranges: merging, complements and membership, the compact form of coverage."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from itertools import chain, repeat
from operator import ge, le, sub
from typing import overload

DateRange = tuple[date, date]
ONE_DAY = timedelta(days=1)


def merge(ranges: Iterable[DateRange]) -> tuple[DateRange, ...]:
    """Sorted, disjoint, non-adjacent ranges covering the same days as ``ranges``."""
    out: list[DateRange] = []
    for start, end in sorted(ranges):
        if out and (out[-1][1] == date.max or start <= out[-1][1] + ONE_DAY):
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return tuple(out)


def from_dates(dates: Iterable[date]) -> tuple[DateRange, ...]:
    """Compress days into merged ranges of consecutive calendar days."""
    return merge((d, d) for d in dates)


class DayRanges(Sequence[DateRange]):
    """Merged day ranges kept as two tuples of day ordinals: the compact form of coverage.

    Reads as a sequence of ``(first, last)`` date pairs like any merged ranges, but the
    planner works on the ordinals directly: ten years of daily history with scattered
    holes is some 10^5 ranges a fleet, and building date objects for each costs more
    than planning them.
    """

    __slots__ = ("ends", "starts")

    def __init__(self, starts: Sequence[int] = (), ends: Sequence[int] = ()) -> None:
        if len(starts) != len(ends):
            raise ValueError("starts and ends differ in length")
        self.starts: tuple[int, ...] = tuple(starts)
        self.ends: tuple[int, ...] = tuple(ends)

    @classmethod
    def of(cls, ranges: Iterable[DateRange]) -> DayRanges:
        """From any ranges of dates (merged first, so callers may pass them unsorted)."""
        if isinstance(ranges, DayRanges):
            return ranges
        merged = merge(ranges)
        return cls([a.toordinal() for a, _ in merged], [b.toordinal() for _, b in merged])

    @classmethod
    def from_sorted(cls, starts: Sequence[int], ends: Sequence[int]) -> DayRanges:
        """From ranges sorted by start, as a store keeps them; merged again only if two
        overlap or touch (a check done in C)."""
        if len(starts) > 1 and any(map(le, starts[1:], map((1).__add__, ends[:-1]))):
            day = date.fromordinal
            return cls.of((day(a), day(b)) for a, b in zip(starts, ends, strict=True))
        return cls(starts, ends)

    def __len__(self) -> int:
        return len(self.starts)

    @overload
    def __getitem__(self, index: int) -> DateRange: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[DateRange]: ...

    def __getitem__(self, index: int | slice) -> DateRange | Sequence[DateRange]:
        if isinstance(index, slice):
            return DayRanges(self.starts[index], self.ends[index])
        return date.fromordinal(self.starts[index]), date.fromordinal(self.ends[index])

    def __iter__(self) -> Iterator[DateRange]:
        day = date.fromordinal
        return zip(map(day, self.starts), map(day, self.ends), strict=True)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DayRanges):
            return self.starts == other.starts and self.ends == other.ends
        if isinstance(other, tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.starts, self.ends))

    def __repr__(self) -> str:
        return f"DayRanges({list(self)!r})"

    def days_within(self, first: int, last: int) -> int:
        """How many days of ordinals ``[first, last]`` are covered, summing in C."""
        if first > last or not self.starts:
            return 0
        lo = bisect_left(self.ends, first)
        hi = bisect_right(self.starts, last)
        if lo >= hi:
            return 0
        starts, ends = self.starts, self.ends
        days = sum(ends[lo:hi]) - sum(starts[lo:hi]) + (hi - lo)
        days -= max(first - starts[lo], 0)
        days -= max(ends[hi - 1] - last, 0)
        return days

    def uncovered_within(self, first: int, last: int) -> int:
        """How many days of ordinals ``[first, last]`` are not covered (0 if empty)."""
        return max(last - first + 1, 0) - self.days_within(first, last)

    def holes(self, first: int, last: int) -> Iterator[tuple[int, int]]:
        """Ordinal ranges of ``[first, last]`` outside the coverage, ascending.

        An iterator assembled from C-level pieces, not a generator: listing the holes of
        a fleet's history is per-hole work, and a Python frame per hole doubles it.
        """
        return zip(*self._hole_bounds(first, last), strict=True)

    def hole_days(self, first: int, last: int) -> Iterator[range]:
        """The holes of ``[first, last]`` as ``range`` objects of day ordinals."""
        starts, lasts = self._hole_bounds(first, last)
        return map(range, starts, map((1).__add__, lasts))

    def _hole_bounds(self, first: int, last: int) -> tuple[Iterator[int], Iterator[int]]:
        """First and last days of the holes of ``[first, last]``, as two iterators."""
        if first > last:
            return iter(()), iter(())
        starts, ends = self.starts, self.ends
        lo = bisect_left(ends, first)
        hi = bisect_right(starts, last)
        if lo >= hi:
            return iter((first,)), iter((last,))
        before = starts[lo] > first
        after = ends[hi - 1] < last
        return (
            chain(
                (first,) if before else (),
                map((1).__add__, ends[lo : hi - 1]),
                (ends[hi - 1] + 1,) if after else (),
            ),
            chain(
                (starts[lo] - 1,) if before else (),
                map((-1).__add__, starts[lo + 1 : hi]),
                (last,) if after else (),
            ),
        )

    def hole_lengths(self, first: int, last: int) -> Iterator[int]:
        """Day counts of ``holes(first, last)``, in the same order, computed in C."""
        if first > last:
            return iter(())
        starts, ends = self.starts, self.ends
        lo = bisect_left(ends, first)
        hi = bisect_right(starts, last)
        if lo >= hi:
            return iter((last - first + 1,))
        before = (starts[lo] - first,) if starts[lo] > first else ()
        after = (last - ends[hi - 1],) if ends[hi - 1] < last else ()
        inner = map(sub, starts[lo + 1 : hi], map((1).__add__, ends[lo : hi - 1]))
        return chain(before, inner, after)

    def within(self, first: int, last: int) -> Iterator[tuple[int, int]]:
        """The covered ordinal ranges of ``[first, last]`` (clipped to it), ascending."""
        if first > last or not self.starts:
            return iter(())
        lo = bisect_left(self.ends, first)
        hi = bisect_right(self.starts, last)
        return (
            (max(a, first), min(b, last))
            for a, b in zip(self.starts[lo:hi], self.ends[lo:hi], strict=True)
        )

    def any_of(self, days: Sequence[int]) -> bool:
        """Whether any of the ascending day ordinals ``days`` is covered, in C passes."""
        if not days or not self.starts:
            return False
        # bisect_right gives k: the day would lie in range k - 1, whose end is ends[k]
        # once a sentinel end (before every day) is put in front
        ends = (-1, *self.ends)
        where = map(bisect_right, repeat(self.starts), days)
        return any(map(ge, map(ends.__getitem__, where), days))

    def covers(self, day: int) -> bool:
        """Whether the day ordinal ``day`` is covered."""
        index = bisect_right(self.starts, day) - 1
        return index >= 0 and self.ends[index] >= day


def complement(ranges: Sequence[DateRange], first: date, last: date) -> Iterator[DateRange]:
    """Days of [first, last] outside the merged ``ranges``, as ranges, ascending."""
    if first > last:
        return
    if isinstance(ranges, DayRanges):
        for a, b in ranges.holes(first.toordinal(), last.toordinal()):
            yield date.fromordinal(a), date.fromordinal(b)
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
        if end >= last:  # (also keeps ``end + 1 day`` from passing date.max)
            return
        cursor = end + ONE_DAY
    if cursor <= last:
        yield cursor, last


def contains(ranges: Sequence[DateRange], day: date) -> bool:
    """Whether ``day`` lies in the merged ``ranges``."""
    if isinstance(ranges, DayRanges):
        return ranges.covers(day.toordinal())
    index = bisect_right(ranges, (day, date.max)) - 1
    return index >= 0 and ranges[index][0] <= day <= ranges[index][1]


def count_days(ranges: Iterable[DateRange]) -> int:
    """Number of calendar days in disjoint ranges."""
    return sum((end - start).days + 1 for start, end in ranges)
