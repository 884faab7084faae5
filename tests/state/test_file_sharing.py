"""Readers and writers of one DuckDB file in one process never clash.

The notification sender writes in its own thread while apply's thread reads (the
local platform's owner rows): DuckDB refuses two connections of different
configurations to one file in one process, so the state module shares them.
"""

from __future__ import annotations

import threading
from pathlib import Path

from reconciler.platforms.local import LocalPlatform
from reconciler.state.connection import reading, transaction


def _hold_transaction(state: str, opened: threading.Event, release: threading.Event) -> None:
    with transaction(state) as conn:
        conn.execute("SELECT 1")
        opened.set()
        release.wait(30)


def test_a_read_while_another_thread_writes_does_not_fail(tmp_path: Path) -> None:
    state = str(tmp_path / "state.duckdb")
    with transaction(state):
        pass  # (the file exists, migrated)
    opened, release = threading.Event(), threading.Event()
    writer = threading.Thread(target=_hold_transaction, args=(state, opened, release))
    writer.start()
    try:
        assert opened.wait(30)
        (tmp_path / "runs").mkdir()
        result = LocalPlatform(tmp_path / "runs", 0.0, state).poll("x", None)
        assert result.state == "not_started"
        with reading(state) as conn:
            assert conn.execute("SELECT count(*) FROM local_runs").fetchone() == (0,)
    finally:
        release.set()
        writer.join(30)


def test_a_write_while_another_thread_reads_waits_for_the_read(tmp_path: Path) -> None:
    state = str(tmp_path / "state.duckdb")
    with transaction(state):
        pass
    opened, release, wrote = threading.Event(), threading.Event(), threading.Event()

    def read() -> None:
        with reading(state) as conn:
            conn.execute("SELECT 1")
            opened.set()
            release.wait(30)

    def write() -> None:
        with transaction(state) as conn:
            conn.execute("DELETE FROM local_runs")
        wrote.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert opened.wait(30)
    writer = threading.Thread(target=write)
    writer.start()
    assert not wrote.wait(0.3)  # waits for the read, instead of failing
    release.set()
    reader.join(30)
    writer.join(30)
    assert wrote.is_set()
