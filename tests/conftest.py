"""Shared fixtures: run the ``reconciler`` command as a user would, in a temporary dir."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# the PostgreSQL fixtures, for ``state`` below (tests/state_pg/conftest.py says how)
from tests.state_pg.conftest import pg_server, pg_url  # noqa: F401

Cli = Callable[..., subprocess.CompletedProcess[str]]

# The config cache of every test process and every command it starts lives in one
# temporary dir: harnesses that drop RECONCILER_* variables still inherit XDG_CACHE_HOME,
# so nothing is written to the user's ~/.cache.
_CACHE_HOME = tempfile.mkdtemp(prefix="reconciler-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE_HOME
atexit.register(shutil.rmtree, _CACHE_HOME, ignore_errors=True)


@pytest.fixture(autouse=True, scope="session")
def _config_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """In-process loads cache into a temporary dir, never the user's ~/.cache."""
    os.environ["RECONCILER_CACHE_DIR"] = str(tmp_path_factory.mktemp("config-cache"))


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment of CLI runs: no inherited reconciler settings, no colour, and
    the config cache in the test's own directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    env.update({"NO_COLOR": "1", "PYTHONUNBUFFERED": "1"})
    env["RECONCILER_CACHE_DIR"] = str(tmp_path / ".reconciler-cache")
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


@pytest.fixture(params=["duckdb", "postgresql"])
def state(request: pytest.FixtureRequest) -> list[str]:
    """A test that takes ``state`` runs twice: on the default DuckDB file (no arguments)
    and on a fresh PostgreSQL schema (``--state URL``; skipped without a server, outside
    CI). ``state`` is the ``--state`` arguments to pass."""
    if request.param == "duckdb":
        return []
    return ["--state", request.getfixturevalue("pg_url")]


@pytest.fixture
def store_cli(cli: Cli, state: list[str]) -> Cli:
    """``cli`` with the test's ``--state`` after every command's own arguments."""

    def run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return cli(*args, *state, **kwargs)

    return run
