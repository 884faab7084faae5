"""Opening a PostgreSQL state: pooled connections, DuckDB-style SQL, migrations under a lock.

The state modules write their SQL once, with ``?`` placeholders and list parameters
cast to arrays (``unnest(?::VARCHAR[])``), which both engines understand; the few
statements that differ ask the connection's dialect (``dialects.PostgresDialect``).
Every write transaction takes a transaction-scoped advisory lock of its schema, so the
read-modify-write steps of the store (coverage ranges, intents, claims) see one writer
at a time, as on a DuckDB file; runners still work in parallel between transactions.
Reads take a read-only snapshot and no lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from reconciler import __version__
from reconciler.errors import StateError, StateUnavailable
from reconciler.state.dialects import POSTGRES
from reconciler.state.location import normalise, redact
from reconciler.state.pg_outage import Backoff, is_outage, never_answered, reached

LEASE = timedelta(minutes=1)  # runners' claims; renewed well within it
POOL_SIZE = 4
# a peer that vanished without a word (a cut network) is noticed within about 30 s
_KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    "tcp_user_timeout": "30000",
}
_IDLE_LIMIT = "SET idle_in_transaction_session_timeout = '30s'"
_WRITE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('reconciler-write:' || current_schema()))"
_MIGRATE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('reconciler-migrate:' || current_schema()))"


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    return redact(url)


@lru_cache(maxsize=256)
def _translate(sql: str) -> str:
    # psycopg's placeholder is %s, so literal percent signs are doubled
    return sql.replace("%", "%%").replace("?", "%s")


class PgConnection:
    """A psycopg connection that takes the DuckDB-flavoured calls the state modules make."""

    dialect = POSTGRES

    def __init__(self, raw: Any, location: str) -> None:
        self.raw = raw
        self.location = location
        self.version: int | None = None  # a read's schema version (None: no state yet)
        self._cursor = raw.cursor()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PgConnection:
        if params is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(_translate(sql), list(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> PgConnection:
        self._cursor.executemany(_translate(sql), [list(r) for r in rows])
        return self

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())

    def close(self) -> None:
        self.raw.close()


_pool: dict[str, list[Any]] = {}
_pool_lock = threading.Lock()
_migrated: set[str] = set()


def _errors() -> tuple[type[Exception], ...]:
    import psycopg

    return (psycopg.Error,)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _connect(location: str) -> Any:
    """A new connection; TCP keepalives (unless the URL sets its own) notice a dead peer."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    url = normalise(location)  # (any case of the scheme, a driver suffix: libpq reads neither)
    given = conninfo_to_dict(url)
    extra = {k: v for k, v in _KEEPALIVES.items() if k not in given}
    raw = psycopg.connect(make_conninfo(url, **extra), autocommit=False, connect_timeout=10)
    try:
        # a runner suspended inside a transaction would hold the write lock, and so stop
        # every other runner, for as long as it is suspended: the server ends it instead
        raw.execute(_IDLE_LIMIT)
        raw.commit()
    except BaseException:
        _drop(raw)
        raise
    return raw


def _open(location: str) -> Any:
    with _pool_lock:
        idle = _pool.get(location)
        if idle:
            return idle.pop()
    return _connect(location)


def _drop(raw: Any) -> None:
    """Roll back and close a connection that may be broken already (errors ignored)."""
    with suppress(Exception):
        raw.rollback()
    with suppress(Exception):
        raw.close()


def _forget(location: str) -> None:
    """An outage broke the pooled connections too: close them all."""
    with _pool_lock:
        idle = _pool.pop(location, [])
    for raw in idle:
        _drop(raw)


def _ready(location: str, prepare: Callable[[PgConnection], object]) -> tuple[Any, PgConnection]:
    """A connection on which ``prepare`` (the transaction's first statements) succeeded.

    Until ``prepare`` has run nothing of the caller's is in the transaction, so a
    connection the server dropped (a pooled one after a restart) or a server that is
    down is retried with backoff until the reconnect deadline; then ``StateUnavailable``.
    """
    errors = _errors()
    backoff = Backoff(f"PostgreSQL state {redacted(location)}")
    while True:
        raw = None
        try:
            raw = _open(location)
            conn = PgConnection(raw, location)
            prepare(conn)
        except errors as exc:
            lost = is_outage(exc, raw)  # (before the drop: a dropped connection is closed)
            if raw is not None:
                _drop(raw)
            nobody = raw is None and never_answered(location, exc)
            if not lost or nobody:
                what = "cannot connect to the " if raw is None else ""
                hint = " (no server answered; check the host and port in --state)" if nobody else ""
                raise StateError(
                    f"{what}PostgreSQL state {redacted(location)}: {_first_line(exc)}{hint}"
                ) from exc
            _forget(location)
            if not backoff.failed(_first_line(exc)):
                raise StateUnavailable(
                    f"PostgreSQL state {redacted(location)} stayed unreachable for "
                    f"{backoff.waited:.0f} s ({_first_line(exc)}); giving up"
                ) from exc
            continue
        except BaseException:
            if raw is not None:
                _drop(raw)
            raise
        backoff.succeeded()
        reached(location)
        return raw, conn


