"""Calendar arithmetic: which dates a schedule holds and the instant each becomes due."""

from __future__ import annotations

import functools
import heapq
from calendar import monthrange
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from reconciler.core.spec import Schedule

__all__ = [
    "adjacency",
    "count_between",
    "due_instant",
    "is_scheduled",
    "last_due_day",
    "local_instant",
    "next_scheduled",
    "prev_scheduled",
    "progression",
    "scheduled_between",
    "sla_deadline",
    "unbounded_next",
    "unbounded_prev",
]

_ONE_DAY = timedelta(days=1)
_MIN_ORDINAL = date.min.toordinal()
_MAX_ORDINAL = date.max.toordinal()


@functools.cache
def _zone(name: str) -> ZoneInfo:
    """One ZoneInfo per name: the planner converts many instants in the same few zones."""
    return ZoneInfo(name)


def local_instant(day: date, at: time, tz: str) -> datetime:
    """The UTC instant at which a wall clock in ``tz`` shows ``at`` on ``day``.

    ``fold=0`` gives both DST rules of docs/calendar.md at once: a time in a gap is read with the
    offset in force before the gap, so it lands the gap's length later, and an ambiguous
    time is its first occurrence.
    """
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=_zone(tz))
    return wall.astimezone(UTC)


def due_instant(s: Schedule, d: date) -> datetime:
    """The instant date ``d`` becomes due; comparing it with ``now`` decides what is due."""
    return local_instant(d + timedelta(days=s.offset), s.at, s.timezone)


def last_due_day(s: Schedule, now: datetime) -> date | None:
    """The greatest calendar day (scheduled or not) due at ``now``, so callers need no scan.

    Not clipped to ``start``/``end``. None only when not even ``date.min`` is due.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")
    day = now.astimezone(_zone(s.timezone)).date() - timedelta(days=s.offset)
    # The wall date of `now` is right up to a DST shift around `at`, so at most a
    # step or two either way fixes it.
    while due_instant(s, day) > now:
        if day == date.min:
            return None
        day -= _ONE_DAY
    while day < date.max and due_instant(s, day + _ONE_DAY) <= now:
        day += _ONE_DAY
    return day


def is_scheduled(s: Schedule, d: date) -> bool:
    """Whether ``d`` is one of the schedule's dates."""
    ordinal = d.toordinal()
    return any(_ascending(s, *_window(s, ordinal, ordinal)))


