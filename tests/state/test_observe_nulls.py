"""A failed row with no recorded time (a hand-migrated history) is retried, not a crash."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from reconciler.state.connection import transaction
from reconciler.state.duckdb_store import DuckDBStore
from tests import store_reads as reads


def test_a_failed_date_without_times_reads_as_ended_long_ago(tmp_path: Path) -> None:
    state = str(tmp_path / "state.duckdb")
    with transaction(state) as conn:
        conn.execute(
            "INSERT INTO open_dates (pipeline_id, run_date, status, attempt, batch_id) "
            "VALUES ('p', DATE '2024-01-02', 'failed', 1, 'old-run')"
        )
    failed = reads.observe(DuckDBStore(state), ["p"]).of("p").failed
    (day,) = list(failed)
    assert day == date(2024, 1, 2)
    assert failed[day].ended_at == datetime(1970, 1, 1, tzinfo=UTC)
    assert failed[day].run_id == "old-run" and failed[day].request_id is None
