"""What differs between the two engines, one class per engine, chosen by the connection.

The state modules write their SQL once (``?`` placeholders, list parameters cast to
arrays), which DuckDB and PostgreSQL both run. The few statements that cannot be
shared ask the connection's dialect (``dialect_of(conn)``) instead of branching on
the engine's name.
"""

from __future__ import annotations

from typing import Any

Connection = Any  # a DuckDB connection, or ``postgres.PgConnection``

PIPELINE_LIST = (
    "SELECT DISTINCT unnest(?::VARCHAR[]) AS pipeline_id, unnest(?::INTEGER[]) AS detail_below"
)
ROW = "__reconciler_row"  # a table alias no column is named


class Dialect:
    """The DuckDB flavour; ``PostgresDialect`` overrides what PostgreSQL does otherwise."""

    name = "duckdb"
    shared = False  # several runners write at once (so rows are claimed, not just read)
    skip_locked = ""  # rows another runner holds are passed over (PostgreSQL)
    schema = "'main'"  # the state's schema in ``information_schema``

    def pipeline_list(
        self, conn: Connection, ids: list[str], below: list[int | None]
    ) -> tuple[str, list[object]]:
        """A relation of ``pipeline_id`` and ``detail_below`` for the reads of a session
        to join, and the parameters it takes: a temporary table, built once (one list
        parameter: executemany of 10k single rows takes seconds, this milliseconds)."""
        conn.execute(f"CREATE OR REPLACE TEMP TABLE wanted AS {PIPELINE_LIST}", [ids, below])
        return "wanted", []

    def epoch_us(self, expr: str) -> str:
        """Microseconds since 1970 of a TIMESTAMP expression, as a BIGINT."""
        return f"epoch_us({expr})"

    def tables(self, conn: Connection) -> list[str]:
        """The state's base tables (no temporary tables, no views), sorted by name."""
        rows = conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
            "AND database_name = current_database() AND schema_name = 'main' ORDER BY table_name"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def checksum(self, conn: Connection, table: str) -> tuple[int, str]:
        """Row count and the sum of row hashes (as text: it outgrows 64 bits)."""
        row = conn.execute(
            f'SELECT count(*), coalesce(sum(hash("{ROW}")::HUGEINT), 0) FROM "{table}" AS "{ROW}"'
        ).fetchone()
        assert row is not None
        return int(row[0]), str(row[1])


class PostgresDialect(Dialect):
    name = "postgres"
    shared = True
    skip_locked = " FOR UPDATE SKIP LOCKED"
    schema = "current_schema()"

    def pipeline_list(
        self, conn: Connection, ids: list[str], below: list[int | None]
    ) -> tuple[str, list[object]]:
        # a read-only snapshot cannot create tables: the list goes with each query
        return f"({PIPELINE_LIST}) wanted", [ids, below]

    def epoch_us(self, expr: str) -> str:
        return f"CAST(round(extract(epoch FROM {expr}) * 1000000) AS BIGINT)"

    def tables(self, conn: Connection) -> list[str]:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def checksum(self, conn: Connection, table: str) -> tuple[int, str]:
        # 60 bits of each row's md5, summed as numeric (the row's text form is hashed)
        row = conn.execute(
            f"SELECT count(*), coalesce(sum(('x' || substr(md5(CAST(\"{ROW}\" AS text)), 1, 15))"
            f'::bit(60)::bigint::numeric), 0) FROM "{table}" AS "{ROW}"'
        ).fetchone()
        assert row is not None
        return int(row[0]), str(row[1])


DUCKDB = Dialect()
POSTGRES = PostgresDialect()


def dialect_of(conn: Connection) -> Dialect:
    """The connection's dialect: a ``PgConnection`` carries its own; DuckDB's has none."""
    found = getattr(conn, "dialect", DUCKDB)
    return found if isinstance(found, Dialect) else DUCKDB
