"""``state migrate``: copy a state between a DuckDB file and PostgreSQL, either way.

The target must be new or empty (a file that does not exist, an empty schema, or one
that was only migrated); it is brought to this reconciler's schema version, every
table is copied in one transaction, column by column as array parameters, and the
copy is checked before it is committed: the same number of rows in every table and
the same coverage ranges, open dates and outdated marks. ``schema_version`` is the target's own, and
``locks`` is not copied (a lease means nothing to another store).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.errors import StateError
from reconciler.state.connection import (
    Connection,
    current_version,
    exists,
    reading,
    transaction,
)
from reconciler.state.dialects import dialect_of
from reconciler.state.location import is_postgres
from reconciler.state.summary import state_tables

SKIPPED = ("schema_version", "locks")
CHUNK = 50_000
CHECKED = {
    "coverage": "SELECT pipeline_id, range_start, range_end FROM coverage "
    "ORDER BY pipeline_id, range_start",
    "open_dates": "SELECT pipeline_id, run_date, status, attempt, batch_id FROM open_dates "
    "ORDER BY pipeline_id, run_date",
    "outdated_marks": "SELECT pipeline_id, range_start, range_end, cause_pipeline, cause_start, "
    "cause_end, cause_batch_id, cause_version FROM outdated_marks ORDER BY pipeline_id, "
    "range_start, range_end, cause_pipeline, cause_start NULLS FIRST, cause_end NULLS FIRST, "
    "cause_batch_id NULLS FIRST, cause_version NULLS FIRST",
}


@dataclass(frozen=True, slots=True)
class CopyReport:
    source: str
    target: str
    rows: dict[str, int]


def _describe(location: str) -> str:
    if is_postgres(location):
        from reconciler.state.postgres import redacted

        return redacted(location)
    return location


def _columns(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(name, SQL type) of a table's columns, in order."""
    schema = dialect_of(conn).schema
    rows = conn.execute(
        f"""SELECT column_name, data_type FROM information_schema.columns
            WHERE table_name = ? AND table_schema = {schema} ORDER BY ordinal_position""",
        [table],
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


Rows = list[tuple[Any, ...]]


def _read_source(source: str) -> tuple[dict[str, tuple[list[str], Rows]], dict[str, Rows]]:
    if not exists(source):
        raise StateError(f"no state at {_describe(source)}: nothing to copy")
    tables: dict[str, tuple[list[str], Rows]] = {}
    checks: dict[str, Rows] = {}
    with reading(source) as conn:
        if current_version(conn) is None:
            raise StateError(f"{_describe(source)} holds no state (never applied): nothing to copy")
        for table in state_tables(conn):
            if table in SKIPPED:
                continue
            names = [c for c, _ in _columns(conn, table)]
            quoted = ", ".join(f'"{c}"' for c in names)
            rows = conn.execute(f'SELECT {quoted} FROM "{table}"').fetchall()
            tables[table] = (names, [tuple(r) for r in rows])
        for name, sql in CHECKED.items():
            checks[name] = [tuple(r) for r in conn.execute(sql).fetchall()]
    return tables, checks


def _refuse_non_empty(target: str) -> None:
    if not exists(target):
        return
    with reading(target) as conn:
        if current_version(conn) is None:
            return
        for table in state_tables(conn):
            if table in SKIPPED:
                continue
            row = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
            if row and row[0]:
                raise StateError(
                    f"{_describe(target)} already holds a state ({table} has rows); copy only "
                    "into a new file or an empty schema"
                )


def _insert(conn: Connection, table: str, names: list[str], rows: list[tuple[Any, ...]]) -> None:
    types = dict(_columns(conn, table))
    missing = [n for n in names if n not in types]
    if missing:
        raise StateError(f"the target's {table} lacks column(s) {', '.join(missing)}")
    quoted = ", ".join(f'"{n}"' for n in names)
    values = ", ".join(f"unnest(CAST(? AS {types[n]}[]))" for n in names)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        columns = [list(c) for c in zip(*chunk, strict=True)]
        conn.execute(f'INSERT INTO "{table}" ({quoted}) SELECT {values}', columns)


def copy_state(source: str, target: str) -> CopyReport:
    """Copy the state at ``source`` into the new or empty ``target``; verify, then commit."""
    if source == target:
        raise StateError("--from and --to name the same state")
    tables, checks = _read_source(source)
    _refuse_non_empty(target)
    counts: dict[str, int] = {}
    with transaction(target, checkpoint=True) as conn:
        present = set(state_tables(conn))
        for table, (names, rows) in tables.items():
            if table not in present:
                raise StateError(f"{_describe(target)} has no table {table} (a newer source?)")
            if rows:
                _insert(conn, table, names, rows)
        for table, (_, rows) in tables.items():
            got = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
            counts[table] = int(got[0]) if got else 0
            if counts[table] != len(rows):
                raise StateError(
                    f"copying {table} gave {counts[table]} rows, the source has {len(rows)}; "
                    "nothing was written"
                )
        for name, sql in CHECKED.items():
            if [tuple(r) for r in conn.execute(sql).fetchall()] != checks[name]:
                raise StateError(f"the copied {name} differs from the source; nothing was written")
    return CopyReport(_describe(source), _describe(target), counts)
