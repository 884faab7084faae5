"""A cheap fingerprint of a state, to tell whether it changed since a plan was made.

Per table: the row count and an order-independent checksum of every row (DuckDB hashes
a whole table in one scan, milliseconds for 10^5 rows). The ``locks`` table is left
out: a lease renewal is not a change of what the plan depends on.
"""

from __future__ import annotations

from typing import Any

from reconciler.state.connection import Connection
from reconciler.state.dialects import dialect_of

SKIPPED = ("locks", "local_runs")  # leases and supervisors' heartbeats: no plan input


def state_tables(conn: Connection) -> list[str]:
    """The state's base tables (no temporary tables, no views), sorted by name."""
    return dialect_of(conn).tables(conn)


def fingerprint(conn: Connection, version: int | None) -> dict[str, Any]:
    """Schema version and table checksums of an open state (of schema ``version``)."""
    if version is None:
        return {"exists": True, "schema_version": None, "tables": {}}
    tables = {}
    for table in state_tables(conn):
        if table in SKIPPED:
            continue
        rows, checksum = dialect_of(conn).checksum(conn, table)
        tables[table] = {"rows": rows, "checksum": checksum}
    return {"exists": True, "schema_version": version, "tables": tables}
