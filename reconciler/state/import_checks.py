"""Which rows of an ``import-history`` file are invalid, and why, in one SQL pass.

A row is invalid when its date, status or times do not parse, or when its date is not
one the pipeline's schedule holds and has made due: before ``start``, after ``end``,
off the schedule, or not yet due at ``--now``. Such a row would make a later plan skip
a date that was never run. The schedule test is SQL over a small per-pipeline calendar
table (no per-row Python), so 36 million rows stay a streaming scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from reconciler.core.calendar import last_due_day
from reconciler.core.spec import Schedule
from reconciler.state.connection import Connection

SHOWN = 20  # invalid rows quoted in a message; the rest are counted


@dataclass(frozen=True, slots=True)
class InvalidRows:
    """How many rows are invalid, and the first ones as (row index from 0, reason)."""

    count: int
    first: list[tuple[int, str]]


def create_calendar(conn: Connection, schedules: dict[str, Schedule], now: datetime) -> None:
    """``calendar``: per pipeline, what the schedule SQL below needs (one row each), and
    a number for it (``pipeline_no``: grouping by a number is cheaper than by text)."""
    ids = sorted(schedules)
    columns: dict[str, list[object]] = {
        "nos": list(range(len(ids))),
        "ids": [],
        "kinds": [],
        "every": [],
        "starts": [],
        "ends": [],
        "dues": [],
        "anchors": [],
        "weekdays": [],
        "mdays": [],
        "back": [],
    }
    for pid in ids:
        s = schedules[pid]
        last = last_due_day(s, now)
        days = list(s.days)
        if s.type == "weekly":
            anchor = (s.start - timedelta(days=s.start.weekday())).toordinal()
            days = days or [s.start.weekday()]
        elif s.type == "monthly":
            anchor = s.start.year * 12 + s.start.month - 1
            days = days or [s.start.day]
        else:
            anchor = s.start.toordinal()
        values: list[object] = [
            pid,
            s.type,
            s.every,
            s.start,
            s.end,
            last,
            anchor - date(1970, 1, 1).toordinal() if s.type != "monthly" else anchor,
            [d for d in days if s.type == "weekly"],
            [d for d in days if s.type == "monthly" and d > 0],
            [-d for d in days if s.type == "monthly" and d < 0],
        ]
        for key, value in zip(list(columns)[1:], values, strict=True):
            columns[key].append(value)
    conn.execute(
        """CREATE TEMP TABLE calendar AS
           SELECT unnest($nos::INTEGER[]) AS pipeline_no,
                  unnest($ids::VARCHAR[]) AS pipeline_id, unnest($kinds::VARCHAR[]) AS kind,
                  unnest($every::INTEGER[]) AS every, unnest($starts::DATE[]) AS start_day,
                  unnest($ends::DATE[]) AS end_day, unnest($dues::DATE[]) AS last_due,
                  unnest($anchors::INTEGER[]) AS anchor,
                  unnest($weekdays::INTEGER[][]) AS weekdays,
                  unnest($mdays::INTEGER[][]) AS mdays, unnest($back::INTEGER[][]) AS back""",
        columns,
    )


# (epoch days of run_date) and the month index, for the progression tests
_EPOCH_DAY = "(c.run_date - DATE '1970-01-01')"
_MONTH = "(year(c.run_date) * 12 + month(c.run_date) - 1)"
ON_SCHEDULE = f"""CASE k.kind
    WHEN 'daily' THEN ({_EPOCH_DAY} - k.anchor) % k.every = 0
    WHEN 'weekly' THEN list_contains(k.weekdays, isodow(c.run_date) - 1)
                       AND (({_EPOCH_DAY} - k.anchor) // 7) % k.every = 0
    ELSE ({_MONTH} - k.anchor) % k.every = 0
         AND (list_contains(k.mdays, day(c.run_date))
              OR list_contains(k.back, day(last_day(c.run_date)) + 1 - day(c.run_date)))
    END"""


def reason_sql(now_text: str) -> str:
    """Why a row of ``clean`` (alias c, joined to ``calendar`` as k) is invalid, or NULL."""
    now = now_text.replace("'", "''")
    return f"""CASE
        WHEN c.run_date IS NULL THEN 'run_date ' || coalesce('''' || c.raw_date || '''', 'is empty')
             || CASE WHEN c.raw_date IS NULL THEN '' ELSE ' is not a date (YYYY-MM-DD)' END
        WHEN c.status IS NULL OR c.status NOT IN ('success', 'failed')
            THEN 'status ' || coalesce('''' || c.raw_status || '''', 'is empty')
                 || CASE WHEN c.raw_status IS NULL THEN '' ELSE ' is not success or failed' END
        WHEN c.raw_start IS NOT NULL AND c.start_time IS NULL
            THEN 'start_time ''' || c.raw_start || ''' is not a timestamp'
        WHEN c.raw_end IS NOT NULL AND c.end_time IS NULL
            THEN 'end_time ''' || c.raw_end || ''' is not a timestamp'
        WHEN c.run_date < k.start_day THEN strftime(c.run_date, '%Y-%m-%d')
            || ' is before the schedule''s start (' || strftime(k.start_day, '%Y-%m-%d') || ')'
        WHEN c.run_date > k.end_day THEN strftime(c.run_date, '%Y-%m-%d')
            || ' is after the schedule''s end (' || strftime(k.end_day, '%Y-%m-%d') || ')'
        WHEN k.last_due IS NULL OR c.run_date > k.last_due
            THEN strftime(c.run_date, '%Y-%m-%d') || ' is not due yet at {now}'
                 || coalesce(' (the last due date is ' || strftime(k.last_due, '%Y-%m-%d')
                             || ')', '')
        WHEN NOT ({ON_SCHEDULE}) THEN strftime(c.run_date, '%Y-%m-%d')
            || ' is not a date of the ' || k.kind || ' schedule'
        END"""


def create_typed(conn: Connection, source: str, columns: set[str], now: datetime) -> None:
    """``typed``: a view of the file's rows typed, with their index in the file, whether
    their pipeline is known and, for the rows of known pipelines that are invalid, the
    reason (NULL when the row is fine).

    A view, not a table: each query over it streams the file again, so no copy of the
    rows is held. ``source`` yields the file's columns plus ``row_index`` (from 0).
    """
    start = "TRY_CAST(start_time AS TIMESTAMP)" if "start_time" in columns else "NULL"
    end = "TRY_CAST(end_time AS TIMESTAMP)" if "end_time" in columns else "NULL"
    raw_start = "CAST(start_time AS VARCHAR)" if "start_time" in columns else "NULL"
    raw_end = "CAST(end_time AS VARCHAR)" if "end_time" in columns else "NULL"
    # the pipeline version a run ran with, as text (optional; empty is none)
    version = (
        "NULLIF(trim(CAST(version AS VARCHAR)), '')"
        if "version" in columns
        else "CAST(NULL AS VARCHAR)"
    )
    conn.execute(
        f"""CREATE TEMP VIEW typed AS
            SELECT c.* EXCLUDE (raw_date, raw_status, raw_start, raw_end),
                   k.pipeline_id IS NOT NULL AS known, k.pipeline_no,
                   CASE WHEN c.pipeline_id IS NULL OR trim(c.pipeline_id) = ''
                        THEN 'pipeline_id is empty'
                        WHEN k.pipeline_id IS NOT NULL
                        THEN {reason_sql(now.isoformat(timespec="seconds"))} END AS reason
            FROM (SELECT row_index,
                         CAST(pipeline_id AS VARCHAR) AS pipeline_id,
                         TRY_CAST(run_date AS DATE) AS run_date,
                         lower(trim(CAST(status AS VARCHAR))) AS status,
                         {start} AS start_time, {end} AS end_time, {version} AS version,
                         CAST(run_date AS VARCHAR) AS raw_date,
                         CAST(status AS VARCHAR) AS raw_status,
                         {raw_start} AS raw_start, {raw_end} AS raw_end
                  FROM {source}) c
            LEFT JOIN calendar k ON k.pipeline_id = c.pipeline_id"""
    )


@dataclass(frozen=True, slots=True)
class RowCounts:
    """One scan of ``typed``: rows read, invalid rows, and rows of unknown pipelines."""

    total: int
    invalid: int
    unknown: dict[str, int]


def count_rows(conn: Connection) -> RowCounts:
    """Counted in one streaming pass (an aggregate over the few unknown ids only)."""
    rows = conn.execute(
        """SELECT CASE WHEN NOT known AND reason IS NULL THEN pipeline_id END AS unknown_id,
                  count(*), count(reason)
           FROM typed GROUP BY ALL"""
    ).fetchall()
    unknown = {str(r[0]): int(r[1]) for r in rows if r[0] is not None}
    return RowCounts(
        total=sum(int(r[1]) for r in rows),
        invalid=sum(int(r[2]) for r in rows),
        unknown=dict(sorted(unknown.items())),
    )


def invalid_rows(conn: Connection, count: int) -> InvalidRows:
    """The first invalid rows of ``typed`` (a top-N, not a sort of the file)."""
    if not count:
        return InvalidRows(0, [])
    first = conn.execute(
        f"SELECT row_index, reason FROM typed WHERE reason IS NOT NULL "
        f"ORDER BY row_index LIMIT {SHOWN}"
    ).fetchall()
    return InvalidRows(count, [(int(i), str(r)) for i, r in first])
