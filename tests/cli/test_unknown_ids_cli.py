"""An unknown pipeline id, given to any command that takes one, is one line and exit 1,
and the state (a DuckDB file or a PostgreSQL schema) is left as it was."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.stores import Cli, location, refused, snapshot

NOW = "2026-03-03T06:00:00"
ORDERS = f"""id: orders
platform: local
trigger:
  command: [{sys.executable!r}, -c, 'pass', '{{date}}']
schedule: {{type: daily, start: 2026-03-01}}
"""
KNOWN = "no pipeline with id 'ordres' in pipelines.d"
COMMANDS = [
    (("plan", "--pipeline", "ordres", "--now", NOW), f"{KNOWN} (known: orders)"),
    (("status", "--pipeline", "ordres", "--now", NOW), f"{KNOWN} (known: orders)"),
    (("history", "ordres"), f"{KNOWN} and no runs of it in the state (known: orders)"),
    (
        ("explain", "ordres", "2026-03-02", "--now", NOW),
        f"{KNOWN} (known: orders); did you mean 'orders'?",
    ),
    (
        ("mark", "ordres", "--from", "2026-03-02", "--to", "2026-03-02", "--as", "covered",
         "--reason", "r", "--now", NOW),
        KNOWN,
    ),
    (("backfill", "ordres", "--from", "2026-03-01", "--to", "2026-03-02", "--now", NOW), KNOWN),
]  # fmt: skip


def test_every_command_refuses_an_unknown_id_and_writes_nothing(
    tmp_path: Path, store_cli: Cli, state: list[str]
) -> None:
    config = tmp_path / "pipelines.d"
    config.mkdir()
    (config / "orders.yaml").write_text(ORDERS, encoding="utf-8")
    applied = store_cli("apply", "--wait", "--now", NOW)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    where = location(tmp_path, state)
    before = snapshot(where)
    assert len(before["pipeline_run_log"]) == 3
    for command, line in COMMANDS:
        refused(store_cli(*command), f"Error: {line}")
    assert snapshot(where) == before
