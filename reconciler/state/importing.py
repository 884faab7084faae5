"""``import-history``: adopt coverage recorded elsewhere without re-running it.

Rows are read by DuckDB straight from CSV or Parquet and inserted with deterministic
run ids (``import:<pipeline>:<date>:<status>``), so a second import of the same file
changes nothing. Imported rows only speak for dates the reconciler has not run itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from reconciler.errors import StateError
from reconciler.state.connection import is_postgres, naive, transaction

REQUIRED = ("pipeline_id", "run_date", "status")


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows: int
    imported: int
    unchanged: int
    unknown: dict[str, int]
    bad_status: int


def _reader(path: Path) -> str:
    suffix = "".join(path.suffixes).lower()
    if suffix.endswith(".parquet") or suffix.endswith(".pq"):
        return "read_parquet(?)"
    return "read_csv(?, header = true, auto_detect = true)"


def import_history(state: str, file: Path, known: set[str], now: datetime) -> ImportReport:
    """Import ``file`` into ``state`` for the ``known`` pipeline ids; report the rest."""
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
                "status and optional start_time, end_time"
            )
        start = "TRY_CAST(start_time AS TIMESTAMP)" if "start_time" in columns else "NULL"
        end = "TRY_CAST(end_time AS TIMESTAMP)" if "end_time" in columns else "NULL"
        conn.execute(
            "CREATE TEMP TABLE known_ids AS SELECT unnest(?::VARCHAR[]) AS pipeline_id",
            [sorted(known)],
        )
        conn.execute(
            f"""CREATE TEMP TABLE clean AS
                SELECT CAST(pipeline_id AS VARCHAR) AS pipeline_id,
                       TRY_CAST(run_date AS DATE) AS run_date,
                       lower(trim(CAST(status AS VARCHAR))) AS status,
                       {start} AS start_time, {end} AS end_time
                FROM incoming"""
        )
        total = conn.execute("SELECT count(*) FROM clean").fetchone()[0]
        bad = conn.execute(
            """SELECT count(*) FROM clean WHERE run_date IS NULL
               OR status NOT IN ('success', 'failed')"""
        ).fetchone()[0]
        unknown = dict(
            conn.execute(
                """SELECT pipeline_id, count(*) FROM clean
                   WHERE pipeline_id NOT IN (SELECT pipeline_id FROM known_ids)
                   GROUP BY pipeline_id ORDER BY pipeline_id"""
            ).fetchall()
        )
        # newest row per (pipeline, date) in the file decides; dates already in the log stay
        conn.execute(
            """CREATE TEMP TABLE chosen AS
               SELECT pipeline_id, run_date,
                      arg_max(status, coalesce(end_time, start_time, TIMESTAMP '1970-01-01'))
                        AS status,
                      max(start_time) AS start_time, max(end_time) AS end_time
               FROM clean
               WHERE run_date IS NOT NULL AND status IN ('success', 'failed')
                 AND pipeline_id IN (SELECT pipeline_id FROM known_ids)
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
                   created_at, error_message)
               SELECT 'import:' || pipeline_id || ':' || strftime(run_date, '%Y-%m-%d'),
                      pipeline_id, run_date, status, start_time, end_time, 0, false,
                      'import:' || pipeline_id, 1, 'import', 'import', ?,
                      CASE WHEN status = 'failed' THEN 'imported as failed' END
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
        for table in ("incoming", "known_ids", "clean", "chosen", "merged"):
            conn.execute(f"DROP TABLE {table}")
    return ImportReport(
        total, imported, total - bad - imported - sum(unknown.values()), unknown, bad
    )