def scheduled_between(s: Schedule, first: date, last: date) -> list[date]:
    """The scheduled dates in ``[first, last]``, ascending, at a cost set by how many there are."""
    lo, hi = _window(s, first.toordinal(), last.toordinal())
    step = _single_step(s)
    if step is not None and lo <= hi:
        # one arithmetic progression (daily, or weekly on one day): no merge needed
        origin = _origins(s)[0][0]
        return list(
            map(date.fromordinal, range(origin - ((origin - lo) // step) * step, hi + 1, step))
        )
    return list(_ascending(s, lo, hi))


def progression(s: Schedule) -> tuple[int, int] | None:
    """``(origin, step)`` in day ordinals when the schedule is one arithmetic progression
    (daily, or weekly on one weekday), so hot loops can step through dates themselves."""
    step = _single_step(s)
    return None if step is None else (_origins(s)[0][0], step)


def adjacency(s: Schedule) -> Callable[[date, date], bool]:
    """A test for "``b`` is the scheduled date right after ``a``", cheap where it can be."""
    step = _single_step(s)
    if step is not None:
        return lambda a, b: b.toordinal() - a.toordinal() == step
    return lambda a, b: next_scheduled(s, a) == b


def count_between(s: Schedule, first: date, last: date) -> int:
    """How many dates ``scheduled_between`` would return, without building them."""
    lo, hi = _window(s, first.toordinal(), last.toordinal())
    if s.type == "monthly":
        return sum(1 for _ in _ascending(s, lo, hi))
    return sum(len(run) for run in _runs(s, lo, hi))


def next_scheduled(s: Schedule, after: date) -> date | None:
    """The first scheduled date strictly after ``after``; None once the schedule has ended."""
    return next(_ascending(s, *_window(s, after.toordinal() + 1, _MAX_ORDINAL)), None)


def following(s: Schedule) -> Callable[[date], date | None]:
    """``next_scheduled`` for one schedule, worked out once: renderers ask it for every
    date of a plan (10^5 of them), and a progression needs only arithmetic."""
    _check(s)
    prog = progression(s)
    if prog is None:
        return lambda after: next_scheduled(s, after)
    origin, step = prog
    start = s.start.toordinal()
    end = s.end.toordinal() if s.end is not None else _MAX_ORDINAL
    fromordinal = date.fromordinal

    def after_(after: date) -> date | None:
        lo = max(after.toordinal() + 1, start)
        # the first term >= lo, as in ``_runs``
        o = origin - ((origin - lo) // step) * step
        return fromordinal(o) if o <= end else None

    return after_


def prev_scheduled(s: Schedule, before: date) -> date | None:
    """The last scheduled date strictly before ``before``; None if none precedes it."""
    return next(_descending(s, *_window(s, _MIN_ORDINAL, before.toordinal() - 1)), None)


def unbounded_next(s: Schedule, on_or_after: date) -> date | None:
    """The first date of the schedule's pattern on or after ``on_or_after``, as if it had
    neither start nor end (``start`` still anchors ``every`` and the default day)."""
    _check(s)
    return next(_ascending(s, on_or_after.toordinal(), _MAX_ORDINAL), None)


def unbounded_prev(s: Schedule, before: date) -> date | None:
    """The last date of the schedule's pattern strictly before ``before``, as if it had
    neither start nor end: a date's period starts after it (dependencies' ``period``)."""
    _check(s)
    return next(_descending(s, _MIN_ORDINAL, before.toordinal() - 1), None)


def sla_deadline(s: Schedule, sla_time: time, d: date) -> datetime:
    """When ``d`` breaches its SLA: ``sla_time`` on its due day, or the next day if not later."""
    day = d + timedelta(days=s.offset)
    deadline = local_instant(day, sla_time, s.timezone)
    if deadline <= due_instant(s, d):
        deadline = local_instant(day + _ONE_DAY, sla_time, s.timezone)
    return deadline


@functools.cache
def _origins(s: Schedule) -> tuple[tuple[int, ...], int]:
    """Daily/weekly schedules as progressions: first-week ordinals and the step in days."""
    start = s.start.toordinal()
    if s.type == "daily":
        return (start,), s.every
    monday = start - s.start.weekday()
    weekdays = set(s.days) or {s.start.weekday()}
    return tuple(monday + w for w in sorted(weekdays)), 7 * s.every


@functools.cache
def _single_step(s: Schedule) -> int | None:
    """The step when the schedule is one progression, else None (checked once per schedule)."""
    _check(s)
    if s.type == "monthly":
        return None
    origins, step = _origins(s)
    return step if len(origins) == 1 else None


def _window(s: Schedule, lo: int, hi: int) -> tuple[int, int]:
    """Check the schedule, then clip a range of day ordinals to its ``[start, end]``."""
    _check(s)
    lo = max(lo, s.start.toordinal())
    if s.end is not None:
        hi = min(hi, s.end.toordinal())
    return lo, hi


@functools.cache
def _check(s: Schedule) -> None:
    """Refuse schedules the arithmetic below would silently misread."""
    if s.every < 1:
        raise ValueError(f"schedule.every must be >= 1, got {s.every}")
    if s.type == "weekly":
        bad = [w for w in s.days if not 0 <= w <= 6]
    elif s.type == "monthly":
        bad = [n for n in s.days if not (1 <= n <= 31 or -31 <= n <= -1)]
    elif s.type == "daily":
        bad = []
    else:
        raise ValueError(f"schedule.type must be daily, weekly or monthly, got {s.type!r}")
    if bad:
        raise ValueError(f"schedule.days has values a {s.type} schedule cannot hold: {bad}")


def _runs(s: Schedule, lo: int, hi: int) -> list[range]:
    """Daily and weekly dates in ``[lo, hi]`` as arithmetic progressions of day ordinals.

    A daily schedule is one progression from ``start``; a weekly one is one progression
    per weekday, each stepping ``7 * every`` days from that weekday in ``start``'s week.
    Jumping straight to the first term ``>= lo`` keeps the cost off the distance from start.
    """
    origins, step = _origins(s)
    # -((o - lo) // step) is ceil((lo - o) / step): the index of the first term >= lo.
    return [range(o - ((o - lo) // step) * step, hi + 1, step) for o in origins]


def _ascending(s: Schedule, lo: int, hi: int) -> Iterator[date]:
    """Scheduled dates in ``[lo, hi]`` (ordinals already clipped to start/end), ascending."""
    if lo > hi:
        return iter(())
    if s.type == "monthly":
        return _monthly(s, lo, hi, reverse=False)
    return map(date.fromordinal, heapq.merge(*_runs(s, lo, hi)))


def _descending(s: Schedule, lo: int, hi: int) -> Iterator[date]:
    """Scheduled dates in ``[lo, hi]`` (ordinals already clipped to start/end), descending."""
    if lo > hi:
        return iter(())
    if s.type == "monthly":
        return _monthly(s, lo, hi, reverse=True)
    return map(date.fromordinal, heapq.merge(*(r[::-1] for r in _runs(s, lo, hi)), reverse=True))


def _monthly(s: Schedule, lo: int, hi: int, *, reverse: bool) -> Iterator[date]:
    """Walk only the months ``every`` apart from ``start``'s month, between ``lo`` and ``hi``."""
    first, last = date.fromordinal(lo), date.fromordinal(hi)
    anchor, n = _month_index(s.start), s.every
    # Round the window's months inward to the months that are a multiple of n from anchor.
    m_lo = anchor - ((anchor - _month_index(first)) // n) * n
    m_hi = anchor + ((_month_index(last) - anchor) // n) * n
    months = range(m_hi, m_lo - 1, -n) if reverse else range(m_lo, m_hi + 1, n)
    wanted = set(s.days) or {s.start.day}
    for m in months:
        year, month0 = divmod(m, 12)
        days = _days_of_month(wanted, monthrange(year, month0 + 1)[1])
        for day in reversed(days) if reverse else days:
            d = date(year, month0 + 1, day)
            if first <= d <= last:
                yield d


def _month_index(d: date) -> int:
    """Months since year 0, so month distances are plain subtraction."""
    return d.year * 12 + d.month - 1


def _days_of_month(wanted: set[int], length: int) -> list[int]:
    """Resolve day numbers (negative count from the end): absent days drop, duplicates merge."""
    resolved = {n if n > 0 else length + 1 + n for n in wanted}
    return sorted(n for n in resolved if 1 <= n <= length)
