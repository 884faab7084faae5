"""State export and import as Parquet, one file per table, so state can live between runs
on a git branch or in object storage.

``export_state`` copies every table of a state file (``schema_version`` and ``locks``
included) into ``DIR/<table>.parquet`` in one read-only snapshot, and writes
``DIR/manifest.json`` last (what was written, at which schema version, how many rows).
The export of an unchanged state is byte-identical (rows sorted, one writer thread, no
export time in the manifest), so a git branch holding it changes only when the state does.
``import_state`` rebuilds a state file from such a directory: only into a new or
empty file, never over an existing state. It builds the file beside the target at the
export's schema version, loads every table, migrates it to this reconciler's version,
checks the row counts, and only then moves it into place, so a failed import leaves
nothing behind.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from reconciler import __version__
from reconciler.errors import StateError
from reconciler.state.connection import (
    Connection,
    check_file,
    current_version,
    migrate,
    quiet,
    reading,
)
from reconciler.state.location import is_postgres
from reconciler.state.private_files import narrow
from reconciler.state.schema import MIGRATIONS, SCHEMA_VERSION
from reconciler.state.summary import state_tables

MANIFEST = "manifest.json"
FORMAT = "reconciler-state-export"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class ExportReport:
    directory: Path
    schema_version: int
    rows: dict[str, int]


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _file_only(state: str) -> None:
    if is_postgres(state):
        raise StateError(
            "state export/import work on DuckDB files; for a PostgreSQL state use "
            "`reconciler state migrate --from URL --to FILE` (or --from FILE --to URL)"
        )


def export_state(state: str, directory: Path) -> ExportReport:
    """Write every table of ``state`` to ``directory`` as Parquet, plus a manifest."""
    _file_only(state)
    if not Path(state).exists():
        raise StateError(f"no state file at {state}: nothing to export")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"cannot create {directory}: {exc.strerror or exc}") from exc
    with reading(state) as conn:
        version = current_version(conn)
        if version is None:
            raise StateError(f"state file {state} is empty (never applied): nothing to export")
        # one thread: parallel writers cut row groups where their batches happened to end
        conn.execute("SET threads = 1")
        conn.execute("SET disabled_optimizers = 'statistics_propagation'")
        conn.execute("BEGIN TRANSACTION")  # one snapshot for every table
        rows: dict[str, int] = {}
        for table in state_tables(conn):
            target = directory / f"{table}.parquet"
            tmp = directory / f".{table}.parquet.tmp"
            # sorted on every column: storage order changes with updates and vacuums
            conn.execute(
                f"COPY (SELECT * FROM {_quoted(table)} ORDER BY ALL) TO '{_sql_path(tmp)}' "
                "(FORMAT parquet, COMPRESSION zstd)"
            )
            os.replace(tmp, target)
            count = conn.execute(f"SELECT count(*) FROM {_quoted(table)}").fetchone()
            rows[table] = int(count[0]) if count else 0
        conn.execute("COMMIT")
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_version": version,
        "reconciler_version": __version__,
        "tables": dict(sorted(rows.items())),
    }
    tmp_manifest = directory / f".{MANIFEST}.tmp"
    tmp_manifest.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp_manifest, directory / MANIFEST)
    return ExportReport(directory, version, rows)


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of an export directory, checked."""
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StateError(
            f"{directory} holds no state export (no {MANIFEST}); make one with "
            "`reconciler state export DIR`"
        ) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise StateError(f"cannot read {path}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StateError(f"{path} is not a reconciler state export manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise StateError(
            f"{path}: unsupported export format_version {manifest.get('format_version')!r}"
        )
    version = manifest.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise StateError(f"{path}: bad schema_version {version!r}")
    if version > SCHEMA_VERSION:
        raise StateError(
            f"the export in {directory} has schema version {version}, newer than this "
            f"reconciler ({SCHEMA_VERSION}); upgrade reconciler"
        )
    tables = manifest.get("tables")
    if not isinstance(tables, dict) or not all(isinstance(n, int) for n in tables.values()):
        raise StateError(f"{path}: bad table list")
    for table in tables:
        if not (directory / f"{table}.parquet").is_file():
            raise StateError(f"{directory}: {table}.parquet is missing (listed in {MANIFEST})")
    return manifest


def _refuse_existing(state: str) -> None:
    """Import only into a new or empty file: never merge into, or replace, a state."""
    path = Path(state)
    if not path.exists() or path.stat().st_size == 0:
        return
    check_file(state)
    with reading(state) as conn:
        version = current_version(conn)
    if version is not None:
        raise StateError(
            f"state file {state} already holds a state (schema version {version}); import "
            "only into a new file: move it away or choose another --state"
        )


def _load(conn: Connection, directory: Path, manifest: dict[str, Any]) -> None:
    version: int = manifest["schema_version"]
    for number in range(1, version + 1):
        for statement in MIGRATIONS[number - 1]:
            conn.execute(statement)
    existing = set(state_tables(conn))
    for table in manifest["tables"]:
        if table not in existing:
            raise StateError(
                f"{directory}: table {table} is not part of a schema version {version} state"
            )
        source = _sql_path(directory / f"{table}.parquet")
        conn.execute(f"INSERT INTO {_quoted(table)} BY NAME SELECT * FROM read_parquet('{source}')")
    for table, expected in manifest["tables"].items():
        row = conn.execute(f"SELECT count(*) FROM {_quoted(table)}").fetchone()
        if not row or int(row[0]) != expected:
            raise StateError(
                f"{directory}: {table}.parquet holds {row[0] if row else 0} rows, "
                f"the manifest says {expected}"
            )


def import_state(state: str, directory: Path) -> ExportReport:
    """Build a new state file at ``state`` from an export in ``directory``."""
    _file_only(state)
    manifest = read_manifest(directory)
    _refuse_existing(state)
    target = Path(state)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"cannot create the state directory {target.parent}: {exc}") from exc
    building = target.with_name(f".{target.name}.importing")
    for leftover in (building, building.with_name(building.name + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        conn = quiet(duckdb.connect(str(building)))
        try:
            conn.execute("BEGIN TRANSACTION")
            _load(conn, directory, manifest)
            conn.execute("COMMIT")
            migrate(conn, state)
            conn.execute("CHECKPOINT")
        finally:
            conn.close()
        _refuse_existing(state)  # (something may have made it meanwhile)
        os.replace(building, target)
        narrow(state)
    except duckdb.Error as exc:
        raise StateError(f"importing {directory} into {state} failed: {exc}") from exc
    finally:
        for leftover in (building, building.with_name(building.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return ExportReport(directory, SCHEMA_VERSION, dict(manifest["tables"]))
