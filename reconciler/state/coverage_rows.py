"""Keeping the ``coverage`` ranges in step with run outcomes, in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from reconciler.core.intervals import DateRange, merge
from reconciler.state.connection import Connection

ONE_DAY = timedelta(days=1)


def subtract(ranges: tuple[DateRange, ...], days: set[date]) -> list[DateRange]:
    out: list[DateRange] = []
    for start, end in ranges:
        cut = sorted(d for d in days if start <= d <= end)
        cursor = start
        for day in cut:
            if day > cursor:
                out.append((cursor, day - ONE_DAY))
            if day == date.max:
                break
            cursor = day + ONE_DAY
        else:
            if cursor <= end:
                out.append((cursor, end))
    return out


def set_coverage(
    conn: Connection, pipeline_id: str, add: Iterable[date], remove: Iterable[date]
) -> None:
    """Add covered dates and remove uncovered ones for one pipeline.

    Only the ranges that touch the changed dates are rewritten, so a finished run costs
    a handful of rows whatever the length of history.
    """
    added = sorted(set(add))
    removed = set(remove)
    if not added and not removed:
        return
    changed = added + sorted(removed)
    lo, hi = min(changed) - ONE_DAY, max(changed) + ONE_DAY
    rows = conn.execute(
        """SELECT range_start, range_end FROM coverage
           WHERE pipeline_id = ? AND range_end >= ? AND range_start <= ?""",
        [pipeline_id, lo, hi],
    ).fetchall()
    touched = tuple((r[0], r[1]) for r in rows)
    merged = merge([*touched, *((d, d) for d in added)])
    result = subtract(merged, removed) if removed else list(merged)
    if tuple(result) == touched:
        return
    if touched:
        conn.execute(
            """DELETE FROM coverage
               WHERE pipeline_id = ? AND range_end >= ? AND range_start <= ?""",
            [pipeline_id, lo, hi],
        )
    if result:
        conn.executemany(
            "INSERT INTO coverage VALUES (?, ?, ?)", [[pipeline_id, s, e] for s, e in result]
        )
