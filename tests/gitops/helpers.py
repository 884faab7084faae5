"""Shared by the GitOps tests: pipeline files, the CLI in-process, state made cheaply."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.render.plan_schema import plan_problems

NOW = "2024-04-01T06:00"
OURS = ("RECONCILER_", "GITHUB_", "NO_COLOR", "FORCE_COLOR")
COMMAND = '  command: [python, -c, "pass", "{date}"]\n'


def pipeline(
    config: Path, pid: str, start: str = "2024-01-01", extra: str = "", schedule: str = ""
) -> Path:
    """A local daily pipeline file; ``schedule`` continues the schedule block, ``extra``
    adds top-level sections."""
    config.mkdir(parents=True, exist_ok=True)
    path = config / f"{pid}.yaml"
    path.write_text(
        f"id: {pid}\nplatform: local\ntrigger:\n{COMMAND}"
        f"schedule:\n  type: daily\n  start: {start}\n{schedule}{extra}",
        encoding="utf-8",
    )
    return path


def invoke(args: list[str], **env: str | None) -> Result:
    """The CLI in this process (fast), with no inherited reconciler or GitHub settings."""
    cleared: dict[str, str | None] = {k: None for k in os.environ if k.startswith(OURS)}
    cleared.update(env)
    return CliRunner().invoke(main, args, env=cleared, catch_exceptions=False)


def run_cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI as its own process, as a workflow step runs it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        cwd=cwd,
        timeout=120,
    )


def document(text: str) -> dict[str, Any]:
    """A JSON plan, checked against the published schema."""
    data = json.loads(text)
    assert plan_problems(data) == []
    return dict(data)


def import_rows(config: Path, state: Path, rows: list[tuple[str, str, str]], end: str) -> None:
    """Adopt history (pipeline, date, success/failed) ending at ``end``, via import-history."""
    csv = state.parent / "history.csv"
    state.parent.mkdir(parents=True, exist_ok=True)
    lines = ["pipeline_id,run_date,status,start_time,end_time"]
    lines += [f"{p},{d},{s},{end},{end}" for p, d, s in rows]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke(
        [
            "import-history",
            str(csv),
            "--config-dir",
            str(config),
            "--state",
            str(state),
            "--now",
            NOW,
        ]
    )
    assert result.exit_code == 0, result.output


def days(first: str, count: int) -> list[str]:
    from datetime import date, timedelta

    start = date.fromisoformat(first)
    return [(start + timedelta(days=i)).isoformat() for i in range(count)]
