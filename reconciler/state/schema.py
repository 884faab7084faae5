"""The state store's tables (docs/state.md) and ordered migrations.

Each migration is a list of statements applied in one transaction; ``schema_version``
records what was applied, so an older file is migrated in order and a newer or
foreign file is refused rather than silently misread.
"""

from __future__ import annotations

from reconciler.errors import StateError

V1 = [
    """CREATE TABLE schema_version (
        version INTEGER NOT NULL PRIMARY KEY,
        applied_at TIMESTAMP NOT NULL,
        app_version VARCHAR
    )""",
    """CREATE TABLE pipelines (
        pipeline_id VARCHAR PRIMARY KEY,
        pipeline_name VARCHAR,
        platform VARCHAR,
        trigger_url TEXT,
        platform_job_id VARCHAR,
        schedule_type VARCHAR,
        frequency INTEGER,
        date_offset INTEGER,
        multi_date_allowed BOOLEAN,
        retry_enabled BOOLEAN,
        retry_schedule VARCHAR,
        max_retry_attempts INTEGER,
        auto_backfill BOOLEAN,
        notification_channel VARCHAR,
        notification_details TEXT,
        data_quality_check BOOLEAN,
        sla_time TIME,
        sla_breach_notification BOOLEAN,
        created_at TIMESTAMP,
        updated_at TIMESTAMP
    )""",
    """CREATE TABLE pipeline_run_log (
        run_id VARCHAR PRIMARY KEY,
        pipeline_id VARCHAR NOT NULL,
        run_date DATE NOT NULL,
        status VARCHAR NOT NULL,
        start_time TIMESTAMP,
        end_time TIMESTAMP,
        retry_attempts INTEGER,
        retry_schedule_used VARCHAR,
        error_message TEXT,
        data_quality_passed BOOLEAN,
        is_backfill BOOLEAN,
        sla_met BOOLEAN,
        backfill_id VARCHAR
    )""",
    """CREATE TABLE pipeline_parameters (
        parameter_id VARCHAR PRIMARY KEY,
        pipeline_id VARCHAR NOT NULL,
        parameter_name VARCHAR NOT NULL,
        parameter_value TEXT,
        created_at TIMESTAMP
    )""",
    """CREATE TABLE backfill_queue (
        backfill_id VARCHAR PRIMARY KEY,
        pipeline_id VARCHAR NOT NULL,
        date_to_process DATE NOT NULL,
        status VARCHAR NOT NULL,
        retry_attempts INTEGER NOT NULL DEFAULT 0,
        priority INTEGER,
        requested_at TIMESTAMP
    )""",
    """CREATE TABLE data_quality_log (
        quality_check_id VARCHAR PRIMARY KEY,
        run_id VARCHAR,
        check_name VARCHAR,
        check_result BOOLEAN,
        error_details TEXT,
        created_at TIMESTAMP
    )""",
    """CREATE TABLE pipeline_notifications (
        notification_id VARCHAR PRIMARY KEY,
        pipeline_id VARCHAR,
        run_id VARCHAR,
        notification_type VARCHAR,
        notification_status VARCHAR,
        sent_at TIMESTAMP,
        notification_channel VARCHAR
    )""",
]

