"""Dependencies between pipelines: which upstream dates a downstream date needs, and which
downstream dates are blocked by upstream dates that are not available.

For a scheduled downstream date D and a dependency with ``offset``, let D' = D + offset.
The upstream dates D needs are the upstream schedule's dates (within its start and end):

- ``period``: those in (P', D'], where P' is the downstream date before D (as if the
  downstream schedule had no start) plus ``offset``: daily on daily is D itself, a
  Sunday rollup over a daily load the seven days ending that Sunday, month-end over
  daily the whole month;
- ``same``: D' only, if the upstream schedules it;
- ``latest``: the latest upstream date on or before D'.

``needed`` answers for one date. ``blocked`` answers for a whole fleet's backlog: it
maps ranges of unavailable upstream dates to the ranges of downstream dates they block,
at a cost set by the number of ranges, not of dates (ten years of a daily pipeline
missing is one range). Both are pure; the planner decides what "available" means.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from reconciler.core.calendar import (
    count_between,
    next_scheduled,
    prev_scheduled,
    scheduled_between,
    unbounded_next,
    unbounded_prev,
)
from reconciler.core.intervals import DateRange, merge
from reconciler.core.spec import Dependency, PipelineSpec, Schedule

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, kw_only=True)
class Block:
    """Downstream dates in ``blocked`` (those the downstream schedules) wait for the
    unavailable upstream dates in ``waits_for`` (those the upstream schedules)."""

    blocked: DateRange
    waits_for: DateRange


def _shift(day: date, days: int) -> date | None:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


def needed(down: Schedule, dep: Dependency, up: Schedule, day: date) -> tuple[date, ...]:
    """The upstream dates the downstream date ``day`` needs, ascending (maybe none)."""
    shifted = _shift(day, dep.offset)
    if shifted is None:
        return ()
    if dep.dates == "same":
        return tuple(scheduled_between(up, shifted, shifted))
    if dep.dates == "latest":
        latest = prev_scheduled(up, shifted + ONE_DAY) if shifted < date.max else None
        return () if latest is None else (latest,)
    previous = unbounded_prev(down, day)
    low = _shift(previous, dep.offset + 1) if previous is not None else date.min
    if low is None or low > shifted:
        return ()
    return tuple(scheduled_between(up, low, shifted))


def blocked(
    down: Schedule, dep: Dependency, up: Schedule, unavailable: Iterable[DateRange]
) -> list[Block]:
    """The downstream dates that need a date in ``unavailable`` (calendar ranges of the
    upstream's dates that are not available), as ranges, with what they wait for.

    Ranges are returned in order; the downstream dates a ``Block`` covers are all blocked.
    """
    out: list[Block] = []
    for first, last in merge(unavailable):
        lo, hi = _on_or_after(up, first), _on_or_before(up, last)
        if lo is None or hi is None or lo > hi:
            continue  # no upstream date in that range: it blocks nothing
        out += _image(down, dep, up, lo, hi)
    return out


def _image(down: Schedule, dep: Dependency, up: Schedule, lo: date, hi: date) -> list[Block]:
    """The downstream dates needing an upstream date in ``[lo, hi]`` (both scheduled)."""
    if dep.dates == "latest":
        # D needs x when x <= D' < the upstream date after x: one contiguous stretch
        after = next_scheduled(up, hi)
        first = _shift(lo, -dep.offset)
        last = _shift(after, -dep.offset - 1) if after is not None else date.max
        return _clipped(down, first, last, (lo, hi))
    if dep.dates == "same":
        if _gaps(up) == [1]:
            # a daily upstream schedules every D' of [lo, hi]: one stretch of D
            first, last = _shift(lo, -dep.offset), _shift(hi, -dep.offset)
            return _clipped(down, first, last, (lo, hi))
        return [
            Block(blocked=(d, d), waits_for=(u, u)) for d, u in _same_dates(down, dep, up, lo, hi)
        ]
    # period: an upstream date x belongs to the period of the first downstream date on
    # or after x - offset; dense upstreams fill every period in between
    first_down = _period_of(down, dep, lo)
    last_down = _period_of(down, dep, hi)
    if first_down is None:
        return []
    if last_down is None:
        last_down = date.max
    if _fills_every_period(up, down):
        return _clipped(down, first_down, last_down, (lo, hi))
    days = {d for x in scheduled_between(up, lo, hi) if (d := _period_of(down, dep, x))}
    return [b for d in sorted(days) for b in _clipped(down, d, d, (lo, hi))]


def _period_of(down: Schedule, dep: Dependency, upstream_day: date) -> date | None:
    """The downstream date (as if unbounded) whose period holds ``upstream_day``."""
    target = _shift(upstream_day, -dep.offset)
    return None if target is None else unbounded_next(down, target)


def _same_dates(
    down: Schedule, dep: Dependency, up: Schedule, lo: date, hi: date
) -> Iterator[tuple[date, date]]:
    """(downstream D, upstream D') pairs with D' in [lo, hi], walking the sparser side."""
    first, last = _shift(lo, -dep.offset), _shift(hi, -dep.offset)
    if first is None or last is None:
        return
    if count_between(down, first, last) <= count_between(up, lo, hi):
        for d in scheduled_between(down, first, last):
            u = d + timedelta(days=dep.offset)
            if scheduled_between(up, u, u):
                yield d, u
    else:
        for u in scheduled_between(up, lo, hi):
            d = u - timedelta(days=dep.offset)
            if scheduled_between(down, d, d):
                yield d, u


def _clipped(
    down: Schedule, first: date | None, last: date | None, waits_for: DateRange
) -> list[Block]:
    """``[first, last]`` narrowed to the downstream dates in it (none: no block)."""
    if first is None or last is None or first > last:
        return []
    lo = _on_or_after(down, first)
    hi = _on_or_before(down, last)
    if lo is None or hi is None or lo > hi:
        return []
    return [Block(blocked=(lo, hi), waits_for=waits_for)]


def _on_or_after(s: Schedule, day: date) -> date | None:
    return next_scheduled(s, day - ONE_DAY) if day > date.min else next_scheduled(s, day)


def _on_or_before(s: Schedule, day: date) -> date | None:
    if day < date.max:
        return prev_scheduled(s, day + ONE_DAY)
    return day if scheduled_between(s, day, day) else prev_scheduled(s, day)


def _fills_every_period(up: Schedule, down: Schedule) -> bool:
    """Whether every downstream period holds an upstream date (no gap between upstream
    dates is longer than the shortest downstream period): true for daily upstreams."""
    return _max_gap(up) <= _min_gap(down)


def _gaps(s: Schedule) -> list[int] | None:
    """Day gaps between consecutive dates of a daily or weekly pattern (None: monthly)."""
    if s.type == "daily":
        return [s.every]
    if s.type == "weekly":
        days = sorted(set(s.days) or {s.start.weekday()})
        inner = [b - a for a, b in pairwise(days)]
        return [*inner, 7 * s.every - (days[-1] - days[0])]
    return None


def _max_gap(s: Schedule) -> int:
    gaps = _gaps(s)
    return max(gaps) if gaps is not None else 31 * s.every + 30  # a safe bound for months


def _min_gap(s: Schedule) -> int:
    gaps = _gaps(s)
    return min(gaps) if gaps is not None else 1  # (months: treated as sparse, walked)


Users = Mapping[str, Sequence[tuple[PipelineSpec, Dependency]]]


def users_of(specs: Iterable[PipelineSpec]) -> dict[str, list[tuple[PipelineSpec, Dependency]]]:
    """Per upstream id, the pipelines that depend on it and through which entry."""
    out: dict[str, list[tuple[PipelineSpec, Dependency]]] = {}
    for spec in specs:
        for dep in spec.depends_on:
            out.setdefault(dep.pipeline, []).append((spec, dep))
    return out


@dataclass(frozen=True, kw_only=True)
class Mark:
    """Dates of ``pipeline`` made outdated because ``cause`` (an upstream pipeline's
    dates, or the pipeline's own version change when ``cause_pipeline`` is itself)
    changed: they need a refresh if they started before the mark was written."""

    pipeline: str
    dates: DateRange
    cause_pipeline: str
    cause_dates: DateRange


def outdated_by(up: PipelineSpec, succeeded: Iterable[DateRange], users: Users) -> list[Mark]:
    """The marks a successful run of ``up`` over ``succeeded`` writes on the dates of its
    users that read those dates (users with ``refresh_on_upstream_change`` only)."""
    ranges = merge(succeeded)
    out: list[Mark] = []
    for down, dep in users.get(up.id, ()):
        if not down.refresh_on_upstream_change:
            continue
        for block in blocked(down.schedule, dep, up.schedule, ranges):
            for dates in _scheduled_runs(down.schedule, block.blocked):
                out.append(
                    Mark(
                        pipeline=down.id,
                        dates=dates,
                        cause_pipeline=up.id,
                        cause_dates=block.waits_for,
                    )
                )
    return out


def _scheduled_runs(s: Schedule, span: DateRange) -> list[DateRange]:
    """``span`` as runs of consecutive calendar days that the schedule holds: a mark
    then never holds an unscheduled day, which no run would ever cut out of it."""
    if _gaps(s) == [1]:
        return [span]
    days = scheduled_between(s, *span)
    runs: list[DateRange] = []
    for day in days:
        if runs and runs[-1][1] + ONE_DAY == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
