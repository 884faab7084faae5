"""``--state`` as a user types it: URLs recognised or refused in one line, a new state
only in an existing directory (and said), an empty config dir planned honestly."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

NOW = "2026-01-03T06:00:00"


def _pipeline(config_dir: Path, pid: str) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "id": pid,
        "platform": "local",
        "trigger": {"command": [sys.executable, "-c", "pass"]},
        "schedule": {"type": "daily", "start": "2026-01-01"},
    }
    (config_dir / f"{pid}.yaml").write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("postgresql://[::1", "not a valid URL: Invalid IPv6 URL"),
        ("PostgreSQL://[::1", "not a valid URL: Invalid IPv6 URL"),
        ("postgresql://me:s3cret@db:abc/x", "not a valid URL: Port could not be cast"),
        ("mysql://me:s3cret@db/x", "unsupported scheme mysql://"),
        ("duckdb://state.duckdb", "unsupported scheme duckdb://"),
        ("postgresql://", "the URL has no host and no database name; write postgresql://"),
        ("postgres://me:s3cret@db", "the URL has no database name"),
        ("postgresql://me:s3cret@db/?sslmode=disable", "the URL has no database name"),
        ("postgresql:///x", "the URL has no host; write"),
    ],
)
@pytest.mark.parametrize("command", ["plan", "apply", "status"])
def test_foreign_or_malformed_state_urls_are_one_line_errors(
    tmp_path: Path, cli, command: str, state: str, expected: str
) -> None:
    _pipeline(tmp_path / "pipelines.d", "daily")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli(command, "--now", NOW, "--state", state)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --state "), result.stderr
    assert expected in lines[0] and "internal error" not in lines[0]
    assert "s3cret" not in result.stderr
    # never taken for a file name: nothing was created
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_new_state_in_a_missing_directory_is_refused_not_created(tmp_path: Path, cli) -> None:
    _pipeline(tmp_path / "pipelines.d", "daily")
    state = tmp_path / "no" / "such" / "dir" / "s.duckdb"
    for command in (
        ["apply", "--now", NOW],
        ["backfill", "daily", "--from", "2026-01-01", "--to", "2026-01-02"],
    ):
        result = cli(*command, "--state", str(state))
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stderr.strip() == (
            f"Error: state file {state}: its directory {state.parent} does not exist; create "
            "it first, or fix --state (a new state is only created in an existing directory)"
        )
        assert not (tmp_path / "no").exists()
    # reading commands create nothing either: a missing state reads as an empty one
    plan = cli("plan", "--now", NOW, "--state", str(state), "--format", "json")
    assert plan.returncode == 0 and '"run"' in plan.stdout, plan.stdout + plan.stderr
    assert not (tmp_path / "no").exists()


def test_the_default_state_directory_is_created_and_the_new_state_said(tmp_path: Path, cli) -> None:
    _pipeline(tmp_path / "pipelines.d", "daily")
    first = cli("apply", "--wait", "--now", NOW)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "creating a new state at .reconciler/state.duckdb" in first.stderr
    assert (tmp_path / ".reconciler" / "state.duckdb").is_file()
    again = cli("apply", "--wait", "--now", NOW)
    assert again.returncode == 0 and "creating a new state" not in again.stderr, again.stderr
    status = cli("status", "--now", NOW)
    assert status.returncode == 0 and "daily" in status.stdout, status.stdout + status.stderr


def test_a_new_state_in_an_existing_directory_is_said(tmp_path: Path, cli) -> None:
    _pipeline(tmp_path / "pipelines.d", "daily")
    (tmp_path / "states").mkdir()
    result = cli("apply", "--now", NOW, "--state", "states/s.duckdb")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "creating a new state at states/s.duckdb" in result.stderr


def test_plan_on_an_empty_config_dir_shows_the_deletions_and_the_refusal(
    tmp_path: Path, cli
) -> None:
    for pid in ("a", "b"):
        _pipeline(tmp_path / "pipelines.d", pid)
    assert cli("apply", "--wait", "--now", NOW).returncode == 0
    (tmp_path / "empty").mkdir()
    refusal = (
        "apply will refuse this plan: no pipeline files found in empty, which would delete "
        "all 2 pipelines; check --config-dir, or pass `apply --allow-empty` to do it"
    )
    text = cli("plan", "--now", NOW, "--config-dir", "empty", "--detailed-exitcode")
    assert text.returncode == 2, text.stdout + text.stderr
    assert "No changes" not in text.stdout
    assert "- a (delete" in text.stdout and "- b (delete" in text.stdout, text.stdout
    assert "0 to update, 2 to delete." in text.stdout
    assert f"Warning: {refusal}" in text.stdout
    doc = cli("plan", "--now", NOW, "--config-dir", "empty", "--format", "json")
    assert doc.returncode == 0, doc.stderr
    changes = json.loads(doc.stdout)["config_changes"]
    assert sorted((c["pipeline_id"], c["change"]) for c in changes) == [
        ("a", "delete"),
        ("b", "delete"),
    ], changes
    assert doc.stderr.strip() == f"warning: {refusal}"
    markdown = cli("plan", "--now", NOW, "--config-dir", "empty", "--format", "markdown")
    assert f"> **Warning:** {refusal}" in markdown.stdout
    # and apply does refuse, as the plan said
    refused = cli("apply", "--now", NOW, "--config-dir", "empty")
    assert refused.returncode == 1 and "would delete all 2 pipelines" in refused.stderr
    # a dir with pipelines plans no refusal
    plain = cli("plan", "--now", NOW)
    assert "apply will refuse" not in plain.stdout + plain.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("history", "daily"),
        ("backfill", "daily", "--from", "2026-01-01", "--to", "2026-01-02"),
    ],
)
def test_every_command_refuses_a_foreign_url_without_a_trace(
    tmp_path: Path, cli, command: tuple[str, ...]
) -> None:
    """Taken for a DuckDB path, ``mysql://user:password@host/db`` would become directories
    named after the user and password in the working directory."""
    _pipeline(tmp_path / "pipelines.d", "daily")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli(*command, "--state", "mysql://app:s3cretpw@db/x")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "unsupported scheme mysql://" in result.stderr
    assert "s3cretpw" not in result.stdout + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    "url",
    ["postgresql:///x?host=/var/run/postgresql", "postgres://h/?dbname=y", "postgresql://h/d"],
)
def test_a_host_and_database_given_as_parameters_are_enough(url: str) -> None:
    from reconciler.state.location import normalise

    assert normalise(url).startswith("postgresql://")
