"""``import-history``: adopt coverage recorded elsewhere without re-running it.

DuckDB reads the CSV or Parquet file itself and every step is set-wise SQL: a
streaming pass counts the rows and finds the invalid ones, then one aggregate picks the
newest row per (pipeline, date) and inserts it with a deterministic run id
(``import:<pipeline>:<date>``), so a second import of the same file changes nothing.
The import's connection has a memory limit and may reorder rows, so DuckDB spills to
disk instead of growing with the file; it is all one transaction, so a failure leaves
the state as it was. Imported rows only speak for dates the reconciler has not run
itself. Rows that are malformed or name a date the schedule does not hold or has not
made due yet (``import_checks``) make the whole import fail, naming each row, unless
``skip_invalid`` asks to import the rest.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from reconciler.core.spec import Schedule
from reconciler.errors import StateError
from reconciler.state.connection import Connection, transaction
from reconciler.state.import_checks import (
    InvalidRows,
    count_rows,
    create_calendar,
    create_typed,
    invalid_rows,
)
from reconciler.state.import_writes import choose, write_coverage, write_open_dates, write_run_log
from reconciler.state.location import is_postgres
from reconciler.state.private_files import make_state_dir

REQUIRED = ("pipeline_id", "run_date", "status")
# what the import's DuckDB may hold in memory before it spills to <state>.tmp
MEMORY_LIMIT = "1GB"


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    rows: int
    imported: int
    unchanged: int
    unknown: dict[str, int]
    invalid: InvalidRows
    skipped_invalid: bool


def row_label(file: Path, index: int) -> str:
    """Where row ``index`` (from 0) is: ``FILE:LINE`` of a CSV (the header is line 1),
    ``FILE: row N`` of a Parquet file."""
    if _is_parquet(file):
        return f"{file}: row {index + 1}"
    return f"{file}:{index + 2}"


def describe_invalid(file: Path, invalid: InvalidRows) -> list[str]:
    """One line per quoted invalid row, and a count of the rest."""
    lines = [f"{row_label(file, i)}: {reason}" for i, reason in invalid.first]
    if invalid.count > len(invalid.first):
        lines.append(f"... and {invalid.count - len(invalid.first)} more invalid row(s)")
    return lines


def _is_parquet(path: Path) -> bool:
    suffix = "".join(path.suffixes).lower()
    return suffix.endswith(".parquet") or suffix.endswith(".pq")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def _spill_dir(state: str) -> Iterator[str]:
    """``STATE.tmp``, where the import's DuckDB spills: readable by its owner only, like
    the state, and removed afterwards if the import made it."""
    spill = f"{state}.tmp"
    made = not os.path.exists(spill)
    make_state_dir(spill)
    try:
        yield spill
    finally:
        if made:
            shutil.rmtree(spill, ignore_errors=True)


@contextmanager
def _bounded(conn: Connection, spill: str, memory_limit: str) -> Iterator[None]:
    """This connection's DuckDB spills past ``memory_limit`` into ``spill`` and may
    reorder rows (row numbers come from the file, not from the order rows arrive); the
    limits are restored afterwards."""
    names = ("memory_limit", "preserve_insertion_order")
    before = {n: conn.execute(f"SELECT current_setting('{n}')").fetchone()[0] for n in names}
    conn.execute(f"SET temp_directory = {_literal(spill)}")
    conn.execute(f"SET memory_limit = {_literal(memory_limit)}")
    try:
        yield
    finally:
        # (not in a failed transaction: the connection is closed with it anyway)
        with suppress(duckdb.Error):
            for name, value in before.items():
                conn.execute(f"SET {name} = {_literal(str(value))}")


def _open_source(conn: Connection, file: Path) -> tuple[str, set[str]]:
    """A relation of the file's rows with ``row_index`` (from 0, in file order), and the
    file's columns.

    Parquet is read in place: the reader numbers its rows. A CSV is copied once into a
    temporary table in file order (which DuckDB may spill), whose row ids number it.
    """
    try:
        if _is_parquet(file):
            reader = f"read_parquet({_literal(str(file))}, file_row_number = true)"
            described = conn.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
            columns = {str(r[0]) for r in described} - {"file_row_number"}
            source = f"(SELECT *, file_row_number AS row_index FROM {reader})"
        else:
            # all text: a value the type sniffer did not sample must not fail the whole read
            conn.execute(
                "CREATE TEMP TABLE incoming AS SELECT * FROM read_csv(?, header = true, "
                "auto_detect = true, all_varchar = true)",
                [str(file)],
            )
            columns = {str(r[0]) for r in conn.execute("DESCRIBE incoming").fetchall()}
            source = (
                "(SELECT *, rowid - (SELECT min(rowid) FROM incoming) AS row_index FROM incoming)"
            )
    except duckdb.Error as exc:
        raise StateError(f"cannot read {file}: {str(exc).splitlines()[0]}") from exc
    conn.execute("SET preserve_insertion_order = false")
    return source, columns


def import_history(
    state: str,
    file: Path,
    schedules: dict[str, Schedule],
    now: datetime,
    *,
    skip_invalid: bool = False,
    memory_limit: str = MEMORY_LIMIT,
) -> ImportReport:
    """Import ``file`` into ``state`` for the pipelines of ``schedules``; report the rest.

    Invalid rows raise ``StateError`` (nothing imported) unless ``skip_invalid``.
    """
    if is_postgres(state):
        raise StateError(
            "import-history into a PostgreSQL state is not supported yet: import into a new "
            "DuckDB file, then copy it with `reconciler state migrate --from FILE --to URL`"
        )
    if not file.exists():
        raise StateError(f"import file {file} not found")
    with (
        _spill_dir(state) as spill,
        transaction(state) as conn,
        _bounded(conn, spill, memory_limit),
    ):
        source, columns = _open_source(conn, file)
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise StateError(
                f"{file} lacks column(s) {', '.join(missing)}; expected pipeline_id, run_date, "
                "status and optional start_time, end_time, version"
            )
        create_calendar(conn, schedules, now)
        create_typed(conn, source, columns, now)
        try:
            counts = count_rows(conn)
        except duckdb.Error as exc:
            raise StateError(f"cannot read {file}: {str(exc).splitlines()[0]}") from exc
        invalid = invalid_rows(conn, counts.invalid)
        if invalid.count and not skip_invalid:
            raise StateError(
                "\n".join(
                    [
                        f"{file}: {invalid.count} invalid row(s), nothing imported "
                        "(fix them, or --skip-invalid imports the other rows):",
                        *describe_invalid(file, invalid),
                    ]
                )
            )
        imported = choose(conn, columns, all_valid=not invalid.count)
        if imported:
            write_run_log(conn, now)
            write_coverage(conn)
            write_open_dates(conn, now)
        conn.execute("DROP VIEW typed")
        for table in ("chosen", "calendar", *(() if _is_parquet(file) else ("incoming",))):
            conn.execute(f"DROP TABLE {table}")
    unknown = counts.unknown
    unchanged = counts.total - invalid.count - imported - sum(unknown.values())
    return ImportReport(
        rows=counts.total,
        imported=imported,
        unchanged=unchanged,
        unknown=unknown,
        invalid=invalid,
        skipped_invalid=skip_invalid,
    )
