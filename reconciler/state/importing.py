"""``import-history``: adopt coverage recorded elsewhere without re-running it.

Rows are read by DuckDB straight from CSV or Parquet and inserted with deterministic
run ids (``import:<pipeline>:<date>:<status>``), so a second import of the same file
changes nothing. Imported rows only speak for dates the reconciler has not run itself.
Rows that are malformed or name a date the schedule does not hold or has not made due
yet (``import_checks``) make the whole import fail, naming each row, unless
``skip_invalid`` asks to import the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from reconciler.core.spec import Schedule
from reconciler.errors import StateError
from reconciler.state.connection import naive, transaction
from reconciler.state.import_checks import (
    InvalidRows,
    create_calendar,
    create_clean,
    invalid_rows,
)
from reconciler.state.location import is_postgres

REQUIRED = ("pipeline_id", "run_date", "status")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    rows: int
    imported: int
    unchanged: int
    unknown: dict[str, int]
    invalid: InvalidRows
    skipped_invalid: bool


def row_label(file: Path, index: int) -> str:
    """Where row ``index`` (from 0) is: ``FILE:LINE`` of a CSV (the header is line 1),
    ``FILE: row N`` of a Parquet file."""
    if _reader(file).startswith("read_parquet"):
        return f"{file}: row {index + 1}"
    return f"{file}:{index + 2}"


def describe_invalid(file: Path, invalid: InvalidRows) -> list[str]:
    """One line per quoted invalid row, and a count of the rest."""
    lines = [f"{row_label(file, i)}: {reason}" for i, reason in invalid.first]
    if invalid.count > len(invalid.first):
        lines.append(f"... and {invalid.count - len(invalid.first)} more invalid row(s)")
    return lines


def _reader(path: Path) -> str:
    suffix = "".join(path.suffixes).lower()
    if suffix.endswith(".parquet") or suffix.endswith(".pq"):
        return "read_parquet(?)"
    # all text: a value the type sniffer did not sample must not fail the whole read
    return "read_csv(?, header = true, auto_detect = true, all_varchar = true)"


def import_history(
    state: str,
    file: Path,
    schedules: dict[str, Schedule],
    now: datetime,
    *,
    skip_invalid: bool = False,
) -> ImportReport:
    """Import ``file`` into ``state`` for the pipelines of ``schedules``; report the rest.

    Invalid rows raise ``StateError`` (nothing imported) unless ``skip_invalid``.
    """
    if is_postgres(state):
        raise StateError(
            "import-history into a PostgreSQL state is not supported yet: import into a new "
            "DuckDB file, then copy it with `reconciler state migrate --from FILE --to URL`"
        )
    if not file.exists():
        raise StateError(f"import file {file} not found")
    with transaction(state) as conn:
        try:
            conn.execute(
                f"CREATE TEMP TABLE incoming AS SELECT * FROM {_reader(file)}", [str(file)]
            )
        except duckdb.Error as exc:
            raise StateError(f"cannot read {file}: {str(exc).splitlines()[0]}") from exc
        columns = {r[0] for r in conn.execute("DESCRIBE incoming").fetchall()}
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise StateError(
                f"{file} lacks column(s) {', '.join(missing)}; expected pipeline_id, run_date, "
                "status and optional start_time, end_time, version"
            )
        create_calendar(conn, schedules, now)
        create_clean(conn, columns, now)
        total = conn.execute("SELECT count(*) FROM clean").fetchone()[0]
        invalid = invalid_rows(conn)
        if invalid.count and not skip_invalid:
            raise StateError(
                "\n".join(
                    [
                        f"{file}: {invalid.count} invalid row(s), nothing imported "
                        "(fix them, or --skip-invalid imports the other rows):",
                        *describe_invalid(file, invalid),
                    ]
                )
            )
        unknown = dict(
            conn.execute(
                """SELECT pipeline_id, count(*) FROM clean
                   WHERE pipeline_id NOT IN (SELECT pipeline_id FROM calendar)
                     AND reason IS NULL
                   GROUP BY pipeline_id ORDER BY pipeline_id"""
            ).fetchall()
        )
        # newest row per (pipeline, date) in the file decides; dates already in the log stay
        conn.execute(
            """CREATE TEMP TABLE chosen AS
               SELECT pipeline_id, run_date,
                      arg_max(status, coalesce(end_time, start_time, TIMESTAMP '1970-01-01'))
                        AS status,
                      max(start_time) AS start_time, max(end_time) AS end_time,
                      arg_max(version, coalesce(end_time, start_time, TIMESTAMP '1970-01-01'))
                        AS version
               FROM clean
               WHERE reason IS NULL AND pipeline_id IN (SELECT pipeline_id FROM calendar)
               GROUP BY pipeline_id, run_date"""
        )
        conn.execute(
            """DELETE FROM chosen c WHERE EXISTS (
                   SELECT 1 FROM pipeline_run_log l
                   WHERE l.pipeline_id = c.pipeline_id AND l.run_date = c.run_date)"""
        )
        imported = conn.execute("SELECT count(*) FROM chosen").fetchone()[0]
        stamp = naive(now)
        conn.execute(
            """INSERT INTO pipeline_run_log (run_id, pipeline_id, run_date, status, start_time,
                   end_time, retry_attempts, is_backfill, batch_id, attempt, kind, platform,
                   created_at, error_message, version)
               SELECT 'import:' || pipeline_id || ':' || strftime(run_date, '%Y-%m-%d'),
                      pipeline_id, run_date, status, start_time, end_time, 0, false,
                      'import:' || pipeline_id, 1, 'import', 'import', ?,
                      CASE WHEN status = 'failed' THEN 'imported as failed' END, version
               FROM chosen""",
            [stamp],
        )
        # compact coverage: merge the imported successes into the ranges
        conn.execute(
            """CREATE TEMP TABLE merged AS
               WITH days AS (
                   SELECT pipeline_id, run_date FROM chosen WHERE status = 'success'
                   UNION ALL
                   SELECT pipeline_id, unnest(generate_series(range_start, range_end,
                                                              INTERVAL 1 DAY))::DATE
                   FROM coverage WHERE pipeline_id IN (SELECT DISTINCT pipeline_id FROM chosen
                                                       WHERE status = 'success'))
               SELECT pipeline_id, min(run_date) AS s, max(run_date) AS e FROM (
                   SELECT pipeline_id, run_date,
                          run_date - CAST(row_number() OVER (PARTITION BY pipeline_id
                                                             ORDER BY run_date) AS INTEGER) AS g
                   FROM (SELECT DISTINCT pipeline_id, run_date FROM days))
               GROUP BY pipeline_id, g"""
        )
        conn.execute(
            """DELETE FROM coverage
               WHERE pipeline_id IN (SELECT DISTINCT pipeline_id FROM merged)"""
        )
        conn.execute("INSERT INTO coverage SELECT pipeline_id, s, e FROM merged")
        conn.execute(
            """INSERT INTO open_dates
               SELECT pipeline_id, run_date, 'failed', 1, 'import:' || pipeline_id, NULL,
                      start_time, coalesce(end_time, start_time, ?)
               FROM chosen WHERE status = 'failed'
               ON CONFLICT DO NOTHING""",
            [stamp],
        )
        for table in ("incoming", "calendar", "clean", "chosen", "merged"):
            conn.execute(f"DROP TABLE {table}")
    unchanged = total - invalid.count - imported - sum(unknown.values())
    return ImportReport(
        rows=total,
        imported=imported,
        unchanged=unchanged,
        unknown=unknown,
        invalid=invalid,
        skipped_invalid=skip_invalid,
    )
