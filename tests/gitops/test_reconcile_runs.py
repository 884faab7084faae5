"""The scheduled workflow (``reconcile.yml``) on ephemeral runners: its shell steps and
the composite action's command step, run as the runner would in consecutive jobs, each
on a fresh clone, with a bare repository as ``origin`` holding the state branch. The
demo it applies must converge: what one job's local runs wrote (``examples/data``,
gitignored) is what the next job's aggregates read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "reconcile.yml"


def _git(*args: str, cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


def _origin(tmp_path: Path, env: dict[str, str]) -> Path:
    """A bare repository holding the demo as a checkout sees it (no examples/data)."""
    source = tmp_path / "source"
    source.mkdir()
    shutil.copytree(ROOT / "pipelines.d", source / "pipelines.d")
    shutil.copytree(ROOT / "examples" / "jobs", source / "examples" / "jobs")
    shutil.copy(ROOT / ".gitignore", source / ".gitignore")
    (source / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(WORKFLOW, source / ".github" / "workflows" / "reconcile.yml")
    _git("init", "--quiet", "--initial-branch=main", cwd=source, env=env)
    _git("add", "--all", cwd=source, env=env)
    _git("commit", "--quiet", "-m", "demo", cwd=source, env=env)
    origin = tmp_path / "origin.git"
    _git("clone", "--quiet", "--bare", str(source), str(origin), cwd=tmp_path, env=env)
    return origin


def _environment(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "reconciler"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m reconciler "$@"\n')
    shim.chmod(0o755)
    (bindir / "python").symlink_to(sys.executable)  # the demo's commands run `python`
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "GITHUB_"))}
    env.update(
        HOME=str(home),  # the restore step writes `git config --global`
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="test",
        GIT_COMMITTER_EMAIL="test@example.com",
        PATH=f"{bindir}{os.pathsep}{env['PATH']}",
        RECONCILER_CACHE_DIR=str(tmp_path / "cache"),
        NO_COLOR="1",
    )
    return env


def _bash(script: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _job(
    flow: dict[str, Any], origin: Path, clone: Path, env: dict[str, str], now: str, run_id: int
) -> str:
    """One job of the workflow on a fresh clone: restore, apply (the action), save."""
    _git("clone", "--quiet", "--depth=1", f"file://{origin}", str(clone), cwd=clone.parent, env=env)
    steps = {s.get("name", ""): s for s in flow["jobs"]["reconcile"]["steps"]}
    job_env = {**env, **{k: str(v) for k, v in flow["env"].items()}}
    job_env.update(GITHUB_RUN_ID=str(run_id), RECONCILER_NOW=now)
    output = _bash(steps["Restore the state from the state branch"]["run"], clone, job_env)
    apply = steps["Apply"]
    assert apply["uses"] == "./"
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    command = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    inputs.update({k: str(v) for k, v in apply["with"].items()})
    inputs["state"] = job_env["STATE"]  # (`${{ env.STATE }}` in the workflow)
    (clone / "github_output").write_text("")
    action_env = {
        **job_env,
        "GITHUB_OUTPUT": str(clone / "github_output"),
        **{f"INPUT_{k.upper().replace('-', '_')}": v for k, v in inputs.items()},
    }
    output += _bash(command["run"], clone, action_env)
    save = steps["Save the state to the state branch"]["run"]
    return output + _bash(save, clone, job_env)


def test_the_demo_converges_over_jobs_on_fresh_runners(tmp_path: Path) -> None:
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    env = _environment(tmp_path)
    origin = _origin(tmp_path, env)
    # two days apart: the second job's weekly summaries read orders the first one wrote
    _job(flow, origin, tmp_path / "run1", env, "2026-02-10T06:00:00Z", 1)
    second = _job(flow, origin, tmp_path / "run2", env, "2026-02-12T06:00:00Z", 2)
    assert "Applied:" in second
    # the aggregates that raced the orders of the second job are retried a minute later
    last = tmp_path / "run3"
    _job(flow, origin, last, env, "2026-02-12T06:20:00Z", 3)
    state = flow["env"]["STATE"]
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "status", "--format", "json", "--state", state],
        cwd=last,
        env={**env, "RECONCILER_NOW": "2026-02-12T06:30:00Z"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = {row["pipeline_id"]: row for row in json.loads(done.stdout)["pipelines"]}
    for pid in ("orders_daily", "orders_weekly_summary", "month_end_report"):
        assert rows[pid]["failed"] == 0 and rows[pid]["missing"] == 0, rows[pid]
