"""Compressing date lists into runs (``2024-03-01..2024-03-31 (31 dates)``) and back, and
printing instants."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from itertools import chain, pairwise

NextDate = Callable[[date], date | None]
DateRun = tuple[date, date, int]


def instant(value: datetime) -> str:
    """An instant as every human-readable output prints it: ISO 8601 to the second."""
    return value.isoformat(timespec="seconds")


def next_day(d: date) -> date | None:
    """Adjacency for plain calendar days."""
    return d + timedelta(days=1)


def compress(dates: Iterable[date], following: NextDate = next_day) -> list[DateRun]:
    """Runs of dates where each is the ``following`` of the previous: (first, last, count)."""
    runs: list[DateRun] = []
    for d in sorted(set(dates)):
        if runs and following(runs[-1][1]) == d:
            first, _last, count = runs[-1]
            runs[-1] = (first, d, count + 1)
        else:
            runs.append((d, d, 1))
    return runs


def expand(runs: Sequence[DateRun], following: NextDate = next_day) -> list[date]:
    """The dates of ``runs``, the inverse of ``compress``."""
    out: list[date] = []
    for first, last, count in runs:
        d: date | None = first
        for _ in range(count):
            assert d is not None
            out.append(d)
            d = following(d)
        if out[-1] != last:
            raise ValueError(f"run {first}..{last} does not hold {count} dates")
    return out


def format_run(run: DateRun) -> str:
    """``2024-03-01`` or ``2024-03-01..2024-03-31 (31 dates)``."""
    first, last, count = run
    if count == 1:
        return first.isoformat()
    return f"{first.isoformat()}..{last.isoformat()} ({count} dates)"


def compress_spans(spans: Iterable[Sequence[int]], following: NextDate = next_day) -> list[DateRun]:
    """``compress`` of the dates of ``spans`` (ascending day ordinals each, a ``range`` where
    the dates follow a step), at a cost set by how many spans there are, not dates.

    A ``range`` is taken as one stretch once ``following`` agrees at both of its ends (the
    planner makes ranges of a schedule's consecutive dates); other spans, and spans that
    overlap, are read date by date.
    """
    ordered = sorted((s for s in spans if len(s)), key=lambda s: s[0])
    if any(a[-1] >= b[0] for a, b in pairwise(ordered)):
        return compress(map(date.fromordinal, chain.from_iterable(ordered)), following)
    runs: list[DateRun] = []
    day = date.fromordinal
    for span in ordered:
        first, last = day(span[0]), day(span[-1])
        if isinstance(span, range) and len(span) > 1 and _stretch(span, following):
            pieces: Iterable[DateRun] = ((first, last, len(span)),)
        else:
            pieces = ((d, d, 1) for d in map(day, span))
        for piece in pieces:
            if runs and following(runs[-1][1]) == piece[0]:
                runs[-1] = (runs[-1][0], piece[1], runs[-1][2] + piece[2])
            else:
                runs.append(piece)
    return runs


CHECKED_STEPS = 32  # steps of a range checked at each end (see ``_stretch``)


def _stretch(span: range, following: NextDate) -> bool:
    """Whether ``following`` steps through ``span`` as the range does.

    The steps at both ends are checked, up to ``CHECKED_STEPS`` each: a range the planner
    made of one schedule's consecutive dates passes, and one read with another schedule's
    adjacency (a compare whose change edits ``every``) fails within a period of the
    other schedule, whose next date alternates between near and far: caught when that
    schedule repeats within ``CHECKED_STEPS`` steps, or the range is short enough to be
    checked whole."""
    day = date.fromordinal
    steps = len(span) - 1
    ends: Iterable[int] = range(steps)
    if steps > 2 * CHECKED_STEPS:
        ends = chain(range(CHECKED_STEPS), range(steps - CHECKED_STEPS, steps))
    return all(following(day(span[i])) == day(span[i + 1]) for i in ends)


def format_runs(runs: Sequence[DateRun], limit: int = 6) -> str:
    """Runs joined by commas, at most ``limit`` of them then ``+N more``."""
    shown = ", ".join(format_run(r) for r in runs[:limit])
    if len(runs) > limit:
        rest = sum(r[2] for r in runs[limit:])
        shown += f", +{rest} more dates in {len(runs) - limit} runs"
    return shown


def format_spans(
    spans: Iterable[Sequence[int]], following: NextDate = next_day, limit: int = 6
) -> str:
    """``format_dates`` of the dates of ``spans``, without listing them."""
    return format_runs(compress_spans(spans, following), limit)


def format_dates(dates: Iterable[date], following: NextDate = next_day, limit: int = 6) -> str:
    """Compressed runs joined by commas, at most ``limit`` of them then ``+N more``."""
    return format_runs(compress(dates, following), limit)
