"""A pipeline whose trigger variable is missing is reported, not started.

A fleet of a local pipeline and a Databricks pipeline (the Databricks test server behind
it) is applied without the Databricks token: the local pipeline runs, the Databricks one
is named once on stderr (its file, the key's line and the variable), no run of it is
recorded (no attempt used) and apply exits 1. Once the variable is set, the next apply
starts it at attempt 1. ``validate --check-env`` and ``plan`` (text and JSON, the JSON
checked against its schema) say the same. The tests that read or write a state run on a
DuckDB file and on a PostgreSQL schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flow_helpers import OK, write_pipeline

from reconciler.render.plan_schema import plan_problems
from tests.servers.databricks import DatabricksServer
from tests.stores import location, snapshot

NOW = "2026-01-10T06:00:00"
VAR = "PREFLIGHT_DBX_TOKEN"
TOKEN = "dapi-preflight-0f1e2d3c4b5a69788796a5b4"
SLACK_VAR = "PREFLIGHT_SLACK_URL"
DBX = """\
id: dbx
platform: databricks
trigger:
  host: {host}
  job_id: 42
  token_env: PREFLIGHT_DBX_TOKEN
schedule:
  type: daily
  start: 2026-01-08
retry:
  max_retries: 3
notifications:
  - channel: slack
    url_env: PREFLIGHT_SLACK_URL
    on: [failure]
"""
WHERE = "pipelines.d/dbx.yaml:6:3: pipeline dbx: trigger.token_env: "
MISSING = f"environment variable {VAR} is not set (it should hold a Databricks token)"


@pytest.fixture
def server() -> Iterator[DatabricksServer]:
    found = DatabricksServer(token=TOKEN, seed=7)
    found.run_seconds = 0.2
    found.start()
    yield found
    found.stop()


def fleet(tmp: Path, host: str) -> None:
    config = tmp / "pipelines.d"
    write_pipeline(config, "local_ok", OK, schedule={"start": "2026-01-08"})
    (config / "dbx.yaml").write_text(DBX.format(host=host), encoding="utf-8")


def without(*names: str) -> dict[str, str]:
    """The CLI's environment with these variables empty (as good as missing)."""
    return dict.fromkeys(names, "")


def runs(where: str, pipeline: str) -> list[tuple[Any, ...]]:
    """(date, status, retry attempts) of the pipeline's runs in the state at ``where``."""
    rows = snapshot(where).get("pipeline_run_log", [])
    if not rows:
        return []
    from reconciler.state.connection import reading

    with reading(where) as conn:
        found = conn.execute(
            "SELECT run_date, status, retry_attempts FROM pipeline_run_log "
            "WHERE pipeline_id = ? ORDER BY run_date",
            [pipeline],
        ).fetchall()
    return [tuple(r) for r in found]


def env_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if VAR in line or SLACK_VAR in line]


def test_apply_starts_the_rest_and_names_the_missing_variable_once(
    store_cli: Any, state: list[str], tmp_path: Path, server: DatabricksServer
) -> None:
    cli, where = store_cli, location(tmp_path, state)
    fleet(tmp_path, server.url)
    done = cli("apply", "--wait", "--now", NOW, env=without(VAR, SLACK_VAR))
    assert done.returncode == 1, done.stdout + done.stderr
    assert env_lines(done.stderr) == [
        f"{WHERE}{MISSING}; its runs are not started until it is set",
        "warning: pipelines.d/dbx.yaml:14:5: pipeline dbx: notifications[0].url_env: "
        f"environment variable {SLACK_VAR} is not set (it should hold a Slack webhook URL); "
        "its notifications are not sent until it is set",
    ]
    assert "Traceback" not in done.stderr
    local = runs(where, "local_ok")
    assert [r[1] for r in local] == ["success"] * 3  # 2026-01-08 to 2026-01-10
    assert runs(where, "dbx") == []  # no failed run, no attempt used
    # (only its config is synced: no run, attempt, claim, notification or breach of it)
    touched = {t for t, rows in snapshot(where).items() if any("dbx" in r for r in rows)}
    assert touched == {"pipelines"}, touched
    assert not server.created
    assert "Applied: 3 run(s) started" in done.stdout

    again = cli("apply", "--wait", "--now", NOW, env={VAR: TOKEN, SLACK_VAR: ""})
    assert again.returncode == 0, again.stdout + again.stderr  # (a notification only warns)
    assert VAR not in again.stderr and TOKEN not in again.stdout + again.stderr
    assert runs(where, "dbx") == [(d, "success", 0) for d, _, _ in local]  # first attempts
    assert len(server.created) == 3


