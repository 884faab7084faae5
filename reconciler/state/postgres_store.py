"""The PostgreSQL state store: the DuckDB store's reads and writes over a server connection.

Every state module writes SQL both engines run (see ``reconciler.state.postgres``), so
the store is the same class; only where it connects differs.
"""

from __future__ import annotations

from reconciler.state.duckdb_store import DuckDBStore


class PostgresStore(DuckDBStore):
    """A state in a PostgreSQL schema, named by a ``postgresql://`` URL."""

    @classmethod
    def open_read_only(cls, path: str) -> PostgresStore:
        return cls(path)
