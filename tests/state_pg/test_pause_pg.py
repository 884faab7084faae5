"""``pause`` and ``exclude`` through ``plan`` and ``apply`` on a PostgreSQL state."""

from __future__ import annotations

from pathlib import Path

from tests.pause_scenario import pause_then_resume


def test_a_paused_pipeline_starts_nothing_but_follows_its_run_in_flight_on_postgres(
    tmp_path: Path, cli, pg_url: str
) -> None:
    pause_then_resume(tmp_path, cli, ["--state", pg_url])