def test_a_variable_of_blanks_is_missing_and_never_printed(
    store_cli: Any, state: list[str], tmp_path: Path, server: DatabricksServer
) -> None:
    cli = store_cli
    fleet(tmp_path, server.url)
    done = cli("apply", "--now", NOW, env={VAR: "   ", SLACK_VAR: "http://127.0.0.1:9/x"})
    assert done.returncode == 1
    assert env_lines(done.stderr) == [f"{WHERE}{MISSING}; its runs are not started until it is set"]
    assert "127.0.0.1:9/x" not in done.stdout + done.stderr
    assert runs(location(tmp_path, state), "dbx") == []


def test_validate_check_env(cli: Any, tmp_path: Path, server: DatabricksServer) -> None:
    fleet(tmp_path, server.url)
    plain = cli("validate", env=without(VAR, SLACK_VAR))
    assert plain.returncode == 0, plain.stderr

    bad = cli("validate", "--check-env", env=without(VAR, SLACK_VAR))
    assert bad.returncode == 1
    lines = [line for line in bad.stderr.splitlines() if not line.startswith("Error:")]
    assert lines == [
        f"{WHERE}{MISSING}",
        "pipelines.d/dbx.yaml:14:5: pipeline dbx: notifications[0].url_env: environment "
        f"variable {SLACK_VAR} is not set (it should hold a Slack webhook URL)",
    ]
    assert "2 environment variable(s) missing" in bad.stderr

    good = cli("validate", "--check-env", env={VAR: TOKEN, SLACK_VAR: "https://h.example/s/t"})
    assert good.returncode == 0, good.stderr
    assert TOKEN not in good.stdout + good.stderr
    assert "environment: every variable the pipelines name is set" in good.stdout


def test_plan_shows_the_blocked_pipeline_in_text_and_json(
    store_cli: Any, state: list[str], tmp_path: Path, server: DatabricksServer
) -> None:
    cli = store_cli
    fleet(tmp_path, server.url)
    text = cli("plan", "--now", NOW, env=without(VAR, SLACK_VAR))
    assert text.returncode == 0, text.stderr
    assert f"dbx: blocked: {MISSING} (pipelines.d/dbx.yaml:6:3)" in text.stdout
    assert f"dbx: warning: environment variable {SLACK_VAR} is not set" in text.stdout

    detailed = cli("plan", "--now", NOW, "--detailed-exitcode", env=without(VAR))
    assert detailed.returncode == 2  # changes; a blocked pipeline does not change it

    markdown = cli("plan", "--now", NOW, "--format", "markdown", env=without(VAR))
    assert f"**dbx**: blocked: {MISSING}" in markdown.stdout

    shown = cli("plan", "--now", NOW, "--format", "json", env=without(VAR, SLACK_VAR))
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert plan_problems(doc) == []
    assert doc["format_version"] == 3
    assert doc["problems"] == [
        {
            "pipeline_id": "dbx",
            "severity": "blocked",
            "file": "pipelines.d/dbx.yaml",
            "line": 6,
            "col": 3,
            "field": "trigger.token_env",
            "variable": VAR,
            "message": MISSING,
        },
        {
            "pipeline_id": "dbx",
            "severity": "warning",
            "file": "pipelines.d/dbx.yaml",
            "line": 14,
            "col": 5,
            "field": "notifications[0].url_env",
            "variable": SLACK_VAR,
            "message": f"environment variable {SLACK_VAR} is not set "
            "(it should hold a Slack webhook URL)",
        },
    ]

    unchecked = cli("plan", "--now", NOW, "--no-check-env", env=without(VAR, SLACK_VAR))
    assert "blocked" not in unchecked.stdout and VAR not in unchecked.stdout

    fine = cli("plan", "--now", NOW, "--format", "json", env={VAR: TOKEN, SLACK_VAR: "x"})
    assert "problems" not in json.loads(fine.stdout)
    assert "blocked" not in cli("plan", "--now", NOW, env={VAR: TOKEN, SLACK_VAR: "x"}).stdout
    assert snapshot(location(tmp_path, state)) == {}  # plan wrote no state


