"""What CLI tests that run on both state stores (the ``state`` and ``store_cli`` fixtures
of tests/conftest.py) look at: where the state is, its rows, and a refusal's output."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

Cli = Callable[..., subprocess.CompletedProcess[str]]


def location(tmp_path: Path, state: list[str]) -> str:
    """Where the test's state lives: the PostgreSQL URL, or the default DuckDB file."""
    return state[1] if state else str(tmp_path / ".reconciler" / "state.duckdb")


def snapshot(where: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted (``{}`` when the state has no tables, or no file).

    Left out: the lock table and ``local_runs``, whose leases the supervisor of a run in
    flight renews on its own.
    """
    from reconciler.state.connection import reading
    from reconciler.state.summary import state_tables

    if "://" not in where and not Path(where).exists():
        return {}
    out: dict[str, list[tuple[Any, ...]]] = {}
    with reading(where) as conn:
        for table in state_tables(conn):
            if table not in ("locks", "local_runs"):
                rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
                out[table] = sorted((tuple(r) for r in rows), key=repr)
    return out


def refused(done: subprocess.CompletedProcess[str], *lines: str) -> None:
    """Exit 1, no traceback, nothing on stdout, and exactly ``lines`` on stderr."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stdout == "", done.stdout
    assert done.stderr.splitlines() == list(lines), done.stderr
