"""The ``snowflake`` engine: a check's SQL through the Snowflake SQL API adapter.

The adapter (``reconciler.platforms.snowflake``) is looked up when a check runs. It
plugs in by offering::

    def run_query(trigger: SnowflakeTrigger, sql: str, *, timeout: float,
                  bindings: dict[str, dict[str, str]])
        -> tuple[list[tuple[str, str]], list[list[str | None]]]

returning ``(name, type)`` per column (types as in ``resultSetMetaData.rowType``, e.g.
``boolean``) and the rows of the first partition (cells are strings, as the API sends
them), and raising a ``ReconcilerError`` whose message says what went wrong. Until it
does, a snowflake check is a failed check saying the engine is not available. The
connection is the pipeline's own Snowflake trigger (account, warehouse, role, token).
The run's values travel as the SQL API's ``bindings`` (one TEXT per ``?``), never as
SQL text.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from reconciler.config.models import AnyPipeline, SnowflakeTrigger
from reconciler.config.sql_binding import BoundSql
from reconciler.errors import ReconcilerError
from reconciler.quality.duckdb_engine import CheckCannotRun
from reconciler.quality.results import QueryAnswer, clip

ADAPTER = "reconciler.platforms.snowflake"
Columns = Sequence[tuple[str, str]]
Rows = Sequence[Sequence[str | None]]
QueryFunction = Callable[..., tuple[Columns, Rows]]


def find_adapter() -> QueryFunction | None:
    """The adapter's ``run_query``, or None when this build has none."""
    try:
        module = importlib.import_module(ADAPTER)
    except ImportError:
        return None
    found: Any = getattr(module, "run_query", None)
    return found if callable(found) else None


def run_snowflake(
    pipeline: AnyPipeline, sql: BoundSql, timeout: float, query: QueryFunction | None = None
) -> QueryAnswer:
    """Run ``sql`` with its bindings on the pipeline's Snowflake account.

    ``CheckCannotRun`` says why there is no answer.
    """
    trigger = pipeline.trigger
    if not isinstance(trigger, SnowflakeTrigger):
        raise CheckCannotRun(
            f"engine snowflake needs a Snowflake connection, and this pipeline runs on "
            f"{pipeline.platform!r}; use engine duckdb, or run the pipeline on snowflake"
        )
    run = query or find_adapter()
    if run is None:
        raise CheckCannotRun(
            "engine snowflake is not available in this build of reconciler (no Snowflake "
            f"SQL API adapter: {ADAPTER}.run_query)"
        )
    try:
        columns, rows = run(trigger, sql.sql, timeout=timeout, bindings=sql.snowflake_bindings())
    except ReconcilerError as exc:
        raise CheckCannotRun(clip(str(exc), 500)) from exc
    return QueryAnswer(
        columns=tuple(c[0] for c in columns),
        types=tuple(c[1] for c in columns),
        rows=tuple(tuple(r) for r in rows),
        row_count=len(rows),
    )
