"""``status --calendar`` and ``report`` from the command line, as a user drives them.

``render_status_calendar`` (what ``status --calendar`` prints) is tested directly; the
tests of the wired commands drive ``cli.main`` as a user does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from report_support import NOW, write_config, write_state

from reconciler.reconcile.reporting import render_status_calendar

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("status")
    write_config(root / "pipelines.d")
    write_state(root / "state.duckdb")
    return root


def calendar_text(root: Path, *pipelines: str, colour: bool = False) -> str:
    return render_status_calendar(
        root / "pipelines.d", str(root / "state.duckdb"), NOW, pipelines, None, None, colour
    )


def test_every_pipeline_with_its_states(made: Path) -> None:
    text = calendar_text(made)
    assert [line.split()[0] for line in text.splitlines() if line[:1].islower()] == [
        "alpha",
        "beta",
        "gamma",
    ]
    alpha = text[text.index("alpha") : text.index("\nbeta")]
    assert "# 66 covered  L 3 covered late (SLA missed)  ~ 2 in flight  R 1 retrying" in alpha
    assert "X 1 failed  ! 6 gap  . 2 not yet due" in alpha
    assert max(len(line) for line in text.splitlines()) <= 80
    assert not ANSI.search(text)


def test_colour_and_selection(made: Path) -> None:
    text = calendar_text(made, "gamma", colour=True)
    assert ANSI.search(text)
    assert "alpha" not in text and "gamma" in ANSI.sub("", text)
    assert max(len(ANSI.sub("", line)) for line in text.splitlines()) <= 80


def test_missing_state_is_all_gaps(tmp_path: Path) -> None:
    write_config(tmp_path / "pipelines.d")
    text = calendar_text(tmp_path, "beta")
    assert "0.0% of 33 due dates covered" in text
    assert not (tmp_path / "state.duckdb").exists()


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "GITHUB_"))}
    env.update({"NO_COLOR": "1", "RECONCILER_STATE": "state.duckdb"})
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=root,
        env={**env, "RECONCILER_NOW": NOW.isoformat()},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_status_calendar_command(made: Path) -> None:
    done = cli(made, "status", "--calendar", "--pipeline", "alpha", "--from", "2026-03-01")
    assert done.returncode == 0, done.stderr
    expected = render_status_calendar(
        made / "pipelines.d",
        str(made / "state.duckdb"),
        NOW,
        ["alpha"],
        date(2026, 3, 1),
        None,
        False,
    )
    assert done.stdout == expected
    assert "daily, 2026-03-01..2026-03-22," in expected
    bad = cli(made, "status", "--calendar", "--from", "2026-03-02", "--to", "2026-03-01")
    assert bad.returncode == 1 and "is before --from" in bad.stderr
    assert cli(made, "status", "--from", "2026-03-02").returncode == 1
    assert cli(made, "status", "--calendar", "--format", "json").returncode == 1


def test_report_command(made: Path) -> None:
    done = cli(made, "report", "--out", "out/report.html")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote out/report.html: 3 pipeline(s)")
    assert (made / "out" / "report.html").read_text(encoding="utf-8").count(
        '<svg class="calendar"'
    ) == 3
    unknown = cli(made, "report", "--pipeline", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("Error: no pipeline with id 'nope'")