def test_runs_in_flight_wait_for_the_variable_instead_of_failing(
    store_cli: Any, state: list[str], tmp_path: Path, server: DatabricksServer
) -> None:
    cli, where = store_cli, location(tmp_path, state)
    fleet(tmp_path, server.url)
    server.run_seconds = 3.0
    first = cli("apply", "--now", NOW, env={VAR: TOKEN, SLACK_VAR: "x"})  # left running
    assert first.returncode == 0, first.stdout + first.stderr
    assert len(server.created) == 3

    blocked = cli("apply", "--wait", "--now", NOW, env=without(VAR, SLACK_VAR))
    assert blocked.returncode == 1
    assert {s for _, s, _ in runs(where, "dbx")} <= {"pending", "running"}  # not failed

    done = cli("apply", "--wait", "--now", NOW, env={VAR: TOKEN, SLACK_VAR: "x"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert [(s, a) for _, s, a in runs(where, "dbx")] == [("success", 0)] * 3
    assert len(server.created) == 3  # followed, never started again


HOOK = """\
id: hook
platform: http
trigger:
  url: http://127.0.0.1:9/start
  headers_env: PREFLIGHT_HOOK_HEADERS
schedule:
  type: daily
  start: 2026-01-08
"""
MAIL = f"""\
id: mail
platform: local
trigger:
  command: {json.dumps(OK)}
schedule:
  type: daily
  start: 2026-01-08
notifications:
  - channel: email
    smtp_host: 127.0.0.1
    username_env: PREFLIGHT_SMTP_USER
    password_env: PREFLIGHT_SMTP_PASSWORD
    from: a@example.com
    to: [b@example.com]
    on: [failure]
"""
HOOK_MISSING = (
    "pipelines.d/hook.yaml:5:3: pipeline hook: trigger.headers_env: environment variable "
    "PREFLIGHT_HOOK_HEADERS is not set (it should hold a JSON object of headers)"
)
MAIL_MISSING = (
    "pipelines.d/mail.yaml:12:5: pipeline mail: notifications[0].password_env: environment "
    "variable PREFLIGHT_SMTP_PASSWORD is not set (it should hold an SMTP password)"
)


def test_headers_and_smtp_password_variables_are_checked_the_same_way(
    store_cli: Any, state: list[str], tmp_path: Path
) -> None:
    config = tmp_path / "pipelines.d"
    config.mkdir()
    (config / "hook.yaml").write_text(HOOK, encoding="utf-8")
    (config / "mail.yaml").write_text(MAIL, encoding="utf-8")
    env = {
        "PREFLIGHT_SMTP_USER": "u",
        **without("PREFLIGHT_HOOK_HEADERS", "PREFLIGHT_SMTP_PASSWORD"),
    }
    done = store_cli("apply", "--wait", "--now", NOW, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert [line for line in done.stderr.splitlines() if "PREFLIGHT" in line] == [
        f"{HOOK_MISSING}; its runs are not started until it is set",
        f"warning: {MAIL_MISSING}; its notifications are not sent until it is set",
    ]
    assert "Traceback" not in done.stderr
    where = location(tmp_path, state)
    assert runs(where, "hook") == []
    assert [s for _, s, _ in runs(where, "mail")] == ["success"] * 3

    checked = store_cli("validate", "--check-env", env=env)
    assert checked.returncode == 1
    assert checked.stderr.splitlines() == [
        HOOK_MISSING,
        MAIL_MISSING,
        "Error: 2 environment variable(s) missing or empty, named by 2 of 2 pipeline(s)",
    ]
    shown = json.loads(store_cli("plan", "--now", NOW, "--format", "json", env=env).stdout)
    assert [(p["pipeline_id"], p["severity"], p["field"]) for p in shown["problems"]] == [
        ("hook", "blocked", "trigger.headers_env"),
        ("mail", "warning", "notifications[0].password_env"),
    ]
