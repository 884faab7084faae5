"""Helpers for driving ``reconciler validate`` over files written into a temporary directory.

Imported by the tests of this directory as ``validate_support`` (pytest puts the directory
on ``sys.path``); ``conftest.py`` turns ``validate_text`` into a fixture.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
# file:line:col: [field: ]message, as validate prints each problem on stderr
PROBLEM_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<rest>.*)$")

VALID = """\
id: orders
platform: local
trigger:
  command: [python, job.py, "{date}"]
schedule:
  type: daily
  start: 2026-01-01
"""
HEAD_SCHEDULE = "schedule:\n  type: daily\n  start: 2026-01-01\n"


@dataclass(frozen=True)
class Found:
    """One problem line of validate's output."""

    file: str
    line: int
    col: int
    rest: str  # "field: message", or just the message when no field applies

    @property
    def field(self) -> str:
        head, sep, _ = self.rest.partition(": ")
        return head if sep and " " not in head else ""


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    problems: list[Found]


def parse_problems(stderr: str) -> list[Found]:
    found = []
    for line in stderr.splitlines():
        match = PROBLEM_LINE.match(line)
        if match and not line.startswith("Error:"):
            found.append(
                Found(match["file"], int(match["line"]), int(match["col"]), match["rest"].rstrip())
            )
    return found


def run_validate(*args: str, env: dict[str, str] | None = None) -> Outcome:
    """``reconciler validate ARGS`` in process, without GitHub Actions in the environment."""
    runner = CliRunner()
    base = {k: None for k in os.environ if k.startswith(("GITHUB_", "RECONCILER_"))}
    result = runner.invoke(main, ["validate", *args], env={**base, **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr, parse_problems(result.stderr))


def validate_text_factory(tmp_path: Path) -> Callable[[str], tuple[Path, Outcome]]:
    """Write ``text`` to a pipeline file and validate it."""

    def run(text: str, name: str = "pipeline.yaml") -> tuple[Path, Outcome]:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path, run_validate(str(path))

    return run
