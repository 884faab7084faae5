"""Which dates of a dependant cannot start yet, and what they wait for: holds computed
from an upstream's unavailable ranges (``core.dependencies.blocked``), and looked up per
stretch of days over which the same holds apply."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from reconciler.core.availability import Availability
from reconciler.core.dependencies import blocked, needed
from reconciler.core.intervals import DayRanges
from reconciler.core.plan_records import UpstreamDates
from reconciler.core.spec import Dependency, PipelineSpec

Upstreams = tuple[UpstreamDates, ...]


@dataclass(frozen=True, slots=True)
class Hold:
    """Downstream ordinals ``[first, last]`` cannot start: they need ``upstream``."""

    first: int
    last: int
    upstream: UpstreamDates
    gone: bool


def shift(ordinal: int, days: int) -> int | None:
    moved = ordinal + days
    return moved if 1 <= moved <= date.max.toordinal() else None


def needed_hull(
    spec: PipelineSpec, dep: Dependency, up: PipelineSpec, first: int, last: int
) -> tuple[int, int] | None:
    """Ordinals holding every upstream date some downstream date of ``[first, last]`` needs."""
    hi = shift(last, dep.offset)
    if hi is None:
        return None
    at_first = needed(spec.schedule, dep, up.schedule, date.fromordinal(first))
    lo = at_first[0].toordinal() if at_first else shift(first, dep.offset)
    if lo is None or lo > hi:
        return None
    return lo, hi


def holds_for(
    spec: PipelineSpec,
    dep: Dependency,
    up: Availability | None,
    first: int,
    last: int,
) -> list[Hold]:
    """The dates of ``[first, last]`` that need an unavailable date of ``dep``'s upstream."""
    if up is None:  # not in this plan: wait for it rather than run on unknown inputs
        lo, hi = shift(first, dep.offset), shift(last, dep.offset)
        upstream = UpstreamDates(
            dep.pipeline, date.fromordinal(lo or first), date.fromordinal(hi or last)
        )
        return [Hold(first, last, upstream, gone=False)]
    hull = needed_hull(spec, dep, up.spec, first, last)
    if hull is None:
        return []
    out: list[Hold] = []
    for a, b in up.unavailable(*hull):
        for lo, hi, gone in split_gone(a, b, up.gone):
            piece = [(date.fromordinal(lo), date.fromordinal(hi))]
            for block in blocked(spec.schedule, dep, up.spec.schedule, piece):
                s = max(block.blocked[0].toordinal(), first)
                e = min(block.blocked[1].toordinal(), last)
                if s > e:
                    continue
                waits = waits_for(spec, dep, up.spec, s, e, block.waits_for)
                out.append(Hold(s, e, waits, gone))
    return out


def waits_for(
    spec: PipelineSpec,
    dep: Dependency,
    up: PipelineSpec,
    first: int,
    last: int,
    unavailable: tuple[date, date],
) -> UpstreamDates:
    """The unavailable upstream dates that ``[first, last]`` needs, narrowed from the
    upstream range to what those downstream dates read."""
    lo, hi = unavailable
    hull = needed_hull(spec, dep, up, first, last)
    if hull is not None:
        lo = max(lo, date.fromordinal(hull[0]))
        hi = min(hi, date.fromordinal(hull[1]))
    if lo > hi:
        lo, hi = unavailable
    return UpstreamDates(up.id, lo, hi)


def split_gone(first: int, last: int, gone: DayRanges) -> Iterator[tuple[int, int, bool]]:
    """``[first, last]`` cut into pieces that are gaps of the upstream or not."""
    cursor = first
    for a, b in gone.within(first, last):
        if a > cursor:
            yield cursor, a - 1, False
        yield a, b, True
        cursor = b + 1
    if cursor <= last:
        yield cursor, last, False


class Holds:
    """The holds of one pipeline as segments: stretches of days over which the same holds
    apply, so a stretch of held days is looked up once, not day by day."""

    def __init__(self, holds: Sequence[Hold]) -> None:
        self.ranges = DayRanges.of(
            (date.fromordinal(h.first), date.fromordinal(h.last)) for h in holds
        )
        self.segments = segments(holds)
        self.starts = [seg[0] for seg in self.segments]

    def touches(self, first: int, last: int) -> bool:
        return self.ranges.days_within(first, last) > 0

    def of(self, days: range) -> Iterator[tuple[range, Upstreams, Upstreams]]:
        """``(held days, upstream dates they wait for, those that will never run)`` for
        the held stretches of ``days`` (ascending ordinals with one step), in order."""
        if not days:
            return
        step, first, last = days.step, days[0], days[-1]
        i = max(bisect_right(self.starts, first) - 1, 0)
        for lo, hi, upstream, lost in self.segments[i:]:
            if lo > last:
                break
            if hi < first:
                continue
            a = max(0, -(-(lo - first) // step))
            b = min(len(days) - 1, (hi - first) // step)
            if a <= b:
                yield days[a : b + 1], upstream, lost


def segments(holds: Sequence[Hold]) -> list[tuple[int, int, Upstreams, Upstreams]]:
    """``(first, last, upstream, lost)`` for each stretch over which one set of holds
    applies, ascending (a sweep over where holds begin and end)."""
    bounds = sorted({h.first for h in holds} | {h.last + 1 for h in holds})
    by_first = sorted(range(len(holds)), key=lambda k: holds[k].first)
    by_last = sorted(range(len(holds)), key=lambda k: holds[k].last)
    active: dict[int, Hold] = {}
    out: list[tuple[int, int, Upstreams, Upstreams]] = []
    i = j = 0
    for here, after in pairwise(bounds):
        while i < len(by_first) and holds[by_first[i]].first <= here:
            active[by_first[i]] = holds[by_first[i]]
            i += 1
        while j < len(by_last) and holds[by_last[j]].last < here:
            active.pop(by_last[j], None)
            j += 1
        if active:
            found = active.values()
            lost = hulls(h.upstream for h in found if h.gone)
            out.append((here, after - 1, hulls(h.upstream for h in found), lost))
    return out


def hulls(items: Iterable[UpstreamDates]) -> tuple[UpstreamDates, ...]:
    """One ``UpstreamDates`` per upstream pipeline, spanning what was given for it."""
    found: dict[str, UpstreamDates] = {}
    for u in items:
        had = found.get(u.pipeline_id)
        found[u.pipeline_id] = (
            u
            if had is None
            else UpstreamDates(u.pipeline_id, min(had.first, u.first), max(had.last, u.last))
        )
    return tuple(found[k] for k in sorted(found))
