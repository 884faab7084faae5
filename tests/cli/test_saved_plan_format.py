"""Saved plans are written in format_version 3 (by date ranges); a version 2 file (one
object per run, saved before) is still applied; a version 1 file (saved before plans
knew of dependencies) is refused by ``apply --plan`` with one line saying what to do."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.render.plan_expand import expand_plan
from tests.gitops.helpers import NOW, invoke, pipeline, run_cli


def test_a_format_version_1_plan_is_refused_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "pipelines.d"
    pipeline(config, "orders_daily", "2024-03-29")
    state = tmp_path / ".reconciler" / "state.duckdb"
    out = tmp_path / "plan.json"
    args = ["--config-dir", str(config), "--state", str(state), "--now", NOW]
    saved = invoke(["plan", *args, "--out", str(out)])
    assert saved.exit_code == 0, saved.output
    document = json.loads(out.read_text())
    assert document["format_version"] == 3
    document = expand_plan(document)
    # as version 1 wrote it: no reason, upstream or refresh in waiting, fewer counts
    document["format_version"] = 1
    for key in ("refresh", "waiting"):
        del document["summary"][key]
    out.write_text(json.dumps(document))
    result = run_cli(["apply", *args, "--wait", "--plan", str(out)], cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "format_version 1" in lines[0]
    assert "re-run `reconciler plan --out FILE`" in lines[0]
    assert str(out) in lines[0]
    assert not state.exists()  # refused before anything was written


def test_a_plan_saved_in_format_version_2_is_applied(tmp_path: Path) -> None:
    config = tmp_path / "pipelines.d"
    pipeline(config, "orders_daily", "2024-03-29")
    state = tmp_path / ".reconciler" / "state.duckdb"
    out = tmp_path / "plan.json"
    args = ["--config-dir", str(config), "--state", str(state), "--now", NOW]
    saved = invoke(["plan", *args, "--out", str(out)])
    assert saved.exit_code == 0, saved.output
    document = expand_plan(json.loads(out.read_text()))
    assert document["format_version"] == 2
    assert [a["dates"] for a in document["actions"] if a["kind"] == "backfill"]
    out.write_text(json.dumps(document))
    result = run_cli(["apply", *args, "--wait", "--plan", str(out)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    status = run_cli(["plan", *args, "--format", "json"], cwd=tmp_path)
    assert json.loads(status.stdout)["actions"] == []
