"""The ``duckdb`` engine: a check's SQL in an in-memory DuckDB, over local files.

Relative paths in the SQL start where reconciler runs (like the ``local`` platform's
default working directory). Each check gets its own connection, so checks of
different runs can run in threads side by side.

The connection is a sandbox: file system access is off except for the paths the
check declares in ``reads`` (DuckDB's ``allowed_directories`` / ``allowed_paths``),
the configuration is locked so the SQL cannot widen that, extensions are neither
installed nor loaded, and only statements that read or work in memory may come
before the final query (no ``COPY``, ``EXPORT``, ``ATTACH``...: a check never writes).
Secrets are neither made nor dropped, and never read from a secrets directory.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence

import duckdb

from reconciler.quality.results import QueryAnswer, clip, column_types

COUNT_LIMIT = 100_000  # failing rows counted before the count is reported as "at least"
FETCH = 1000
# what may come before the final SELECT: in-memory definitions and variables only
BEFORE_QUERY = frozenset(
    {
        duckdb.StatementType.SELECT,
        duckdb.StatementType.CREATE,
        duckdb.StatementType.CREATE_FUNC,
        duckdb.StatementType.INSERT,
        duckdb.StatementType.DROP,
        duckdb.StatementType.VARIABLE_SET,
        duckdb.StatementType.SET,  # SET VARIABLE; settings themselves are locked
    }
)
REFUSED_HINT = "; a check reads only the paths listed in its `reads`"
# CREATE / DROP SECRET (any of OR REPLACE, PERSISTENT, TEMPORARY, IF [NOT] EXISTS),
# after any comments: a check never makes or drops credentials
_SECRET = re.compile(
    r"(?is)^(?:\s|--[^\n]*|/\*.*?\*/)*(?:create|drop)\b(?:\s+or\s+replace)?"
    r"(?:\s+(?:persistent|temporary|temp))?\s+secret\b"
)
SECRET_REFUSED = (
    "CREATE SECRET and DROP SECRET are not allowed in a check (a check never makes or "
    "uses credentials; it reads only the local paths listed in its `reads`)"
)


class CheckCannotRun(Exception):
    """The engine could not answer the query; the message is the engine's own."""


def _message(exc: BaseException) -> str:
    """DuckDB's message without the quoted SQL and caret lines that follow it."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return clip(lines[0] if lines else type(exc).__name__, 500)


def sandbox(reads: Sequence[str]) -> duckdb.DuckDBPyConnection:
    """An in-memory connection that can read ``reads`` (directories or files) only."""
    conn = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            # no secrets directory: listing secrets must not reach for ~/.duckdb
            "allow_persistent_secrets": False,
        },
    )
    directories = [os.path.join(os.path.abspath(p), "") for p in reads if _is_directory(p)]
    files = [os.path.abspath(p) for p in reads if not _is_directory(p)]
    # the order matters: the lists are fixed before access is turned off, then locked
    conn.execute("SET allowed_directories = $paths", {"paths": directories})
    conn.execute("SET allowed_paths = $paths", {"paths": files})
    conn.execute("SET enable_external_access = false")
    # (DuckDB would draw a bar on stdout, into piped output, for a check over two seconds)
    conn.execute("SET enable_progress_bar = false")
    conn.execute("SET lock_configuration = true")
    return conn


def _is_directory(path: str) -> bool:
    return path.endswith(("/", os.sep)) or os.path.isdir(path)


def run_duckdb(
    sql: str, parameters: dict[str, str], reads: Sequence[str], timeout: float
) -> QueryAnswer:
    """Run ``sql`` with bound ``parameters`` and read its answer.

    ``CheckCannotRun`` says why there is none.
    """
    conn = sandbox(reads)
    timer = threading.Timer(timeout, conn.interrupt)
    timer.daemon = True
    timer.start()
    try:
        statements = conn.extract_statements(sql)
        if any(_SECRET.match(statement.query) for statement in statements):
            raise CheckCannotRun(SECRET_REFUSED)
        if not statements or statements[-1].type != duckdb.StatementType.SELECT:
            raise CheckCannotRun("the last statement is not a query (a check ends with a SELECT)")
        for statement in statements[:-1]:  # e.g. SET VARIABLE or CREATE MACRO
            if statement.type not in BEFORE_QUERY:
                raise CheckCannotRun(
                    f"{statement.type.name} statements are not allowed in a check (before "
                    "the query: CREATE, INSERT, DROP, SET VARIABLE or SELECT; a check never "
                    "writes files or changes settings)"
                )
            conn.execute(statement, _used(statement, parameters))
        cursor = conn.execute(statements[-1], _used(statements[-1], parameters))
        if cursor.description is None:
            raise CheckCannotRun("the query returned no result")
        columns = tuple(str(d[0]) for d in cursor.description)
        types = column_types(cursor.description)
        first: list[tuple[object, ...]] = []
        count = 0
        while count < COUNT_LIMIT:
            chunk = cursor.fetchmany(FETCH)
            if not chunk:
                break
            if len(first) < FETCH:
                first.extend(chunk[: FETCH - len(first)])
            count += len(chunk)
        return QueryAnswer(columns=columns, types=types, rows=tuple(first), row_count=count)
    except duckdb.InterruptException as exc:
        raise CheckCannotRun(f"timed out after {timeout:g}s and was interrupted") from exc
    except duckdb.PermissionException as exc:
        raise CheckCannotRun(clip(_message(exc) + REFUSED_HINT, 500)) from exc
    except duckdb.Error as exc:
        raise CheckCannotRun(_message(exc)) from exc
    finally:
        timer.cancel()
        conn.close()


def _used(statement: duckdb.Statement, parameters: dict[str, str]) -> dict[str, str]:
    """The parameters one statement names (DuckDB refuses values it does not use)."""
    return {name: parameters[name] for name in statement.named_parameters if name in parameters}
