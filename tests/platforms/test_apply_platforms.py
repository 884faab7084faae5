"""``reconciler apply --wait`` end to end on each cloud platform, against its test server."""

from __future__ import annotations

import pytest
from platform_harness import (
    created_per_date,
    created_per_key,
    query,
    run_cli,
    state_bytes,
    write_config,
)
from platform_support import TOKEN

NOW = "2026-01-10T06:00:00"  # 2026-01-01..10 are due
DATES = [f"2026-01-{d:02d}" for d in range(1, 11)]
PLATFORMS = ["databricks", "dbt", "snowflake", "http"]
SERVERS = {
    "databricks": "databricks_server",
    "dbt": "dbt_server",
    "snowflake": "snowflake_server",
    "http": "hook_server",
}
MESSAGES = {
    "databricks": "table sales.orders is locked",
    "dbt": "Database Error",
    "snowflake": "SQL compilation error",
    "http": "destination bucket refused",
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_apply_wait_runs_every_date_once_and_records_outcomes(
    request: pytest.FixtureRequest, platform: str, tmp_path
) -> None:
    server = request.getfixturevalue(SERVERS[platform])
    server.outcomes["2026-01-04"] = "fail"
    server.fail_rate = 0.1
    server.fault_kinds = ["429", "503", "empty500", "html502", "drop"]
    write_config(
        tmp_path, platform, server, retry={"enabled": False}, backfill={"max_active_runs": 4}
    )
    done = run_cli(tmp_path, "apply", "--wait", "--now", NOW, "--max-parallel", "4")
    assert done.returncode == 0, done.stderr
    assert "10 run(s) started (10 dates), 9 succeeded, 1 failed" in done.stdout, done.stdout
    assert created_per_date(server) == {d: 1 for d in DATES}
    assert set(created_per_key(server).values()) == {1}
    rows = query(
        tmp_path,
        "SELECT run_date::VARCHAR, status, platform_run_id, error_message "
        "FROM pipeline_run_log ORDER BY run_date",
    )
    assert [r[:2] for r in rows] == [
        (d, "failed" if d == "2026-01-04" else "success") for d in DATES
    ]
    made = {str(e["date"]): e["run_id"] for e in server.created}
    assert {r[0]: r[2] for r in rows} == made  # the platform's run ids are recorded
    assert MESSAGES[platform] in rows[3][3], rows[3][3]
    assert query(tmp_path, "SELECT range_start::VARCHAR, range_end::VARCHAR FROM coverage") == [
        ("2026-01-01", "2026-01-03"),
        ("2026-01-05", "2026-01-10"),
    ]
    for text in (done.stdout, done.stderr):
        assert TOKEN not in text
    assert TOKEN.encode() not in state_bytes(tmp_path)

    again = run_cli(tmp_path, "apply", "--wait", "--now", NOW)
    assert again.returncode == 0 and "0 run(s) started" in again.stdout, again.stdout
    assert len(server.created) == 10


def test_a_missing_token_starts_nothing_and_names_the_variable(databricks_server, tmp_path) -> None:
    write_config(
        tmp_path,
        "databricks",
        databricks_server,
        trigger={"token_env": "NOT_SET_ANYWHERE"},
        retry={"enabled": False},
    )
    done = run_cli(tmp_path, "apply", "--wait", "--now", "2026-01-02T06:00:00")
    assert done.returncode == 1, done.stderr
    assert "0 run(s) started" in done.stdout and "0 failed" in done.stdout
    [line] = [line for line in done.stderr.splitlines() if "NOT_SET_ANYWHERE" in line]
    assert line.endswith(
        "trigger.token_env: environment variable NOT_SET_ANYWHERE is not set "
        "(it should hold a Databricks token); its runs are not started until it is set"
    )
    assert query(tmp_path, "SELECT count(*) FROM pipeline_run_log") == [(0,)]
    assert not databricks_server.created


def test_apply_without_wait_leaves_runs_that_the_next_pass_adopts(
    databricks_server, tmp_path
) -> None:
    databricks_server.run_seconds = 2.0
    write_config(tmp_path, "databricks", databricks_server, backfill={"max_active_runs": 10})
    first = run_cli(tmp_path, "apply", "--now", NOW, "--max-parallel", "10")
    assert first.returncode == 0, first.stderr
    assert "10 still running" in first.stdout, first.stdout
    triggers = databricks_server.requests["run-now"]
    second = run_cli(tmp_path, "apply", "--wait", "--now", NOW)
    assert second.returncode == 0, second.stderr
    assert "10 succeeded" in second.stdout and "10 adopted" in second.stdout, second.stdout
    assert databricks_server.requests["run-now"] == triggers  # followed, not triggered again
    assert created_per_date(databricks_server) == {d: 1 for d in DATES}
