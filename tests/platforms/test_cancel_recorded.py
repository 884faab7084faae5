"""Cancels are recorded before any platform is asked: a crash in between is mended by the
next apply (exactly one cancel reaches the platform), a removed request with
``cancel_running`` stops its runs, and ``backfill --cancel`` drops an ad-hoc request.

Everything runs through the CLI against the Databricks test server, on DuckDB and
PostgreSQL.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from platform_harness import apply_env, command, write_config
from test_cancel_command import cli, runs

from tests.state_pg.conftest import pg_server, pg_url  # noqa: F401  (fixtures)

NOW = "2026-01-10T06:00:00"
RETRIES = {"enabled": True, "max_retries": 3, "schedule": "every 1 second"}


@pytest.fixture(params=["duckdb", "postgres"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "duckdb":
        return str(tmp_path / ".reconciler" / "state.duckdb")
    return str(request.getfixturevalue("pg_url"))


def cancel_rows(state: str) -> list[tuple[str, bool]]:
    """(batch id, sent) of every recorded cancel."""
    sql = "SELECT batch_id, sent_at IS NOT NULL FROM cancel_requests ORDER BY batch_id"
    if state.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(state) as conn:
            return [(r[0], r[1]) for r in conn.execute(sql).fetchall()]
    import duckdb

    conn2 = duckdb.connect(state, read_only=True)
    try:
        return [(r[0], r[1]) for r in conn2.execute(sql).fetchall()]
    finally:
        conn2.close()


def test_a_cancel_killed_before_the_platform_call_is_sent_once_by_the_next_apply(
    databricks_server: Any, tmp_path: Path, state: str
) -> None:
    databricks_server.default_outcome = "hang"
    write_config(
        tmp_path,
        "databricks",
        databricks_server,
        schedule={"type": "daily", "start": "2026-01-10"},
        retry=RETRIES,
    )
    assert cli(tmp_path, state, "apply", "--now", NOW).returncode == 0
    ((batch_id, (status, _)),) = runs(state).items()
    assert status == "running"

    # the platform answers the cancel with 503 and Retry-After 60: the command records
    # the cancel, then waits to ask again, and is killed while it waits
    databricks_server.retry_after = 60
    databricks_server.fail("503", route="runs/cancel")
    proc = subprocess.Popen(
        command("cancel", batch_id, "--state", state, "--now", NOW),
        cwd=tmp_path,
        env=apply_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while databricks_server.faults_served["503"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert databricks_server.faults_served["503"] == 1
    assert cancel_rows(state) == [(batch_id, False)]  # recorded, never sent
    assert not any(r.cancelled for r in databricks_server.runs.values())
    assert runs(state)[batch_id][0] == "running"

    asked = databricks_server.requests["runs/cancel"]
    mended = cli(tmp_path, state, "apply", "--wait", "--now", NOW)
    assert mended.returncode == 0, mended.stderr
    assert f"cancel: {batch_id} (databricks_pipe): cancel sent" in mended.stdout
    assert databricks_server.requests["runs/cancel"] == asked + 1
    assert sum(r.cancelled for r in databricks_server.runs.values()) == 1
    assert runs(state)[batch_id][0] == "canceled"
    assert cancel_rows(state) == [(batch_id, True)]

    # and never again, nor retried (retries are on): nothing is created or cancelled
    made = len(databricks_server.created)
    time.sleep(1.1)
    again = cli(tmp_path, state, "apply", "--wait", "--now", NOW)
    assert again.returncode == 0, again.stderr
    assert "cancel:" not in again.stdout
    assert databricks_server.requests["runs/cancel"] == asked + 1
    assert len(databricks_server.created) == made

    why = cli(tmp_path, state, "explain", "databricks_pipe", "2026-01-10", "--now", NOW)
    assert why.returncode == 0, why.stderr
    assert "retry: none: its run was cancelled" in why.stdout
    listed = cli(
        tmp_path, state, "explain", "databricks_pipe", "2026-01-10", "--format", "json",
        "--now", NOW,
    )  # fmt: skip
    assert json.loads(listed.stdout)["retry"]["canceled"] is True
    calendar = cli(tmp_path, state, "status", "--calendar", "--now", NOW)
    assert calendar.returncode == 0, calendar.stderr
    assert "C canceled (stopped on request)" in calendar.stdout


LATER = "2026-01-12T06:00:00"


@pytest.mark.parametrize("cancel_running", [True, False])
def test_removing_a_request_drops_its_dates_and_with_cancel_running_stops_its_runs(
    databricks_server: Any, tmp_path: Path, state: str, cancel_running: bool
) -> None:
    databricks_server.default_outcome = "hang"
    # 01-08..01-10 start for the request at NOW; 01-11..01-20 are its dates to come
    request = {"id": "fix-jan", "from": "2026-01-08", "to": "2026-01-20"}
    write_config(
        tmp_path,
        "databricks",
        databricks_server,
        schedule={"type": "daily", "start": "2026-01-01"},
        backfill={"auto": False, "requests": [{**request, "cancel_running": cancel_running}]},
        batch={"multi_date": False},
        retry=RETRIES,
    )
    first = cli(tmp_path, state, "apply", "--now", NOW)
    assert first.returncode == 0, first.stderr
    flying = runs(state)
    assert len(flying) == 3 and {b[0] for b in flying.values()} == {"running"}
    declared = cli(tmp_path, state, "backfill", "databricks_pipe", "--cancel", "fix-jan")
    assert declared.returncode == 1 and len(declared.stderr.strip().splitlines()) == 1
    assert "request 'fix-jan' of databricks_pipe is declared in " in declared.stderr
    assert runs(state) == flying  # nothing written

    config = tmp_path / "pipelines.d" / "databricks.yaml"
    data = json.loads(config.read_text(encoding="utf-8"))
    data["backfill"]["requests"] = []  # the request is removed from the file
    config.write_text(json.dumps(data), encoding="utf-8")

    databricks_server.outcomes = {"2026-01-12": "success"}
    made = len(databricks_server.created)
    # with cancel_running the pass can wait: every run it follows ends
    wait = ["--wait"] if cancel_running else []
    removed = cli(tmp_path, state, "apply", *wait, "--now", LATER)
    assert removed.returncode == 0, removed.stderr
    # 01-11 would have run for the request; now only the scheduled 01-12 starts
    assert [e["date"] for e in databricks_server.created[made:]] == ["2026-01-12"]
    cancelled = sum(r.cancelled for r in databricks_server.runs.values())
    statuses = sorted(s for s, _ in runs(state).values())
    if cancel_running:
        assert (
            "request fix-jan of databricks_pipe removed: pending dates dropped, 3 run(s) "
            "in flight to cancel" in removed.stdout
        )
        assert cancelled == 3
        assert statuses == ["canceled", "canceled", "canceled", "success"]
    else:
        assert "its runs in flight go on (no cancel_running)" in removed.stdout
        assert cancelled == 0
        assert statuses == ["running"] * 4
    plan = cli(tmp_path, state, "plan", "--format", "json-v2", "--now", LATER)
    kinds = {a["kind"] for a in json.loads(plan.stdout)["actions"]}
    assert kinds == ({"poll"} if not cancel_running else set())  # nothing of the request


def test_backfill_cancel_drops_an_adhoc_request_and_its_runs(
    databricks_server: Any, tmp_path: Path, state: str
) -> None:
    databricks_server.default_outcome = "hang"
    write_config(
        tmp_path,
        "databricks",
        databricks_server,
        schedule={"type": "daily", "start": "2026-01-01"},
        backfill={"auto": False},
        batch={"multi_date": False},
        retry=RETRIES,
    )
    queued = cli(
        tmp_path, state, "backfill", "databricks_pipe", "--from", "2026-01-08",
        "--to", "2026-01-20", "--id", "adhoc-1", "--now", NOW,
    )  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    assert cli(tmp_path, state, "apply", "--now", NOW).returncode == 0
    assert len(runs(state)) == 3  # 01-08..01-10, all of the request

    for args, message in [
        (["--cancel", "nope"], "Error: no ad-hoc request 'nope' for databricks_pipe"),
        (["--cancel", "adhoc-1", "--from", "2026-01-01"], "--cancel takes no --from"),
        (["--cancel-running"], "--cancel-running goes with --cancel ID"),
    ]:
        refused = cli(tmp_path, state, "backfill", "databricks_pipe", *args, "--now", NOW)
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        assert message in refused.stderr, refused.stderr

    done = cli(
        tmp_path, state, "backfill", "databricks_pipe", "--cancel", "adhoc-1",
        "--cancel-running", "--reason", "wrong range", "--now", NOW,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "cancelled backfill adhoc-1 of databricks_pipe" in done.stdout
    assert done.stdout.count(": cancelled") == 3
    assert {s for s, _ in runs(state).values()} == {"canceled"}

    twice = cli(tmp_path, state, "backfill", "databricks_pipe", "--cancel", "adhoc-1")
    assert twice.returncode == 1
    assert twice.stderr.strip().splitlines() == [
        "Error: no ad-hoc request 'adhoc-1' for databricks_pipe (cancelled already, or never "
        "made: `reconciler backfill` prints the id it queues)"
    ]
    made = len(databricks_server.created)
    time.sleep(1.1)
    after = cli(tmp_path, state, "apply", "--now", LATER)
    assert after.returncode == 0, after.stderr
    # neither its dates to come (01-11) nor retries: only the scheduled 01-12
    assert [e["date"] for e in databricks_server.created[made:]] == ["2026-01-12"]
