"""``--state postgresql://...`` driven as a user would: apply, plan, status, migrate."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from pg_helpers import FAIL, OK, snapshot, write_pipeline

from reconciler.state.migrate_copy import copy_state
from reconciler.state.outdated_marks import OutdatedMark
from reconciler.state.postgres_store import PostgresStore
from reconciler.state.store import open_store
from tests import store_reads as reads

NOW = "2026-01-10T06:00:00"


def test_apply_wait_then_plan_on_a_postgres_state(tmp_path: Path, cli, pg_url: str) -> None:
    write_pipeline(tmp_path / "pipelines.d", "daily_ok", OK)
    write_pipeline(tmp_path / "pipelines.d", "daily_bad", FAIL, retry={"enabled": False})
    first = cli("apply", "--wait", "--now", NOW, "--state", pg_url)
    assert first.returncode == 0, first.stdout + first.stderr
    store = PostgresStore(pg_url)
    observed = reads.observe(store, ["daily_ok", "daily_bad"])
    assert observed.of("daily_ok").covered == ((date(2026, 1, 1), date(2026, 1, 10)),)
    assert observed.of("daily_bad").covered == ()
    assert len(observed.of("daily_bad").failed) == 10
    history = reads.history(store, "daily_bad", 50)
    assert {r.status for r in history} == {"failed"} and len(history) == 10
    assert all("boom: " in (r.error_message or "") for r in history), history[0]
    plan = cli("plan", "--now", NOW, "--state", pg_url, "--format", "json")
    assert plan.returncode in (0, 2), plan.stdout + plan.stderr
    assert json.loads(plan.stdout)["actions"] == [], plan.stdout
    status = cli("status", "--now", NOW, "--state", pg_url)
    assert status.returncode in (0, 1, 2), status.stdout + status.stderr
    assert "daily_bad" in status.stdout
    again = cli("apply", "--wait", "--now", NOW, "--state", pg_url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(reads.history(PostgresStore(pg_url), "daily_ok", 50)) == 10  # nothing ran twice


def test_plan_of_an_empty_postgres_state_plans_everything(tmp_path: Path, cli, pg_url) -> None:
    write_pipeline(tmp_path / "pipelines.d", "daily_ok", OK)
    plan = cli("plan", "--now", NOW, "--state", pg_url)
    assert plan.returncode in (0, 2), plan.stdout + plan.stderr
    assert "daily_ok" in plan.stdout


def test_migrate_duckdb_to_postgres_to_duckdb_round_trip(tmp_path: Path, cli, pg_url) -> None:
    write_pipeline(tmp_path / "pipelines.d", "daily_ok", OK, sla={"time": "07:00"})
    write_pipeline(tmp_path / "pipelines.d", "daily_bad", FAIL, retry={"enabled": False})
    done = cli("apply", "--wait", "--now", NOW)
    assert done.returncode == 0, done.stdout + done.stderr
    source = str(tmp_path / ".reconciler" / "state.duckdb")
    with open_store(source).write() as session:  # outdated marks, and the version of runs
        session.add_outdated_marks(
            [
                OutdatedMark(
                    pipeline_id="daily_ok",
                    dates=(date(2030, 1, 2), date(2030, 1, 3)),  # (never run: no refresh)
                    cause_pipeline="upstream",
                    cause_dates=(date(2030, 1, 1), date(2030, 1, 31)),
                    cause_batch_id="b1",
                ),
                OutdatedMark.from_version("daily_bad", (date(2030, 2, 1), date.max), "2"),
            ],
            datetime(2026, 1, 8, 7, 0, tzinfo=UTC),
        )
        assert session.conn is not None
        session.conn.execute(
            "UPDATE pipeline_run_log SET version = 'v1' WHERE pipeline_id = ?", ["daily_ok"]
        )
    there = copy_state(source, pg_url)
    assert there.rows["pipeline_run_log"] == 20
    back = str(tmp_path / "back.duckdb")
    copy_state(pg_url, back)
    original = snapshot(source)
    assert snapshot(pg_url) == original
    assert snapshot(back) == original
    assert len(original["outdated_marks"]) == 2
    assert {r[-1] for r in original["pipeline_run_log"]} == {"v1", None}  # (version is last)
    # the copy is a working state: a pass on it has nothing left to run
    plan = cli("plan", "--now", NOW, "--state", pg_url, "--format", "json")
    assert json.loads(plan.stdout)["actions"] == [], plan.stdout


def test_migrate_refuses_a_target_that_holds_a_state(tmp_path: Path, cli, pg_url) -> None:
    import pytest

    from reconciler.errors import StateError

    write_pipeline(tmp_path / "pipelines.d", "daily_ok", OK)
    assert cli("apply", "--wait", "--now", NOW, "--state", pg_url).returncode == 0
    assert cli("apply", "--wait", "--now", NOW).returncode == 0
    with pytest.raises(StateError, match="already holds a state"):
        copy_state(str(tmp_path / ".reconciler" / "state.duckdb"), pg_url)
