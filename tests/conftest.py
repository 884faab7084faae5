"""Shared fixtures: run the ``reconciler`` command as a user would, in a temporary dir."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment of CLI runs: no inherited reconciler settings, no colour."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    env.update({"NO_COLOR": "1", "PYTHONUNBUFFERED": "1"})
    env.pop("GITHUB_ACTIONS", None)
    return env


@pytest.fixture
def cli(tmp_path: Path, cli_env: dict[str, str]) -> Cli:
    """``cli("plan", "--now", ...)`` runs ``python -m reconciler`` with cwd = tmp_path."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "reconciler", *args],
            cwd=cwd or tmp_path,
            env={**cli_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
