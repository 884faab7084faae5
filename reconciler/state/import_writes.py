"""Writing what ``import-history`` adopts: run log rows, coverage ranges, open dates.

All set-wise SQL over the ``typed`` view (``import_checks``), in the caller's
transaction: the newest row per (pipeline, date) of the file decides, dates already in
the run log stay as they are, and ``coverage`` / ``open_dates`` change exactly as the
run log does.
"""

from __future__ import annotations

from datetime import datetime

from reconciler.state.connection import Connection, naive


def choose(conn: Connection, columns: set[str], *, all_valid: bool) -> int:
    """``chosen``: one row per (pipeline, date) of valid rows of known pipelines that the
    run log does not hold yet, the pipeline by its ``calendar`` number; returns how many.

    The newest row of a date in the file decides: by end time, else start time, and on a
    tie (or with no times) the later row in the file. Rows whose date the run log holds
    are dropped before grouping (a re-import groups nothing); grouping is by the
    pipeline's number, the status is kept as a flag, and only the optional columns the
    file has are aggregated. ``all_valid``: the counting pass found no invalid row, so
    the reasons need not be worked out again.
    """
    timed = bool({"start_time", "end_time"} & columns)
    # (one fixed-size number, time then row: a struct here would not spill to disk)
    newest = (
        f"epoch_us(coalesce(end_time, start_time, TIMESTAMP '1970-01-01'))::HUGEINT * {2**64}"
        " + row_index"
        if timed
        else "row_index"
    )
    start = "max(start_time)" if "start_time" in columns else "CAST(NULL AS TIMESTAMP)"
    end = "max(end_time)" if "end_time" in columns else "CAST(NULL AS TIMESTAMP)"
    version = f"arg_max(version, {newest})" if "version" in columns else "CAST(NULL AS VARCHAR)"
    valid = "t.known" if all_valid else "t.known AND t.reason IS NULL"
    conn.execute(
        f"""CREATE TEMP TABLE chosen AS
            SELECT pipeline_no, run_date,
                   arg_max(status = 'success', {newest}) AS succeeded,
                   {start} AS start_time, {end} AS end_time, {version} AS version
            FROM (SELECT t.* FROM typed t
                  ANTI JOIN pipeline_run_log l
                  ON l.pipeline_id = t.pipeline_id AND l.run_date = t.run_date
                  WHERE {valid})
            GROUP BY pipeline_no, run_date"""
    )
    row = conn.execute("SELECT count(*) FROM chosen").fetchone()
    return int(row[0]) if row else 0


def write_run_log(conn: Connection, now: datetime) -> None:
    """One run log row per chosen date, under a run id made of pipeline and date
    (valid dates are within a schedule, so their text is always ``YYYY-MM-DD``)."""
    conn.execute(
        """INSERT INTO pipeline_run_log (run_id, pipeline_id, run_date, status, start_time,
               end_time, retry_attempts, is_backfill, batch_id, attempt, kind, platform,
               created_at, error_message, version)
           SELECT 'import:' || pipeline_id || ':' || CAST(run_date AS VARCHAR),
                  pipeline_id, run_date, CASE WHEN succeeded THEN 'success' ELSE 'failed' END,
                  start_time, end_time, 0, false, 'import:' || pipeline_id, 1, 'import',
                  'import', ?, CASE WHEN NOT succeeded THEN 'imported as failed' END, version
           FROM chosen JOIN calendar USING (pipeline_no)""",
        [naive(now)],
    )


def write_coverage(conn: Connection) -> None:
    """Merge the chosen successes into the ``coverage`` ranges.

    The successes become islands of consecutive dates first; only those islands and the
    ranges already held by their pipelines are merged (range against range, never the
    covered days spelled out), and only those pipelines' rows are replaced.
    """
    conn.execute(
        """CREATE TEMP TABLE merged AS
           WITH numbered_islands AS (
               SELECT pipeline_no, min(run_date) AS s, max(run_date) AS e FROM (
                   SELECT pipeline_no, run_date,
                          run_date - CAST(row_number() OVER (PARTITION BY pipeline_no
                                                             ORDER BY run_date) AS INTEGER)
                            AS island
                   FROM chosen WHERE succeeded)
               GROUP BY pipeline_no, island),
           islands AS (
               SELECT pipeline_id, s, e FROM numbered_islands JOIN calendar USING (pipeline_no)),
           ranges AS (
               SELECT pipeline_id, s, e FROM islands
               UNION ALL
               SELECT pipeline_id, range_start, range_end FROM coverage
               WHERE pipeline_id IN (SELECT DISTINCT pipeline_id FROM islands)),
           starts AS (
               SELECT pipeline_id, s, e,
                      CASE WHEN s - 1 <= max(e) OVER (
                               PARTITION BY pipeline_id ORDER BY s, e
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                           THEN 0 ELSE 1 END AS new_range
               FROM ranges),
           numbered AS (
               SELECT pipeline_id, s, e,
                      sum(new_range) OVER (PARTITION BY pipeline_id ORDER BY s, e
                                           ROWS UNBOUNDED PRECEDING) AS range_no
               FROM starts)
           SELECT pipeline_id, min(s) AS s, max(e) AS e FROM numbered
           GROUP BY pipeline_id, range_no"""
    )
    conn.execute(
        """DELETE FROM coverage
           WHERE pipeline_id IN (SELECT DISTINCT pipeline_id FROM merged)"""
    )
    conn.execute("INSERT INTO coverage SELECT pipeline_id, s, e FROM merged")
    conn.execute("DROP TABLE merged")


def write_open_dates(conn: Connection, now: datetime) -> None:
    """Imported failures are open dates at attempt 1 (a date already open stays)."""
    conn.execute(
        """INSERT INTO open_dates
           SELECT pipeline_id, run_date, 'failed', 1, 'import:' || pipeline_id, NULL,
                  start_time, coalesce(end_time, start_time, ?)
           FROM chosen JOIN calendar USING (pipeline_no) WHERE NOT succeeded
           ON CONFLICT DO NOTHING""",
        [naive(now)],
    )
