"""PostgreSQL URLs as users write them: the scheme in any case, a driver suffix."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pg_helpers import OK, write_pipeline

from reconciler.state.postgres_store import PostgresStore
from tests import store_reads as reads

NOW = "2026-01-03T06:00:00"


@pytest.mark.parametrize(
    "scheme", ["PostgreSQL://", "POSTGRES://", "postgresql+psycopg://", "Postgres+Psycopg2://"]
)
def test_every_spelling_of_the_scheme_is_the_postgres_state(
    tmp_path: Path, cli, pg_url: str, scheme: str
) -> None:
    write_pipeline(tmp_path / "pipelines.d", "daily", OK)
    url = scheme + pg_url.split("://", 1)[1]
    applied = cli("apply", "--wait", "--now", NOW, "--state", url)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    # the runs are in the PostgreSQL schema, and no DuckDB file was made of the URL
    covered = reads.observe(PostgresStore(pg_url), ["daily"]).of("daily").covered
    assert covered == ((date(2026, 1, 1), date(2026, 1, 3)),)
    duckdb_files = [
        p for p in tmp_path.rglob("*") if p.is_file() and p.read_bytes()[8:12] == b"DUCK"
    ]
    assert duckdb_files == []
    plan = cli("plan", "--now", NOW, "--state", url, "--format", "json")
    assert plan.returncode == 0 and '"actions": []' in plan.stdout, plan.stdout + plan.stderr
