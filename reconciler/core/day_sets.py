"""Sets of dates kept as ranges of calendar days, for comparing plans by ranges: a new
pipeline's ten years of backfills are one range, not 3,652 dates."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from itertools import chain
from typing import overload

Interval = tuple[int, int]  # first and last day ordinal, both in


def _merged(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    out: list[Interval] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1] + 1:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return tuple(out)


def intervals_of(spans: Iterable[Sequence[int]]) -> Iterator[Interval]:
    """Spans of ascending day ordinals as intervals: a ``range`` of step 1 in one piece,
    anything else a day at a time (few dates: weekly or monthly schedules)."""
    for span in spans:
        if isinstance(span, range) and span.step == 1 and len(span):
            yield span[0], span[-1]
        else:
            yield from ((o, o) for o in span)


class DaySet(Sequence[date]):
    """Dates in ascending order, kept as disjoint intervals of calendar days; listed only
    when iterated."""

    __slots__ = ("_count", "intervals")

    def __init__(self, intervals: Iterable[Interval] = ()) -> None:
        self.intervals = _merged(intervals)
        self._count = sum(b - a + 1 for a, b in self.intervals)

    @classmethod
    def of(cls, dates: Iterable[date]) -> DaySet:
        return cls((o, o) for o in map(date.toordinal, dates))

    @classmethod
    def union(cls, sets: Iterable[DaySet]) -> DaySet:
        return cls(chain.from_iterable(s.intervals for s in sets))

    def spans(self) -> Iterator[range]:
        """The intervals as ranges of day ordinals."""
        return (range(a, b + 1) for a, b in self.intervals)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[date]:
        return map(date.fromordinal, chain.from_iterable(self.spans()))

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, date):
            return False
        o = value.toordinal()
        return any(a <= o <= b for a, b in self.intervals)

    @overload
    def __getitem__(self, index: int) -> date: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[date]: ...

    def __getitem__(self, index: int | slice) -> date | Sequence[date]:
        return tuple(self)[index]

    def minus(self, other: DaySet) -> DaySet:
        """The dates of ``self`` that ``other`` does not hold, in one walk of both."""
        out: list[Interval] = []
        theirs = other.intervals
        j = 0
        for a, b in self.intervals:
            while j < len(theirs) and theirs[j][1] < a:
                j += 1
            k = j
            while a <= b:
                if k >= len(theirs) or theirs[k][0] > b:
                    out.append((a, b))
                    break
                lo, hi = theirs[k]
                if lo > a:
                    out.append((a, lo - 1))
                a = max(a, hi + 1)
                k += 1
        return DaySet(out)

    def common(self, other: DaySet) -> int:
        """How many dates both hold."""
        return len(self) - len(self.minus(other))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DaySet):
            return self.intervals == other.intervals
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.intervals)

    def __bool__(self) -> bool:
        return self._count > 0

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{date.fromordinal(a)}..{date.fromordinal(b)}" for a, b in self.intervals
        )
        return f"DaySet({shown})"
