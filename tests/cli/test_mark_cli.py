"""``reconciler mark`` on the default DuckDB state."""

from __future__ import annotations

from pathlib import Path

from tests.mark_scenario import mark_covered_then_failed, refusals_write_nothing


def test_marked_dates_change_the_next_plan_and_status(tmp_path: Path, cli) -> None:
    mark_covered_then_failed(tmp_path, cli, [])


def test_every_refusal_is_one_line_and_writes_nothing(tmp_path: Path, cli) -> None:
    refusals_write_nothing(tmp_path, cli, [])