# Version 2: what the reconciler itself needs beyond the seed columns, and the compact
# coverage form, computed from the run log so that files made by version 1 keep
# their history.
V2 = [
    "ALTER TABLE pipelines ADD COLUMN config_json TEXT",
    "ALTER TABLE pipelines ADD COLUMN deleted_at TIMESTAMP",
    "ALTER TABLE pipeline_run_log ADD COLUMN batch_id VARCHAR",
    "ALTER TABLE pipeline_run_log ADD COLUMN attempt INTEGER",
    "ALTER TABLE pipeline_run_log ADD COLUMN kind VARCHAR",
    "ALTER TABLE pipeline_run_log ADD COLUMN request_id VARCHAR",
    "ALTER TABLE pipeline_run_log ADD COLUMN platform VARCHAR",
    "ALTER TABLE pipeline_run_log ADD COLUMN platform_run_id VARCHAR",
    "ALTER TABLE pipeline_run_log ADD COLUMN created_at TIMESTAMP",
    # (DuckDB cannot create an index over rows updated in the same transaction, so the
    # indexes come before the rows of version 1 are filled in)
    "CREATE INDEX run_log_batch ON pipeline_run_log (batch_id)",
    "CREATE INDEX run_log_pipeline_date ON pipeline_run_log (pipeline_id, run_date)",
    """UPDATE pipeline_run_log SET batch_id = coalesce(batch_id, run_id),
        attempt = coalesce(attempt, coalesce(retry_attempts, 0) + 1),
        kind = coalesce(kind, CASE WHEN is_backfill THEN 'backfill' ELSE 'run' END),
        created_at = coalesce(created_at, start_time, end_time, TIMESTAMP '1970-01-01')""",
    "ALTER TABLE backfill_queue ADD COLUMN request_id VARCHAR",
    "ALTER TABLE backfill_queue ADD COLUMN batch_id VARCHAR",
    "ALTER TABLE backfill_queue ADD COLUMN updated_at TIMESTAMP",
    "ALTER TABLE pipeline_notifications ADD COLUMN run_date DATE",
    "ALTER TABLE pipeline_notifications ADD COLUMN dedupe_key VARCHAR",
    "ALTER TABLE pipeline_notifications ADD COLUMN attempts INTEGER DEFAULT 0",
    "ALTER TABLE pipeline_notifications ADD COLUMN last_error TEXT",
    "ALTER TABLE pipeline_notifications ADD COLUMN created_at TIMESTAMP",
    # Compact coverage kept in step with the run log: merged ranges of covered dates.
    """CREATE TABLE coverage (
        pipeline_id VARCHAR NOT NULL,
        range_start DATE NOT NULL,
        range_end DATE NOT NULL,
        PRIMARY KEY (pipeline_id, range_start)
    )""",
    # Dates that need a decision: newest attempt in flight, or newest finished failed.
    """CREATE TABLE open_dates (
        pipeline_id VARCHAR NOT NULL,
        run_date DATE NOT NULL,
        status VARCHAR NOT NULL,
        attempt INTEGER NOT NULL,
        batch_id VARCHAR NOT NULL,
        request_id VARCHAR,
        started_at TIMESTAMP,
        ended_at TIMESTAMP,
        PRIMARY KEY (pipeline_id, run_date)
    )""",
    # The newest attempt of each date decides: success -> covered; failed/running -> open.
    _NEWEST := """CREATE TEMP TABLE newest AS
        SELECT pipeline_id, run_date,
               arg_max(status, struct_pack(c := created_at, a := attempt, r := run_id))
                 AS status,
               max(attempt) AS attempt,
               arg_max(batch_id, struct_pack(c := created_at, a := attempt, r := run_id))
                 AS batch_id,
               max(start_time) AS started_at, max(end_time) AS ended_at
        FROM pipeline_run_log GROUP BY pipeline_id, run_date""",
    """INSERT INTO coverage
        SELECT pipeline_id, min(run_date), max(run_date) FROM (
            SELECT pipeline_id, run_date,
                   run_date - CAST(row_number() OVER (PARTITION BY pipeline_id ORDER BY run_date)
                                   AS INTEGER) AS island
            FROM newest WHERE status = 'success') AS days
        GROUP BY pipeline_id, island""",
    """INSERT INTO open_dates
        SELECT pipeline_id, run_date, status, attempt, batch_id, NULL, started_at, ended_at
        FROM newest WHERE status <> 'success'""",
    "DROP TABLE newest",
    """CREATE TABLE backfill_requests (
        request_id VARCHAR NOT NULL,
        pipeline_id VARCHAR NOT NULL,
        date_from DATE NOT NULL,
        date_to DATE NOT NULL,
        priority INTEGER NOT NULL,
        reason TEXT,
        requested_at TIMESTAMP NOT NULL,
        source VARCHAR NOT NULL,
        PRIMARY KEY (pipeline_id, request_id)
    )""",
    """CREATE TABLE sla_breaches (
        pipeline_id VARCHAR NOT NULL,
        run_date DATE NOT NULL,
        deadline TIMESTAMP NOT NULL,
        recorded_at TIMESTAMP NOT NULL,
        PRIMARY KEY (pipeline_id, run_date)
    )""",
    """CREATE TABLE locks (
        name VARCHAR PRIMARY KEY,
        holder_pid INTEGER NOT NULL,
        holder_host VARCHAR NOT NULL,
        holder_token VARCHAR NOT NULL,
        since TIMESTAMP NOT NULL,
        lease_until TIMESTAMP NOT NULL
    )""",
]

