"""``reconciler plan`` driven as a user drives it: config dirs on disk, flags, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.render.plan_expand import expand_plan
from reconciler.render.plan_schema import plan_problems

NOW = "2024-04-01T06:00"
ANSI = re.compile(r"\x1b\[")
# environment variables that would change what plan does, cleared for every run
OURS = ("RECONCILER_", "GITHUB_", "NO_COLOR", "FORCE_COLOR")


def pipeline_yaml(pid: str, start: str = "2024-03-01", extra: str = "", kind: str = "daily") -> str:
    """A pipeline file; ``extra`` lines continue the ``schedule`` block or start new keys."""
    return (
        f"id: {pid}\n"
        "platform: local\n"
        "trigger:\n"
        '  command: [python, -c, "pass", "{date}"]\n'
        "schedule:\n"
        f"  type: {kind}\n"
        f"  start: {start}\n"
        f"{extra}"
    )


def write(
    config: Path, pid: str, start: str = "2024-03-01", extra: str = "", kind: str = "daily"
) -> Path:
    config.mkdir(parents=True, exist_ok=True)
    path = config / f"{pid}.yaml"
    path.write_text(pipeline_yaml(pid, start, extra, kind), encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """``orders`` (daily from 2024-03-01, so at NOW: 1 run, 31 backfill dates)."""
    write(tmp_path / "pipelines.d", "orders")
    return tmp_path / "pipelines.d"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    env.update(extra)
    return env


def run_cli(
    args: list[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed program, as a shell would run it (stdout piped, not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        capture_output=True,
        text=True,
        env=clean_env(**(env or {})),
        cwd=cwd,
        timeout=120,
    )


def invoke(args: list[str], **env: str | None) -> Result:
    cleared: dict[str, str | None] = {k: None for k in os.environ if k.startswith(OURS)}
    cleared.update(env)
    return CliRunner().invoke(main, args, env=cleared, catch_exceptions=False)


def plan_args(config: Path, *more: str, now: str | None = NOW) -> list[str]:
    state = config.parent / "state" / "state.duckdb"
    args = ["plan", "--config-dir", str(config), "--state", str(state)]
    return args + (["--now", now] if now else []) + list(more)


def document(text: str) -> dict[str, Any]:
    """A JSON plan, checked against the published schema, expanded to one object per run."""
    data = json.loads(text)
    assert plan_problems(data) == []
    return expand_plan(data) if data["format_version"] == 3 else dict(data)


# --- end to end, through a real process ----------------------------------------------------


def test_text_plan_end_to_end_creates_nothing(tmp_path: Path) -> None:
    write(tmp_path / "pipelines.d", "orders")
    result = run_cli(["plan", "--now", NOW], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines()[-1] == (
        "Plan: 1 run, 31 backfill dates, 0 retries, 0 gaps, 0 SLA breaches; "
        "config: 1 to create, 0 to update, 0 to delete."
    )
    assert "  + backfill   2024-03-01..2024-03-31 (31 dates)" in result.stdout
    assert not ANSI.search(result.stdout)  # piped: no colour
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipelines.d"]  # no .reconciler/


def test_json_plan_end_to_end_validates(config: Path) -> None:
    result = run_cli(plan_args(config, "--format", "json"))
    assert result.returncode == 0, result.stderr
    data = document(result.stdout)
    assert data["now"] == "2024-04-01T06:00:00+00:00"
    assert data["summary"] == {
        "pipelines": 1,
        "run": 1,
        "retry": 0,
        "backfill": 31,
        "refresh": 0,
        "poll": 0,
        "waiting": 0,
        "gap": 0,
    }
    assert data["config_changes"] == [{"pipeline_id": "orders", "change": "create", "fields": {}}]
    assert [a["kind"] for a in data["actions"]] == ["run"] + ["backfill"] * 31
    assert not (config.parent / "state").exists()


def test_detailed_exitcode_follows_the_state_end_to_end(config: Path) -> None:
    """2 while there is work; after apply syncs a pipeline with nothing due, 0; edits show."""
    write(config, "orders", start="2030-01-01")
    assert run_cli(plan_args(config, "--detailed-exitcode")).returncode == 2  # create
    (config.parent / "state").mkdir()  # (a new state is only created in an existing dir)
    applied = run_cli(["apply", *plan_args(config)[1:]])
    assert applied.returncode == 0, applied.stderr
    state = config.parent / "state" / "state.duckdb"
    before = hashlib.sha256(state.read_bytes()).hexdigest()

    quiet = run_cli(plan_args(config, "--detailed-exitcode"))
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "No changes." in quiet.stdout

    write(config, "orders", start="2030-01-01", extra="retry:\n  max_retries: 5\n")
    changed = run_cli(plan_args(config, "--detailed-exitcode", "--format", "json"))
    assert changed.returncode == 2, changed.stderr
    assert document(changed.stdout)["config_changes"] == [
        {"pipeline_id": "orders", "change": "update", "fields": {"retry.max_retries": [2, 5]}}
    ]
    (config / "orders.yaml").unlink()
    write(config, "other", start="2030-01-01")
    gone = run_cli(plan_args(config, "--format", "json"))
    changes = document(gone.stdout)["config_changes"]
    assert [(c["pipeline_id"], c["change"]) for c in changes] == [
        ("orders", "delete"),
        ("other", "create"),
    ]
    assert hashlib.sha256(state.read_bytes()).hexdigest() == before  # plan never writes


def _on_terminal(args: list[str], **env: str) -> str:
    """Run with stdout on a pseudo-terminal, the way a person at a shell sees it."""
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        stdout=follower,
        stderr=subprocess.PIPE,
        env=clean_env(**env),
    ) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=60) == 0
    os.close(leader)
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_and_none_with_no_color(config: Path) -> None:
    assert ANSI.search(_on_terminal(plan_args(config)))
    assert not ANSI.search(_on_terminal(plan_args(config), NO_COLOR="1"))


# --- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_every_format_exits_0_without_detailed_exitcode(config: Path, fmt: str) -> None:
    result = invoke(plan_args(config, "--format", fmt))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    if fmt == "json":
        document(result.stdout)
    elif fmt == "markdown":
        assert result.stdout.startswith("<!-- reconciler-plan -->")
        assert "| `orders` | 1 | 0 | 31 | 0 | 0 | 0 | 0 |" in result.stdout
        assert "<details><summary><code>orders</code>" in result.stdout
    else:
        assert "orders\n  + run        2024-04-01\n" in result.stdout


def test_plan_saved_with_out_is_the_json_plan(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = invoke(plan_args(config, "--out", str(out)))
    assert result.exit_code == 0, result.output
    assert document(out.read_text(encoding="utf-8"))["summary"]["backfill"] == 31


def test_markdown_is_appended_to_the_github_step_summary(config: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    env = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ACTIONS": "true"}
    result = invoke(plan_args(config, "--format", "markdown"), **env)
    assert result.exit_code == 0, result.output
    written = summary.read_text(encoding="utf-8")
    assert written.startswith("earlier step\n<!-- reconciler-plan -->")
    assert result.stdout in written
    # other formats leave the summary alone
    invoke(plan_args(config, "--format", "text"), **env)
    assert summary.read_text(encoding="utf-8") == written


def test_an_unwritable_step_summary_warns_and_keeps_the_exit_code(
    config: Path, tmp_path: Path
) -> None:
    """The plan is printed either way; --detailed-exitcode still says "changes" (2)."""
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "missing" / "summary.md")}
    result = invoke(plan_args(config, "--format", "markdown", "--detailed-exitcode"), **env)
    assert result.exit_code == 2, result.output
    assert "<!-- reconciler-plan -->" in result.stdout
    assert "warning: cannot append to GITHUB_STEP_SUMMARY" in result.stderr
    assert "Traceback" not in result.output


def test_huge_markdown_is_cut_under_60000_characters(tmp_path: Path) -> None:
    config = tmp_path / "pipelines.d"
    weekly = "  days: [mon, thu]\nbackfill:\n  auto: false\n"
    for i in range(300):
        write(config, f"pipeline_number_{i:03d}", "2023-01-02", weekly, kind="weekly")
    result = invoke(plan_args(config, "--format", "markdown"))
    assert result.exit_code == 0, result.output
    assert len(result.stdout) < 60_000
    assert "> **Cut to fit:** left out" in result.stdout
    assert "**Plan: 300 runs, 0 backfill dates" in result.stdout
    full = document(invoke(plan_args(config, "--format", "json")).stdout)
    assert len(full["gaps"]) == 300  # the JSON plan is never cut


# --- --pipeline ------------------------------------------------------------------------------


def test_pipeline_filter_keeps_only_the_named_pipelines(config: Path) -> None:
    write(config, "events", start="2024-03-30")
    write(config, "clicks", start="2024-03-31")
    result = invoke(
        plan_args(config, "--format", "json", "--pipeline", "events", "--pipeline", "clicks")
    )
    assert result.exit_code == 0, result.output
    data = document(result.stdout)
    assert {a["pipeline_id"] for a in data["actions"]} == {"events", "clicks"}
    assert [c["pipeline_id"] for c in data["config_changes"]] == ["clicks", "events"]
    assert data["summary"]["pipelines"] == 2


def test_unknown_pipeline_is_an_error_not_an_empty_plan(config: Path) -> None:
    result = invoke(plan_args(config, "--pipeline", "nope", "--detailed-exitcode"))
    assert result.exit_code == 1
    assert "'nope'" in result.stderr and "Traceback" not in result.output
    assert result.stdout == ""


# --- --detailed-exitcode ---------------------------------------------------------------------


def test_detailed_exitcode_2_with_changes(config: Path) -> None:
    assert invoke(plan_args(config, "--detailed-exitcode")).exit_code == 2


def test_detailed_exitcode_0_when_there_is_nothing_to_do(tmp_path: Path) -> None:
    empty = tmp_path / "pipelines.d"
    empty.mkdir()
    result = invoke(plan_args(empty, "--detailed-exitcode"))
    assert result.exit_code == 0, result.output
    assert "No changes. Coverage is complete and nothing is due." in result.stdout


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("bad.yaml", "id: Bad\n", "bad.yaml:1:"),
        ("broken.yaml", "id: [unclosed\n", "broken.yaml:"),
        ("orders.yaml", pipeline_yaml("orders").replace("daily", "hourly"), "orders.yaml:6:"),
    ],
    ids=["missing-keys", "yaml-syntax", "bad-value"],
)
def test_detailed_exitcode_1_on_invalid_config(
    config: Path, name: str, text: str, where: str
) -> None:
    (config / name).write_text(text, encoding="utf-8")
    result = invoke(plan_args(config, "--detailed-exitcode"))
    assert result.exit_code == 1
    assert where in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


def test_missing_config_dir_is_exit_1(tmp_path: Path) -> None:
    result = invoke(plan_args(tmp_path / "nowhere", "--detailed-exitcode"))
    assert result.exit_code == 1
    assert "Error:" in result.stderr


# --- --now -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now",
    ["2024-04-01T06:00", "2024-04-01T06:00:00Z", "2024-04-01T08:00+02:00", "2024-04-01 06:00:00"],
)
def test_now_naive_is_utc_and_offsets_are_honoured(config: Path, now: str) -> None:
    data = document(invoke(plan_args(config, "--format", "json", now=now)).stdout)
    assert data["now"] == "2024-04-01T06:00:00+00:00"
    assert data["summary"]["backfill"] == 31


def test_now_from_the_environment(config: Path) -> None:
    result = invoke(plan_args(config, "--format", "json", now=None), RECONCILER_NOW="2024-03-05")
    data = document(result.stdout)
    assert data["now"] == "2024-03-05T00:00:00+00:00"
    assert data["summary"]["run"] == 1 and data["summary"]["backfill"] == 4


def test_now_just_before_a_date_is_due(config: Path) -> None:
    data = document(invoke(plan_args(config, "--format", "json", now="2024-03-01T23:59:59")).stdout)
    assert [a["dates"] for a in data["actions"]] == [["2024-03-01"]]
    data = document(invoke(plan_args(config, "--format", "json", now="2024-02-29T23:59:59")).stdout)
    assert data["actions"] == []


@pytest.mark.parametrize("now", ["yesterday", "2024-13-01", "2024-04-01T25:00"])
def test_bad_now_is_a_clear_error(config: Path, now: str) -> None:
    result = run_cli(plan_args(config, "--detailed-exitcode", now=now))
    assert result.returncode in (1, 2)
    assert "--now" in result.stderr and "ISO-8601" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_json_v2_and_v1_write_the_expanded_form_of_the_json_plan(config: Path) -> None:
    ranges = json.loads(invoke(plan_args(config, "--format", "json")).stdout)
    assert ranges["format_version"] == 3
    v2 = invoke(plan_args(config, "--format", "json-v2"))
    v1 = invoke(plan_args(config, "--format", "json-v1"))
    assert v2.exit_code == v1.exit_code == 0, v2.output
    assert v1.stdout == v2.stdout  # json-v1 is an alias: the same bytes
    expanded = json.loads(v2.stdout)
    assert plan_problems(expanded) == []
    assert expanded["format_version"] == 2
    assert expanded == expand_plan(ranges)
    assert [len(a["dates"]) for a in expanded["actions"]] == [1] * 32
