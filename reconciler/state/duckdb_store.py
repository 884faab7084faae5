"""DuckDB state store (placeholder until the store lands; see issue 4)."""