# Version 3: notifications as an outbox (what to say, when to try again, a claim taken
# just before sending so that a send is never repeated), and quality results that say
# which run, date and check they belong to.
V3 = [
    "ALTER TABLE pipeline_notifications ADD COLUMN details TEXT",
    "ALTER TABLE pipeline_notifications ADD COLUMN next_attempt_at TIMESTAMP",
    "ALTER TABLE pipeline_notifications ADD COLUMN claimed_at TIMESTAMP",
    "ALTER TABLE pipeline_notifications ADD COLUMN updated_at TIMESTAMP",
    "ALTER TABLE data_quality_log ADD COLUMN pipeline_id VARCHAR",
    "ALTER TABLE data_quality_log ADD COLUMN batch_id VARCHAR",
    "ALTER TABLE data_quality_log ADD COLUMN run_date DATE",
    "ALTER TABLE data_quality_log ADD COLUMN engine VARCHAR",
    "ALTER TABLE data_quality_log ADD COLUMN on_fail VARCHAR",
    "ALTER TABLE data_quality_log ADD COLUMN could_run BOOLEAN",
]

# Version 4: when SLA tracking began for each pipeline. An SLA added to a pipeline with
# a long history must not report every old uncovered date as a fresh breach.
V4 = [
    "ALTER TABLE pipelines ADD COLUMN sla_since TIMESTAMP",
    "UPDATE pipelines SET sla_since = created_at WHERE sla_time IS NOT NULL",
]

# Version 5: who owns a local run. A local run is followed only where its files are
# (the host, and runs directory, that started it); its supervisor renews a lease here
# while the job runs and records how it ended, so a runner on another host can tell a
# run still going or finished from one that was lost, instead of starting it again.
V5 = [
    """CREATE TABLE local_runs (
        batch_id VARCHAR PRIMARY KEY,
        host VARCHAR NOT NULL,
        runs_dir TEXT NOT NULL,
        alive_until TIMESTAMP,
        ended_at TIMESTAMP,
        returncode INTEGER,
        error TEXT
    )""",
]

# Version 6: dependencies between pipelines. Each run records the pipeline version it ran
# with; ``outdated_marks`` holds ranges of a pipeline's dates made outdated since they
# last started (an upstream date they read re-ran successfully, or their version changed),
# with what caused each: written when that happens, cut when the dates start again.
V6 = [
    "ALTER TABLE pipeline_run_log ADD COLUMN version VARCHAR",
    """CREATE TABLE outdated_marks (
        pipeline_id VARCHAR NOT NULL,
        range_start DATE NOT NULL,
        range_end DATE NOT NULL,
        cause_pipeline VARCHAR NOT NULL,
        cause_start DATE,
        cause_end DATE,
        cause_batch_id VARCHAR,
        cause_version VARCHAR,
        marked_at TIMESTAMP NOT NULL
    )""",
    "CREATE INDEX outdated_marks_pipeline ON outdated_marks (pipeline_id, range_start)",
]

# Version 7: cancels are recorded before any platform is asked, so that a cancel cut
# short by a crash is sent by the next pass, and the run it stops is recorded as
# ``canceled`` whatever its platform says.
V7 = [
    """CREATE TABLE cancel_requests (
        batch_id VARCHAR PRIMARY KEY,
        pipeline_id VARCHAR NOT NULL,
        requested_at TIMESTAMP NOT NULL,
        requested_by VARCHAR,
        reason TEXT,
        sent_at TIMESTAMP
    )""",
]

