"""The closing ``Applied:`` line of ``reconciler apply`` describes the state after the
pass (what a ``plan`` right after it shows), not the plan the pass started from."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from apply_helpers import ledger_command, write_pipeline

NOW = "2026-01-10T06:00:00"
FAIL = [sys.executable, "-c", "raise SystemExit(3)", "{date}"]


def _after(stdout: str) -> tuple[int, int, int]:
    found = re.search(
        r"after it: (\d+) gap date\(s\), (\d+) date\(s\) waiting for a retry, "
        r"(\d+) date\(s\) due",
        stdout,
    )
    assert found, stdout
    gap, waiting, due = found.groups()
    return int(gap), int(waiting), int(due)


def _plan_counts(cli, env: dict[str, str]) -> tuple[int, int, int]:
    done = cli("plan", "--now", NOW, "--format", "json-v2", env=env)
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    waiting = sum(len(w["dates"]) for w in plan["waiting"])
    due = sum(len(a["dates"]) for a in plan["actions"] if a["kind"] != "poll")
    return plan["summary"]["gap"], waiting, due


def test_summary_counts_the_failures_of_the_pass(tmp_path: Path, cli) -> None:
    config = tmp_path / "pipelines.d"
    # fails every time: its dates wait for a retry five minutes later
    write_pipeline(
        config,
        "flaky",
        FAIL,
        schedule={"start": "2026-01-07"},
        retry={"schedule": "every 5 minutes", "max_retries": 2},
    )
    # fails without retries: its dates end as gaps
    write_pipeline(config, "once", FAIL, schedule={"start": "2026-01-08"}, retry={"enabled": False})
    write_pipeline(config, "fine", ledger_command(), schedule={"start": "2026-01-09"})
    env = {"LEDGER": str(tmp_path / "ledger.txt")}
    done = cli("apply", "--wait", "--now", NOW, env=env)
    assert done.returncode == 0, done.stderr
    assert "7 failed" in done.stdout, done.stdout
    assert _after(done.stdout) == (3, 4, 0)
    assert _after(done.stdout) == _plan_counts(cli, env)


def test_summary_of_a_pass_that_leaves_runs_in_flight(tmp_path: Path, cli) -> None:
    """Without --wait the dates started are in flight: neither due nor gaps."""
    config = tmp_path / "pipelines.d"
    slow = [sys.executable, "-c", "import time; time.sleep(3)", "{date}"]
    write_pipeline(config, "slow", slow, schedule={"start": "2026-01-09"})
    done = cli("apply", "--now", NOW)
    assert done.returncode == 0, done.stderr
    assert _after(done.stdout) == (0, 0, 0)
    # (a second pass adopts them; the run directories are left to the test's tmp_path)


def test_summary_after_one_pipeline_ended_while_another_is_in_flight(tmp_path: Path, cli) -> None:
    """A pass whose runs partly ended plans again the pipelines it touched: the one still
    running counts neither as due nor as a gap."""
    config = tmp_path / "pipelines.d"
    slow = [sys.executable, "-c", "import time; time.sleep(4)", "{date}"]
    write_pipeline(config, "once", FAIL, schedule={"start": "2026-01-10"}, retry={"enabled": False})
    write_pipeline(config, "slow", slow, schedule={"start": "2026-01-10"})
    done = cli("apply", "--now", NOW, "--max-parallel", "1")
    assert done.returncode == 0, done.stderr
    assert "1 failed" in done.stdout and "1 still running" in done.stdout, done.stdout
    assert _after(done.stdout) == (1, 0, 0)
    assert _after(done.stdout) == _plan_counts(cli, {})
