"""Compressing date lists into runs (``2024-03-01..2024-03-31 (31 dates)``) and back, and
printing instants."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta

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


def format_dates(dates: Iterable[date], following: NextDate = next_day, limit: int = 6) -> str:
    """Compressed runs joined by commas, at most ``limit`` of them then ``+N more``."""
    runs = compress(dates, following)
    shown = ", ".join(format_run(r) for r in runs[:limit])
    if len(runs) > limit:
        rest = sum(r[2] for r in runs[limit:])
        shown += f", +{rest} more dates in {len(runs) - limit} runs"
    return shown
