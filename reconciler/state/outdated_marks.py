"""Outdated marks: ranges of a pipeline's dates made outdated since they last started.

A mark is written when an upstream date a pipeline reads re-runs successfully (in the
transaction that records that outcome), or when the pipeline's own version changes (in
the config sync). Starting a run cuts its dates out of the pipeline's marks, in the
transaction that records the intent; a mark written while a run was in flight stays,
since that run read the old data. Marks are ranges with their cause, never a row per date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from reconciler.core.dependencies import Mark
from reconciler.core.intervals import DateRange, DayRanges, merge
from reconciler.state.connection import Connection, naive, utc
from reconciler.state.coverage_rows import subtract

COLUMNS = (
    "pipeline_id, range_start, range_end, cause_pipeline, cause_start, cause_end, "
    "cause_batch_id, cause_version, marked_at"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutdatedMark:
    """Dates of ``pipeline_id`` outdated by ``cause_pipeline``: its dates ``cause_dates``
    re-ran successfully (in batch ``cause_batch_id``), or, when ``cause_dates`` is None,
    the pipeline's own version changed to ``cause_version``."""

    pipeline_id: str
    dates: DateRange
    cause_pipeline: str
    cause_dates: DateRange | None
    cause_batch_id: str | None = None
    cause_version: str | None = None
    marked_at: datetime | None = None  # (set when read)

    @property
    def version_change(self) -> bool:
        return self.cause_dates is None

    @classmethod
    def from_upstream(
        cls, mark: Mark, batch_id: str | None, version: str | None = None
    ) -> OutdatedMark:
        """A mark ``core.dependencies.outdated_by`` made, from the upstream run ``batch_id``."""
        return cls(
            pipeline_id=mark.pipeline,
            dates=mark.dates,
            cause_pipeline=mark.cause_pipeline,
            cause_dates=mark.cause_dates,
            cause_batch_id=batch_id,
            cause_version=version,
        )

    @classmethod
    def from_version(cls, pipeline_id: str, dates: DateRange, version: str | None) -> OutdatedMark:
        """The pipeline's version changed to ``version``: its ``dates`` are outdated."""
        return cls(
            pipeline_id=pipeline_id,
            dates=dates,
            cause_pipeline=pipeline_id,
            cause_dates=None,
            cause_version=version,
        )


def _row(mark: OutdatedMark, stamp: datetime | None) -> list[Any]:
    cause = mark.cause_dates or (None, None)
    return [
        mark.pipeline_id,
        mark.dates[0],
        mark.dates[1],
        mark.cause_pipeline,
        cause[0],
        cause[1],
        mark.cause_batch_id,
        mark.cause_version,
        stamp,
    ]


def add(conn: Connection, marks: Iterable[OutdatedMark], now: datetime) -> int:
    """Write marks; returns how many. A mark with the same dates and cause as one already
    there replaces it (a date re-run many times is one row per cause, not per re-run)."""
    # (the same mark twice in one write is written once)
    rows = list({tuple(r[:6]): r for r in (_row(m, naive(now)) for m in marks)}.values())
    if not rows:
        return 0
    columns = [list(c) for c in zip(*rows, strict=True)]
    given = """(SELECT unnest(?::VARCHAR[]) AS pipeline_id, unnest(?::DATE[]) AS range_start,
                       unnest(?::DATE[]) AS range_end, unnest(?::VARCHAR[]) AS cause_pipeline,
                       unnest(?::DATE[]) AS cause_start, unnest(?::DATE[]) AS cause_end)"""
    conn.execute(
        f"""DELETE FROM outdated_marks WHERE EXISTS (
               SELECT 1 FROM {given} v
               WHERE v.pipeline_id = outdated_marks.pipeline_id
                 AND v.range_start = outdated_marks.range_start
                 AND v.range_end = outdated_marks.range_end
                 AND v.cause_pipeline = outdated_marks.cause_pipeline
                 AND v.cause_start IS NOT DISTINCT FROM outdated_marks.cause_start
                 AND v.cause_end IS NOT DISTINCT FROM outdated_marks.cause_end)""",
        columns[:6],
    )
    conn.execute(
        f"""INSERT INTO outdated_marks ({COLUMNS})
            SELECT unnest(?::VARCHAR[]), unnest(?::DATE[]), unnest(?::DATE[]),
                   unnest(?::VARCHAR[]), unnest(?::DATE[]), unnest(?::DATE[]),
                   unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::TIMESTAMP[])""",
        columns,
    )
    return len(rows)


