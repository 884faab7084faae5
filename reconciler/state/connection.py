"""Opening the DuckDB file: per-transaction connections, waiting out other writers, migrations.

DuckDB lets one process hold a file for writing and nobody else open it meanwhile.
So every user of the store (``apply`` included) holds the file only for one
transaction, and opening retries for a while when another process holds it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from reconciler import __version__
from reconciler.errors import StateError
from reconciler.state.dialects import dialect_of
from reconciler.state.file_sharing import sharing
from reconciler.state.location import announce_new, check_new_file, is_postgres
from reconciler.state.private_files import make_state_dir, narrow
from reconciler.state.schema import MIGRATIONS, SCHEMA_VERSION, check_not_newer, check_readable

Connection = Any  # duckdb.DuckDBPyConnection; kept loose for mypy across duckdb versions
LOCKED_MARKERS = ("Could not set lock", "Conflicting lock", "lock on file")
DEFAULT_WAIT = 60.0
WAL_THRESHOLD = "1MB"


def quiet(conn: Connection) -> Connection:
    """``conn`` without DuckDB's progress bar, which it draws on stdout for any query
    over two seconds, terminal or not: it would land inside ``plan --format json`` and
    every piped output. (A connection setting: it cannot be given at connect.)"""
    conn.execute("SET enable_progress_bar = false")
    return conn


def _is_locked(exc: Exception) -> bool:
    return any(marker in str(exc) for marker in LOCKED_MARKERS)


def connect(path: str, *, read_only: bool, wait: float = DEFAULT_WAIT) -> Connection:
    """Open the file, retrying while another process holds it (up to ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    delay = 0.01
    while True:
        try:
            if read_only:
                return quiet(duckdb.connect(path, read_only=True))
            # no checkpoint on every close (a pass closes the file after each transaction);
            # a small WAL threshold keeps the log short, so that opening stays cheap
            conn = quiet(duckdb.connect(path, config={"checkpoint_threshold": WAL_THRESHOLD}))
            conn.execute("PRAGMA disable_checkpoint_on_shutdown")
            return conn
        except duckdb.Error as exc:
            if _is_locked(exc) and time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
                continue
            if _is_locked(exc):
                raise StateError(
                    f"state file {path} stayed busy for {wait:.0f}s (another reconciler is "
                    "writing to it)"
                ) from exc
            raise StateError(f"cannot open state file {path}: {_first_line(exc)}") from exc


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def exists(location: str) -> bool:
    """Whether there may be a state to read (a PostgreSQL state always may)."""
    return is_postgres(location) or Path(location).exists()


def current_version(conn: Connection) -> int | None:
    """The schema version of an open file; None for an empty file."""
    if dialect_of(conn).name == "postgres":
        from reconciler.state import postgres

        return postgres.current_version(conn)
    try:
        row = conn.execute("SELECT max(version) FROM main.schema_version").fetchone()
    except duckdb.CatalogException:
        row = None
    else:
        return int(row[0]) if row and row[0] is not None else 0
    tables = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND database_name = "
        "current_database()"
    ).fetchone()
    if not tables or not tables[0]:
        return None
    raise StateError(
        "this DuckDB file is not a reconciler state (no schema_version table); "
        "point --state at a new path or at a state made by reconciler"
    )


def migrate(conn: Connection, path: str) -> int:
    """Apply pending migrations in order, each in its own transaction; returns the version."""
    version = current_version(conn) or 0
    check_not_newer(version, f"state file {path}")
    for number in range(version + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN TRANSACTION")
        try:
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)",
                [number, datetime.now(UTC).replace(tzinfo=None), __version__],
            )
            conn.execute("COMMIT")
        except duckdb.Error as exc:
            conn.execute("ROLLBACK")
            raise StateError(f"migrating {path} to version {number} failed: {exc}") from exc
    return SCHEMA_VERSION


