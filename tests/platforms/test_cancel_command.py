"""``reconciler cancel`` end to end: runs started by ``apply`` are cancelled on their
platform and recorded, on a DuckDB and a PostgreSQL state; bad ids and a second cancel
are one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from platform_harness import apply_env, command, write_config

from tests.state_pg.conftest import pg_server, pg_url  # noqa: F401  (fixtures)

NOW = "2026-01-10T06:00:00"  # 2026-01-08..10 are due


def cli(work: Path, state: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args, "--state", state),
        cwd=work,
        env=apply_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def runs(state: str) -> dict[str, tuple[str, str | None]]:
    """batch id -> (status, error) of every run row."""
    sql = "SELECT batch_id, status, error_message FROM pipeline_run_log"
    if state.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(state) as conn:
            rows: list[Any] = conn.execute(sql).fetchall()
    else:
        import duckdb

        conn2 = duckdb.connect(state, read_only=True)
        try:
            rows = conn2.execute(sql).fetchall()
        finally:
            conn2.close()
    return {r[0]: (r[1], r[2]) for r in rows}


@pytest.fixture(params=["duckdb", "postgres"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "duckdb":
        return str(tmp_path / ".reconciler" / "state.duckdb")
    return str(request.getfixturevalue("pg_url"))


def test_cancel_a_run_then_a_pipeline_and_refuse_what_is_not_in_flight(
    databricks_server: Any, tmp_path: Path, state: str
) -> None:
    databricks_server.default_outcome = "hang"
    write_config(
        tmp_path,
        "databricks",
        databricks_server,
        schedule={"type": "daily", "start": "2026-01-08"},
        retry={"enabled": True, "max_retries": 3, "schedule": "every 1 second"},
    )
    started = cli(tmp_path, state, "apply", "--now", NOW)
    assert started.returncode == 0, started.stderr
    in_flight = runs(state)
    assert len(in_flight) == 3 and {s for s, _ in in_flight.values()} == {"running"}
    first, *others = sorted(in_flight)

    one = cli(tmp_path, state, "cancel", first, "--now", NOW)
    assert one.returncode == 0, one.stderr
    assert f"{first} (databricks_pipe 2026-01-" in one.stdout and ": cancelled" in one.stdout
    after = runs(state)
    assert after[first][0] == "canceled" and "CANCELED" in (after[first][1] or "")
    assert all(after[b][0] == "running" for b in others)
    assert sum(r.cancelled for r in databricks_server.runs.values()) == 1

    again = cli(tmp_path, state, "cancel", first)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"Error: no run {first!r} in flight (unknown, ended, or cancelled already: "
        "`reconciler history PIPELINE` lists its runs)"
    ]

    rest = cli(tmp_path, state, "cancel", "--pipeline", "databricks_pipe")
    assert rest.returncode == 0, rest.stderr
    assert rest.stdout.count(": cancelled") == 2
    assert {s for s, _ in runs(state).values()} == {"canceled"}
    assert sum(r.cancelled for r in databricks_server.runs.values()) == 3

    for args, message in [
        (["--pipeline", "databricks_pipe"], "pipeline 'databricks_pipe' has no run in flight"),
        (["--pipeline", "nope"], "no pipeline with id 'nope' in the config or in flight"),
        (["--request", "r1"], "request 'r1' has no run in flight"),
    ]:
        refused = cli(tmp_path, state, "cancel", *args)
        assert refused.returncode == 1
        (line,) = refused.stderr.strip().splitlines()
        assert line.startswith(f"Error: {message}"), line
    both = cli(tmp_path, state, "cancel", first, "--pipeline", "databricks_pipe")
    assert both.returncode == 1
    assert "name exactly one of RUN_ID, --request ID or --pipeline ID" in both.stderr

    # the next pass starts nothing again: cancelled dates are never retried by policy
    # (retries are on, with no delay), and the plan lists them as canceled gaps
    made = len(databricks_server.created)
    time.sleep(1.1)  # (past the retry delay a failure would have)
    later = cli(tmp_path, state, "apply", "--now", NOW)
    assert later.returncode == 0, later.stderr
    assert len(databricks_server.created) == made
    plan = cli(tmp_path, state, "plan", "--format", "json-v2", "--now", NOW)
    document = json.loads(plan.stdout)
    assert [g["reason"] for g in document["gaps"]] == ["canceled"]
    assert len(document["gaps"][0]["dates"]) == 3 and document["actions"] == []


def test_cancel_by_the_platforms_run_id_and_a_local_process_group(
    databricks_server: Any, tmp_path: Path
) -> None:
    state = str(tmp_path / ".reconciler" / "state.duckdb")
    databricks_server.default_outcome = "hang"
    write_config(
        tmp_path,
        "databricks",
        databricks_server,
        schedule={"type": "daily", "start": "2026-01-10"},
        retry={"enabled": False},
    )
    pids = tmp_path / "pids.txt"
    family = (
        "import os, subprocess, sys, time;"
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"open({str(pids)!r}, 'w').write(str(os.getpid()) + ' ' + str(c.pid));"
        "time.sleep(60)"
    )
    (tmp_path / "pipelines.d" / "local.yaml").write_text(
        "id: local_pipe\nplatform: local\n"
        f"trigger:\n  command: [{sys.executable!r}, '-c', {family!r}]\n"
        "schedule: {type: daily, start: '2026-01-10'}\nretry: {enabled: false}\n",
        encoding="utf-8",
    )
    started = cli(tmp_path, state, "apply", "--now", NOW)
    assert started.returncode == 0, started.stderr
    (remote_run,) = list(databricks_server.runs)
    one = cli(tmp_path, state, "cancel", remote_run)
    assert one.returncode == 0 and ": cancelled" in one.stdout, one.stderr
    deadline = time.monotonic() + 20
    while not pids.exists() or len(pids.read_text().split()) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    job, child = (int(p) for p in pids.read_text().split())
    local = cli(tmp_path, state, "cancel", "--pipeline", "local_pipe")
    assert local.returncode == 0, local.stderr
    assert "(local_pipe 2026-01-10): cancelled" in local.stdout
    for pid in (job, child):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        assert stat == "Z", f"process {pid} is still running"
    statuses = runs(state)
    assert sorted(s for s, _ in statuses.values()) == ["canceled", "canceled"]
    assert any("cancelled (exit code -15)" in (e or "") for _, e in statuses.values())


def test_a_run_that_ended_first_keeps_its_outcome_and_a_refusal_is_said(
    databricks_server: Any, hook_server: Any, tmp_path: Path
) -> None:
    state = str(tmp_path / ".reconciler" / "state.duckdb")
    one_day = {"schedule": {"type": "daily", "start": "2026-01-10"}, "retry": {"enabled": False}}
    write_config(tmp_path, "databricks", databricks_server, **one_day)
    hook_server.default_outcome = "hang"
    write_config(tmp_path, "http", hook_server, **one_day)  # (no cancel_url)
    started = cli(tmp_path, state, "apply", "--now", NOW)
    assert started.returncode == 0, started.stderr
    time.sleep(0.5)  # the Databricks run ends (run_seconds 0.2) before it is cancelled
    ended = cli(tmp_path, state, "cancel", "--pipeline", "databricks_pipe")
    assert ended.returncode == 0, ended.stderr
    assert "(databricks_pipe 2026-01-10): had already ended (succeeded)" in ended.stdout
    assert not any(r.cancelled for r in databricks_server.runs.values())
    refused = cli(tmp_path, state, "cancel", "--pipeline", "http_pipe")
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 2 and "has no cancel_url, so its runs cannot be cancelled" in lines[0]
    assert lines[1] == "Error: 1 of 1 run(s) could not be cancelled"
    assert sorted(s for s, _ in runs(state).values()) == ["running", "success"]
