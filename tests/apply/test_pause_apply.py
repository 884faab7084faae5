"""``pause`` and ``exclude`` through ``plan`` and ``apply`` on a DuckDB state (the same
scenario runs on PostgreSQL in tests/state_pg/test_pause_pg.py)."""

from __future__ import annotations

from pathlib import Path

from tests.pause_scenario import pause_then_resume


def test_a_paused_pipeline_starts_nothing_but_follows_its_run_in_flight(
    tmp_path: Path, cli
) -> None:
    pause_then_resume(tmp_path, cli, [])