def check_file(path: str) -> None:
    """Refuse files that are not DuckDB databases before DuckDB tries to open them.

    A URL of another kind is refused too: taken for a path, it would become
    directories named after its user and password.
    """
    scheme, sep, _ = path.partition("://")
    if sep and scheme and "/" not in scheme:
        raise StateError(
            f"--state: a {scheme}:// URL is not a supported state; use a DuckDB file path "
            "or a postgresql:// URL"
        )
    p = Path(path)
    if p.is_dir():
        raise StateError(f"state path {path} is a directory; expected a DuckDB file")
    if p.exists() and p.stat().st_size > 0:
        with p.open("rb") as handle:
            head = handle.read(16)
        if len(head) >= 12 and head[8:12] != b"DUCK":
            raise StateError(
                f"state file {path} is not a DuckDB database (corrupt, or another kind of file)"
            )


@contextmanager
def transaction(
    path: str, *, wait: float = DEFAULT_WAIT, checkpoint: bool = False
) -> Iterator[Connection]:
    """A read-write transaction; the file is released when it ends.

    ``checkpoint`` folds the write-ahead log into the file after the commit (the end
    of a pass), so that readers open a compact file. A PostgreSQL URL opens a pooled
    connection instead (see ``reconciler.state.postgres``).
    """
    if is_postgres(path):
        from reconciler.state import postgres

        with postgres.transaction(path) as pg:
            yield pg
        return
    check_file(path)
    if not os.path.exists(path):
        if check_new_file(path):
            parent = os.path.dirname(os.path.abspath(path))
            try:
                make_state_dir(parent)
            except OSError as exc:
                raise StateError(
                    f"cannot create the state directory {parent}: {exc.strerror}"
                ) from exc
        announce_new(path)
    with sharing(path, read_only=False, wait=wait):
        yield from _transaction(path, wait, checkpoint)


def _transaction(path: str, wait: float, checkpoint: bool) -> Iterator[Connection]:
    conn = connect(path, read_only=False, wait=wait)
    try:
        narrow(path)
        migrate(conn, path)
        conn.execute("BEGIN TRANSACTION")
        try:
            yield conn
        except BaseException:
            # (the transaction may be gone already; the original error matters)
            with suppress(duckdb.Error):
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        narrow(path)  # (the commit may have made a new write-ahead log)
        if checkpoint:
            conn.execute("CHECKPOINT")
    except duckdb.Error as exc:
        raise StateError(f"state file {path}: {_first_line(exc)}") from exc
    finally:
        conn.close()


@contextmanager
def reading(path: str, *, wait: float = DEFAULT_WAIT) -> Iterator[Connection]:
    """A read-only view of an existing file, at the current schema version."""
    if is_postgres(path):
        from reconciler.state import postgres

        with postgres.reading(path) as pg:
            yield pg
        return
    with reading_file(path, wait=wait) as (conn, _):
        yield conn


@contextmanager
def reading_file(
    path: str, *, wait: float = DEFAULT_WAIT
) -> Iterator[tuple[Connection, int | None]]:
    """A read-only view of an existing DuckDB file, and its schema version (None: an
    empty file); an older or newer schema is refused."""
    check_file(path)
    with sharing(path, read_only=True, wait=wait) as read_only:
        # (read-write while this process writes to the file: see file_sharing)
        conn = connect(path, read_only=read_only, wait=wait)
        try:
            version = current_version(conn)
            check_readable(version, f"state file {path}")
            yield conn, version
        except duckdb.Error as exc:
            raise StateError(f"state file {path}: {_first_line(exc)}") from exc
        finally:
            conn.close()


def checkpoint(path: str) -> None:
    """Fold the write-ahead log into the file (end of a pass)."""
    if is_postgres(path):
        return  # (the server checkpoints on its own)
    check_file(path)
    with sharing(path, read_only=False, wait=DEFAULT_WAIT):
        conn = connect(path, read_only=False)
        try:
            conn.execute("CHECKPOINT")
        except duckdb.Error as exc:
            raise StateError(f"state file {path}: {_first_line(exc)}") from exc
        finally:
            conn.close()


def utc(value: datetime | None) -> datetime | None:
    """DuckDB TIMESTAMPs are naive UTC; make them aware."""
    return None if value is None else value.replace(tzinfo=UTC)


def naive(value: datetime | None) -> datetime | None:
    """Aware -> naive UTC for storing."""
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)
