"""A cheap fingerprint of a state file, to tell whether it changed since a plan was made.

Per table: the row count and an order-independent checksum of every row (DuckDB hashes
a whole table in one scan, milliseconds for 10^5 rows). The ``locks`` table is left
out: a lease renewal is not a change of what the plan depends on.
"""

from __future__ import annotations

from typing import Any

from reconciler.state.connection import Connection, current_version, dialect, exists, reading

SKIPPED = ("locks", "local_runs")  # leases and supervisors' heartbeats: no plan input
ROW = "__reconciler_row"  # a table alias no column is named


def state_tables(conn: Connection) -> list[str]:
    """The state's base tables (no temporary tables, no views), sorted by name."""
    if dialect(conn) == "postgres":
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
        return [str(r[0]) for r in rows]
    rows = conn.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
        "AND database_name = current_database() AND schema_name = 'main' ORDER BY table_name"
    ).fetchall()
    return [str(r[0]) for r in rows]


def table_checksum(conn: Connection, table: str) -> tuple[int, str]:
    """Row count and the sum of row hashes (as text: it outgrows 64 bits)."""
    if dialect(conn) == "postgres":
        # 60 bits of each row's md5, summed as numeric (the row's text form is hashed)
        row = conn.execute(
            f"SELECT count(*), coalesce(sum(('x' || substr(md5(CAST(\"{ROW}\" AS text)), 1, 15))"
            f'::bit(60)::bigint::numeric), 0) FROM "{table}" AS "{ROW}"'
        ).fetchone()
        assert row is not None
        return int(row[0]), str(row[1])
    row = conn.execute(
        f'SELECT count(*), coalesce(sum(hash("{ROW}")::HUGEINT), 0) FROM "{table}" AS "{ROW}"'
    ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def state_fingerprint(path: str) -> dict[str, Any]:
    """``{"exists": False}`` for a missing file; else schema version and table checksums."""
    if not exists(path):
        return {"exists": False}
    with reading(path) as conn:
        version = current_version(conn)
        if version is None:
            return {"exists": True, "schema_version": None, "tables": {}}
        tables = {}
        for table in state_tables(conn):
            if table in SKIPPED:
                continue
            rows, checksum = table_checksum(conn, table)
            tables[table] = {"rows": rows, "checksum": checksum}
        return {"exists": True, "schema_version": version, "tables": tables}
