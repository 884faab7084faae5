"""Pausing a pipeline with a run in flight, then resuming it with a date excluded, driven
through the CLI against any state (a DuckDB file or a PostgreSQL URL)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

Cli = Callable[..., subprocess.CompletedProcess[str]]
FIRST = "2026-01-10T06:00:00"  # the pipeline starts 2026-01-10: one date due
LATER = "2026-01-12T06:00:00"  # 01-11 and 01-12 due as well
# sleeps, then appends ``{dates}`` to $LEDGER: still running when the next apply starts
SLOW = (
    "import sys, os, time; time.sleep(2); "
    "open(os.environ['LEDGER'], 'a').write(sys.argv[1] + chr(10))"
)


def _write(config_dir: Path, **extra: Any) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "id": "p",
        "platform": "local",
        "trigger": {"command": [sys.executable, "-c", SLOW, "{dates}"]},
        "schedule": {"type": "daily", "start": "2026-01-10"},
        **extra,
    }
    (config_dir / "p.yaml").write_text(json.dumps(data, indent=2), encoding="utf-8")


def _ledger(path: Path) -> Counter[str]:
    if not path.exists():
        return Counter()
    return Counter(line for line in path.read_text().splitlines() if line)


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode in (0, 2), done.stdout + done.stderr
    return done


def pause_then_resume(tmp_path: Path, cli: Cli, state: list[str]) -> None:
    """``state``: the ``--state`` arguments (empty for the default DuckDB file)."""
    config = tmp_path / "pipelines.d"
    ledger = tmp_path / "ledger.txt"
    env = {"LEDGER": str(ledger)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return _ok(cli(*args, *state, env=env))

    _write(config)
    run("apply", "--now", FIRST)  # starts 01-10, returns while it runs
    _write(config, pause=True, pause_reason="warehouse migration")

    text = run("plan", "--now", LATER).stdout
    assert "p  (paused: warehouse migration; apply starts none of its runs)" in text
    assert "[priority 0; paused]" in text and "1 paused pipeline" in text
    plan = json.loads(run("plan", "--now", LATER, "--format", "json-v2").stdout)
    assert plan["paused"] == [{"pipeline_id": "p", "reason": "warehouse migration"}]
    assert {(a["kind"], tuple(a["dates"])) for a in plan["actions"]} == {
        ("poll", ("2026-01-10",)),
        ("run", ("2026-01-12",)),
        ("backfill", ("2026-01-11",)),
    }

    paused = run("apply", "--wait", "--now", LATER)
    assert "skipped: p: paused (warehouse migration)" in paused.stdout
    assert "0 run(s) started" in paused.stdout, paused.stdout
    assert "2 date(s) due (2 of them paused)" in paused.stdout, paused.stdout
    # the run in flight was followed to its end and recorded; nothing else started
    assert _ledger(ledger) == {"2026-01-10": 1}
    status = json.loads(run("status", "--now", LATER, "--format", "json").stdout)
    row = status["pipelines"][0]
    assert (row["covered"], row["missing"], row["paused"]) == (1, 2, True)
    table = run("status", "--now", LATER).stdout.splitlines()
    assert table[0].split()[:5] == ["pipeline", "coverage", "due", "missing", "excluded"]
    assert table[1].startswith("p ") and table[1].endswith("  paused")

    # resumed with 01-11 excluded: exactly what the plan shows starts, nothing more
    _write(config, exclude=[{"date": "2026-01-11", "reason": "source outage"}])
    plan = json.loads(run("plan", "--now", LATER, "--format", "json-v2").stdout)
    assert "paused" not in plan
    assert plan["excluded"] == [{"pipeline_id": "p", "dates": 1}]
    assert [(a["kind"], a["dates"]) for a in plan["actions"]] == [("run", ["2026-01-12"])]
    run("apply", "--wait", "--now", LATER)
    assert _ledger(ledger) == {"2026-01-10": 1, "2026-01-12": 1}
    status = json.loads(run("status", "--now", LATER, "--format", "json").stdout)
    row = status["pipelines"][0]
    assert (row["covered"], row["missing"], row["excluded"], row["paused"]) == (2, 0, 1, False)
    assert row["coverage_pct"] == 100.0
    again = cli("plan", "--now", LATER, "--detailed-exitcode", *state, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
