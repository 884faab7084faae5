"""The ``duckdb`` engine: a check's SQL in an in-memory DuckDB, over local files.

Relative paths in the SQL start where reconciler runs (like the ``local`` platform's
default working directory). Each check gets its own connection, so checks of
different runs can run in threads side by side.
"""

from __future__ import annotations

import threading

import duckdb

from reconciler.quality.results import QueryAnswer, clip, column_types

COUNT_LIMIT = 100_000  # failing rows counted before the count is reported as "at least"
FETCH = 1000


class CheckCannotRun(Exception):
    """The engine could not answer the query; the message is the engine's own."""


def _message(exc: BaseException) -> str:
    """DuckDB's message without the quoted SQL and caret lines that follow it."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return clip(lines[0] if lines else type(exc).__name__, 500)


def run_duckdb(sql: str, timeout: float) -> QueryAnswer:
    """Run ``sql`` and read its answer; ``CheckCannotRun`` says why there is none."""
    conn = duckdb.connect(":memory:")
    timer = threading.Timer(timeout, conn.interrupt)
    timer.daemon = True
    timer.start()
    try:
        statements = conn.extract_statements(sql)
        if not statements or statements[-1].type != duckdb.StatementType.SELECT:
            raise CheckCannotRun("the last statement is not a query (a check ends with a SELECT)")
        for statement in statements[:-1]:  # e.g. SET or CREATE MACRO before the query
            conn.execute(statement)
        cursor = conn.execute(statements[-1])
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
        return QueryAnswer(columns, types, tuple(first), count)
    except duckdb.InterruptException as exc:
        raise CheckCannotRun(f"timed out after {timeout:g}s and was interrupted") from exc
    except duckdb.Error as exc:
        raise CheckCannotRun(_message(exc)) from exc
    finally:
        timer.cancel()
        conn.close()