# Version 8: on DuckDB, the run log without indexes. Imported history puts a row per
# date in the run log (36.5M for 10k pipelines over 10 years), and the three indexes
# (the ``run_id`` primary key, ``batch_id``, ``(pipeline_id, run_date)``) were three
# quarters of the file and most of an import's memory, while DuckDB's planner scans the
# columns (with their min/max per row group) for every query the reconciler asks of the
# run log. Run ids stay unique: every writer derives them from a batch id it checked
# (``run_row_id``) or, importing, from pipeline and date not yet logged. DuckDB cannot
# drop a primary key, so the table is copied. PostgreSQL keeps its key and indexes.
V8 = [
    """CREATE TABLE pipeline_run_log_v8 (
        run_id VARCHAR NOT NULL,
        pipeline_id VARCHAR NOT NULL,
        run_date DATE NOT NULL,
        status VARCHAR NOT NULL,
        start_time TIMESTAMP,
        end_time TIMESTAMP,
        retry_attempts INTEGER,
        retry_schedule_used VARCHAR,
        error_message TEXT,
        data_quality_passed BOOLEAN,
        is_backfill BOOLEAN,
        sla_met BOOLEAN,
        backfill_id VARCHAR,
        batch_id VARCHAR,
        attempt INTEGER,
        kind VARCHAR,
        request_id VARCHAR,
        platform VARCHAR,
        platform_run_id VARCHAR,
        created_at TIMESTAMP,
        version VARCHAR
    )""",
    "INSERT INTO pipeline_run_log_v8 SELECT * FROM pipeline_run_log",
    "DROP TABLE pipeline_run_log",
    "ALTER TABLE pipeline_run_log_v8 RENAME TO pipeline_run_log",
]

MIGRATIONS: list[list[str]] = [V1, V2, V3, V4, V5, V6, V7, V8]

# PostgreSQL has no arg_max over structs; DISTINCT ON picks the newest attempt instead.
_NEWEST_PG = """CREATE TEMP TABLE newest AS
    SELECT DISTINCT ON (pipeline_id, run_date) pipeline_id, run_date, status,
           max(attempt) OVER w AS attempt, batch_id,
           max(start_time) OVER w AS started_at, max(end_time) OVER w AS ended_at
    FROM pipeline_run_log
    WINDOW w AS (PARTITION BY pipeline_id, run_date)
    ORDER BY pipeline_id, run_date, created_at DESC, attempt DESC, run_id DESC"""


def migrations(dialect: str) -> list[list[str]]:
    """The migrations as one engine runs them (the same tables and columns on both;
    PostgreSQL's run log keeps the key and indexes version 8 drops on DuckDB)."""
    if dialect != "postgres":
        return MIGRATIONS
    return [
        [_NEWEST_PG if s is _NEWEST else s for s in m] if m is not V8 else [] for m in MIGRATIONS
    ]


SCHEMA_VERSION = len(MIGRATIONS)
TABLES = (
    "pipelines",
    "pipeline_run_log",
    "pipeline_parameters",
    "backfill_queue",
    "data_quality_log",
    "pipeline_notifications",
)


def check_not_newer(version: int | None, what: str) -> None:
    """Refuse a state made by a newer reconciler (``what``: the state, for the message)."""
    if version is not None and version > SCHEMA_VERSION:
        raise StateError(
            f"{what} has schema version {version}, newer than this reconciler "
            f"({SCHEMA_VERSION}); upgrade reconciler"
        )


def check_readable(version: int | None, what: str) -> None:
    """A read sees the current schema or none (reading never writes: migrating an older
    state is ``apply``'s job)."""
    if version is not None and version < SCHEMA_VERSION:
        raise StateError(
            f"{what} has schema version {version}; run `reconciler apply` once to migrate "
            f"it to version {SCHEMA_VERSION}"
        )
    check_not_newer(version, what)