def _give_back(location: str, raw: Any) -> None:
    if raw.closed or raw.info.transaction_status != 0:  # 0: idle, nothing pending
        raw.close()
        return
    with _pool_lock:
        idle = _pool.setdefault(location, [])
        if len(idle) < POOL_SIZE:
            idle.append(raw)
            return
    raw.close()


def close_all() -> None:
    """Close the pooled connections (tests, and before a process forks)."""
    with _pool_lock:
        for idle in _pool.values():
            for raw in idle:
                raw.close()
        _pool.clear()
        _migrated.clear()


def _schema(conn: PgConnection) -> str:
    row = conn.execute("SELECT current_schema()").fetchone()
    if not row or row[0] is None:
        path = conn.execute("SHOW search_path").fetchone()
        raise StateError(
            f"PostgreSQL state {redacted(conn.location)}: no schema of the search_path "
            f"({path[0] if path else '?'}) exists; create it first (CREATE SCHEMA ...)"
        )
    return str(row[0])


def current_version(conn: PgConnection) -> int | None:
    """The schema version of the state's schema; None when it holds no tables yet."""
    schema = _schema(conn)
    row = conn.execute("SELECT to_regclass(?)", [f'"{schema}".schema_version']).fetchone()
    if row and row[0] is not None:
        got = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(got[0]) if got and got[0] is not None else 0
    tables = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ?", [schema]
    ).fetchone()
    if not tables or not tables[0]:
        return None
    raise StateError(
        f"schema {schema} of {redacted(conn.location)} holds tables but no reconciler state "
        "(no schema_version table); point --state at an empty schema"
    )


def migrate(conn: PgConnection) -> int:
    """Apply pending migrations in one transaction, under the schema's migration lock."""
    from reconciler.state.schema import SCHEMA_VERSION, check_not_newer, migrations

    conn.execute(_MIGRATE_LOCK)
    version = current_version(conn) or 0
    check_not_newer(version, f"PostgreSQL state {redacted(conn.location)}")
    for number in range(version + 1, SCHEMA_VERSION + 1):
        for statement in migrations("postgres")[number - 1]:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_version VALUES (?, ?, ?)",
            [number, datetime.now(UTC).replace(tzinfo=None), __version__],
        )
    return SCHEMA_VERSION


def _ensure_migrated(location: str) -> None:
    if location in _migrated:
        return
    raw, _ = _ready(location, migrate)
    try:
        raw.commit()
    except _errors() as exc:
        failure = _failure(location, exc, raw, committing=True)
        _drop(raw)
        raise failure from exc
    _give_back(location, raw)
    _migrated.add(location)


def _failure(location: str, exc: Exception, raw: Any, *, committing: bool) -> StateError:
    """The error of a transaction that failed after it began: an outage says so."""
    if not is_outage(exc, raw):
        return StateError(f"PostgreSQL state {redacted(location)}: {_first_line(exc)}")
    outcome = (
        "whether its last transaction was committed is unknown"
        if committing
        else "its transaction was rolled back"
    )
    return StateUnavailable(
        f"PostgreSQL state {redacted(location)}: the connection broke ({_first_line(exc)}); "
        f"{outcome}"
    )


@contextmanager
def _session(
    location: str, *, write: bool, prepare: Callable[[PgConnection], object]
) -> Iterator[PgConnection]:
    """One pooled connection for one transaction: committed (write) or rolled back (read).

    ``prepare`` runs first, retried through an outage (see ``_ready``). A database error
    becomes a one-line ``StateError`` (``StateUnavailable`` for a broken connection, the
    URL's password redacted) and the connection is dropped; any other exception rolls
    back and propagates.
    """
    errors = _errors()
    raw, conn = _ready(location, prepare)
    committing = False
    try:
        yield conn
        committing = write
        if write:
            raw.commit()
        else:
            raw.rollback()
    except errors as exc:
        failure = _failure(location, exc, raw, committing=committing)
        _drop(raw)
        raise failure from exc
    except BaseException:
        _drop(raw)
        raise
    _give_back(location, raw)


@contextmanager
def transaction(location: str) -> Iterator[PgConnection]:
    """A read-write transaction, serialised with the other writers of the same schema."""
    _ensure_migrated(location)
    with _session(location, write=True, prepare=_write_lock) as conn:
        yield conn


def _write_lock(conn: PgConnection) -> None:
    conn.execute(_WRITE_LOCK)


def _read_only(conn: PgConnection) -> None:
    from reconciler.state.schema import check_readable

    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    conn.version = current_version(conn)
    check_readable(conn.version, f"PostgreSQL state {redacted(conn.location)}")


@contextmanager
def reading(location: str) -> Iterator[PgConnection]:
    """A read-only snapshot (one consistent view for every query of the block)."""
    with _session(location, write=False, prepare=_read_only) as conn:
        yield conn
