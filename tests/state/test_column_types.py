"""The config sync sends rows as typed lists: its column types must be the schema's."""

from __future__ import annotations

from pathlib import Path

from reconciler.config.models import PIPELINE_ADAPTER
from reconciler.config.rows import pipeline_row
from reconciler.state.config_writes import COLUMN_TYPES
from reconciler.state.connection import transaction

# DuckDB spells TEXT as VARCHAR
SPELLED = {"TEXT": "VARCHAR"}


def test_config_sync_column_types_match_the_pipelines_table(tmp_path: Path) -> None:
    with transaction(str(tmp_path / "state.duckdb")) as conn:
        schema = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'pipelines'"
            ).fetchall()
        )
    assert set(COLUMN_TYPES) <= set(schema)
    assert {c: SPELLED.get(t, t) for c, t in COLUMN_TYPES.items()} == {
        c: schema[c] for c in COLUMN_TYPES
    }
    # every column a config row carries, from the model
    model = PIPELINE_ADAPTER.validate_python(
        {
            "id": "p",
            "platform": "local",
            "trigger": {"command": ["true"]},
            "schedule": {"type": "daily", "start": "2026-01-01"},
        }
    )
    assert set(pipeline_row(model)) == set(COLUMN_TYPES)
