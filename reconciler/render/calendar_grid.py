"""Classified dates laid out as a calendar grid, shared by the terminal and HTML renderers.

Two layouts: ``week`` puts one column per week and one row per weekday, like a
contributions graph; ``month`` (monthly schedules) puts one row per year and one
group of cells per month, a cell per scheduled day of that month.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from reconciler.core.date_states import DateDetail, DateState
from reconciler.core.spec import Schedule

Layout = Literal["week", "month"]
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_MONTH_SLOTS = 5  # beyond this many dates a month, the week layout reads better
DEFAULT_WEEKS = 53


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineCalendar:
    """One pipeline's dates in a window, classified, with what the run log says of each."""

    pipeline_id: str
    name: str
    schedule_type: str
    layout: Layout
    first: date
    last: date
    states: Mapping[date, DateState]
    details: Mapping[date, DateDetail] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """One band of a calendar: rows of cells (a date, or None for no scheduled date).

    ``col_labels`` are (column, text) pairs; ``group`` is how many columns make one
    month in the month layout, drawn apart from the next (1 in the week layout).
    """

    row_labels: tuple[str, ...]
    col_labels: tuple[tuple[int, str], ...]
    rows: tuple[tuple[date | None, ...], ...]
    group: int = 1

    @property
    def columns(self) -> int:
        return len(self.rows[0]) if self.rows else 0


def layout_for(schedule: Schedule) -> Layout:
    """Monthly schedules by month (while a month's cells fit), everything else by week."""
    if schedule.type == "monthly" and max(len(schedule.days), 1) <= MAX_MONTH_SLOTS:
        return "month"
    return "week"


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _default_span(layout: Layout, anchor: date) -> tuple[date, date]:
    """About a year ending with ``anchor``'s week, or the year before and ``anchor``'s year."""
    if layout == "month":
        return date(anchor.year - 1, 1, 1), date(anchor.year, 12, 31)
    last = _monday(anchor) + timedelta(days=6)
    return last - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1), last


def calendar_window(
    schedule: Schedule,
    now: datetime,
    layout: Layout,
    date_from: date | None = None,
    date_to: date | None = None,
) -> tuple[date, date]:
    """The window to draw, clipped to the schedule's start and end (may be empty: first > last).

    By default about a year up to the week (or the year) of ``now``; one bound given
    moves the default span to it.
    """
    today = now.date()
    anchor = max(min(today, schedule.end or today), schedule.start)
    if date_to is not None:
        anchor = date_to
    first, last = _default_span(layout, anchor)
    if date_from is not None:
        first = date_from
        if date_to is None and last < first:
            last = _default_span(layout, first)[1]
    if date_to is not None:
        last = date_to
    first = max(first, schedule.start)
    if schedule.end is not None:
        last = min(last, schedule.end)
    return first, last


def _week_labels(mondays: list[date], first: date, last: date) -> tuple[tuple[int, str], ...]:
    """Month names over the week holding each month's 1st, never closer than 4 columns."""
    starts: list[tuple[int, str]] = []
    for col, monday in enumerate(mondays):
        for offset in range(7):
            day = monday + timedelta(days=offset)
            if day.day == 1 and first <= day <= last:
                starts.append((col, MONTHS[day.month - 1]))
    if not starts or starts[0][0] >= 4:
        starts.insert(0, (0, MONTHS[max(mondays[0], first).month - 1]))
    labels: list[tuple[int, str]] = []
    for col, text in starts:
        if not labels or col - labels[-1][0] >= 4:
            labels.append((col, text))
    return tuple(labels)


def week_blocks(cal: PipelineCalendar, max_weeks: int) -> list[Block]:
    """Weeks (Monday first) as columns, at most ``max_weeks`` per block."""
    if cal.first > cal.last:
        return []
    mondays: list[date] = []
    monday = _monday(cal.first)
    while monday <= cal.last:
        mondays.append(monday)
        monday += timedelta(weeks=1)
    blocks = []
    for i in range(0, len(mondays), max_weeks):
        chunk = mondays[i : i + max_weeks]
        rows = [
            tuple(d if (d := m + timedelta(days=wd)) in cal.states else None for m in chunk)
            for wd in range(7)
        ]
        weekdays = list(range(7))
        if cal.schedule_type == "weekly":
            # a weekly schedule uses a few weekdays: the others would be empty rows
            weekdays = [wd for wd in weekdays if any(rows[wd])] or weekdays
        labels = _week_labels(chunk, cal.first, cal.last)
        blocks.append(
            Block(
                row_labels=tuple(WEEKDAYS[wd] for wd in weekdays),
                col_labels=labels,
                rows=tuple(rows[wd] for wd in weekdays),
            )
        )
    return blocks


def month_block(cal: PipelineCalendar) -> Block | None:
    """One row per year, 12 groups of cells, one cell per scheduled date of the month."""
    if cal.first > cal.last or not cal.states:
        return None
    by_month: dict[tuple[int, int], list[date]] = {}
    for d in cal.states:
        by_month.setdefault((d.year, d.month), []).append(d)
    slots = max(len(v) for v in by_month.values())
    years = range(cal.first.year, cal.last.year + 1)
    rows = []
    for year in years:
        row: list[date | None] = []
        for month in range(1, 13):
            days = sorted(by_month.get((year, month), []))
            row += days + [None] * (slots - len(days))
        rows.append(tuple(row))
    labels = tuple((m * slots, MONTHS[m]) for m in range(12))
    return Block(
        row_labels=tuple(str(y) for y in years), col_labels=labels, rows=tuple(rows), group=slots
    )


def blocks_for(cal: PipelineCalendar, max_weeks: int) -> list[Block]:
    """The calendar's blocks in its layout."""
    if cal.layout == "month":
        block = month_block(cal)
        return [block] if block is not None else []
    return week_blocks(cal, max_weeks)
