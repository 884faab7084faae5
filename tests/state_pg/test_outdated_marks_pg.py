"""The outdated-mark tests (``tests/state/test_outdated_marks.py``) on PostgreSQL: the same
tests, with ``store`` over a new, empty schema and ``v5_store`` over a schema version 5
state made as that version made it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pg_helpers import suite_of, suite_tests

from reconciler.state.postgres_store import PostgresStore
from reconciler.state.schema import migrations
from reconciler.state.store import Store

marks = suite_of("test_outdated_marks")
globals().update(suite_tests(marks))


@pytest.fixture
def store(pg_url: str) -> Store:
    made = PostgresStore(pg_url)
    with made.write() as w:
        w.sync_pipelines(
            [(marks.pipeline_row("p"), {}), (marks.pipeline_row("q"), {})],
            marks.NOW - timedelta(days=30),
        )
    return made


@pytest.fixture
def v5_store(pg_url: str) -> Store:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        for number, statements in enumerate(migrations("postgres")[:5], start=1):
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]
            conn.execute(
                "INSERT INTO schema_version VALUES (%s, TIMESTAMP '2026-01-01', '0.5')", [number]
            )
        conn.execute(
            """INSERT INTO pipeline_run_log (run_id, pipeline_id, run_date, status, batch_id,
                   attempt, kind, created_at)
               VALUES ('r1', 'p', DATE '2026-01-01', 'success', 'b1', 1, 'run',
                       TIMESTAMP '2026-01-02')"""
        )
        conn.execute("INSERT INTO coverage VALUES ('p', DATE '2026-01-01', DATE '2026-01-01')")
    return PostgresStore(pg_url)