def cut(conn: Connection, started: Mapping[str, Iterable[date]]) -> None:
    """Cut the dates of runs just recorded as started out of their pipelines' marks; a
    range with a started date inside it is split around it."""
    wanted = {pid: set(days) for pid, days in started.items()}
    wanted = {pid: days for pid, days in wanted.items() if days}
    if not wanted:
        return
    marked = [
        r[0]
        for r in conn.execute(
            """SELECT DISTINCT pipeline_id FROM outdated_marks
               WHERE pipeline_id IN (SELECT unnest(?::VARCHAR[]))""",
            [sorted(wanted)],
        ).fetchall()
    ]
    for pid in marked:
        days = wanted[pid]
        lo, hi = min(days), max(days)
        rows = conn.execute(
            f"""SELECT {COLUMNS} FROM outdated_marks
                WHERE pipeline_id = ? AND range_end >= ? AND range_start <= ?""",
            [pid, lo, hi],
        ).fetchall()
        if not rows:
            continue
        conn.execute(
            """DELETE FROM outdated_marks
               WHERE pipeline_id = ? AND range_end >= ? AND range_start <= ?""",
            [pid, lo, hi],
        )
        kept = [
            [pid, first, last, *row[3:]]
            for row in rows
            for first, last in subtract(((row[1], row[2]),), days)
        ]
        if kept:
            conn.executemany(
                f"INSERT INTO outdated_marks ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", kept
            )


@dataclass(frozen=True, slots=True)
class Marked:
    """A pipeline's marks as the planner reads them: merged ranges, and when the newest
    was written (it names the round of refreshes they cause)."""

    ranges: DayRanges
    newest: datetime


def marked(conn: Connection, wanted: str, params: list[object]) -> dict[str, Marked]:
    """The merged marked ranges per pipeline of ``wanted`` (a relation ``params`` complete)."""
    found: dict[str, list[DateRange]] = {}
    newest: dict[str, datetime] = {}
    for pid, first, last, at in conn.execute(
        f"""SELECT m.pipeline_id, range_start, range_end, marked_at
            FROM outdated_marks m JOIN {wanted} USING (pipeline_id)""",
        params,
    ).fetchall():
        found.setdefault(pid, []).append((first, last))
        stamp = at.replace(tzinfo=UTC)  # (stored naive, in UTC)
        if pid not in newest or stamp > newest[pid]:
            newest[pid] = stamp
    return {pid: Marked(DayRanges.of(merge(ranges)), newest[pid]) for pid, ranges in found.items()}


def covering(conn: Connection, pipeline_id: str, first: date, last: date) -> list[OutdatedMark]:
    """The marks of ``pipeline_id`` that touch ``first..last``, oldest first, with causes."""
    rows = conn.execute(
        f"""SELECT {COLUMNS} FROM outdated_marks
            WHERE pipeline_id = ? AND range_end >= ? AND range_start <= ?
            ORDER BY marked_at, range_start, cause_pipeline, cause_start""",
        [pipeline_id, first, last],
    ).fetchall()
    return [_read(r) for r in rows]


def causes(
    conn: Connection, pipeline_id: str, days: Iterable[date]
) -> dict[date, list[OutdatedMark]]:
    """Of ``days``, those outdated (covered and marked), each with the marks on it."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    marks = covering(conn, pipeline_id, wanted[0], wanted[-1])
    if not marks:
        return {}
    covered = conn.execute(
        """SELECT range_start, range_end FROM coverage
           WHERE pipeline_id = ? AND range_end >= ? AND range_start <= ?""",
        [pipeline_id, wanted[0], wanted[-1]],
    ).fetchall()
    out: dict[date, list[OutdatedMark]] = {}
    for day in wanted:
        if any(first <= day <= last for first, last in covered):
            on = [m for m in marks if m.dates[0] <= day <= m.dates[1]]
            if on:
                out[day] = on
    return out


def _read(row: Sequence[Any]) -> OutdatedMark:
    pid, first, last, cause, cause_start, cause_end, batch_id, version, marked_at = row
    return OutdatedMark(
        pipeline_id=pid,
        dates=(first, last),
        cause_pipeline=cause,
        cause_dates=None if cause_start is None else (cause_start, cause_end),
        cause_batch_id=batch_id,
        cause_version=version,
        marked_at=utc(marked_at),
    )
