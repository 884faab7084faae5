"""State stores: the protocol, the DuckDB store and its migrations."""
