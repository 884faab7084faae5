"""``exclude:`` driven through the CLI on a DuckDB file and on a PostgreSQL schema: the
excluded dates never run and are counted apart; a malformed entry (or ``pause`` key) is
refused by every command at its file and line, and nothing is written."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.stores import Cli, location, refused, snapshot

NOW = "2026-03-10T06:00:00"  # 03-01..03-10 due
HEAD = f"""id: orders
platform: local
trigger:
  command: [{sys.executable!r}, -c, 'pass', '{{date}}']
schedule: {{type: daily, start: 2026-03-01}}
retry: {{enabled: false}}
"""
EXCLUDED = """exclude:
  - {from: 2026-03-03, to: 2026-03-05, reason: source outage INC-42}
  - {date: 2026-03-08}
"""


def _write(tmp_path: Path, text: str) -> None:
    config = tmp_path / "pipelines.d"
    config.mkdir(exist_ok=True)
    (config / "orders.yaml").write_text(text, encoding="utf-8")


def _ran(store_cli: Cli) -> list[str]:
    history = store_cli("history", "orders", "--format", "json")
    assert history.returncode == 0, history.stderr
    return sorted(r["run_date"] for r in json.loads(history.stdout))


def test_excluded_dates_never_run_and_are_counted_apart(tmp_path: Path, store_cli: Cli) -> None:
    _write(tmp_path, HEAD + EXCLUDED)
    plan = json.loads(store_cli("plan", "--now", NOW, "--format", "json-v2").stdout)
    assert plan["excluded"] == [{"pipeline_id": "orders", "dates": 4}]
    planned = {d for a in plan["actions"] for d in a["dates"]}
    assert planned == {f"2026-03-{d:02d}" for d in (1, 2, 6, 7, 9, 10)}

    applied = store_cli("apply", "--wait", "--now", NOW)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert _ran(store_cli) == sorted(planned)
    status = json.loads(store_cli("status", "--now", NOW, "--format", "json").stdout)
    [row] = status["pipelines"]
    assert type(row["excluded"]) is int and row["excluded"] == 4
    assert (row["covered"], row["missing"], row["due_dates"]) == (6, 0, 10)
    assert row["coverage_pct"] == 100.0
    settled = store_cli("plan", "--now", NOW, "--detailed-exitcode")
    assert settled.returncode == 0, settled.stdout + settled.stderr

    # the exclusion lifted: the four dates are missing again, and the next apply runs them
    _write(tmp_path, HEAD)
    status = json.loads(store_cli("status", "--now", NOW, "--format", "json").stdout)
    [row] = status["pipelines"]
    assert (row["covered"], row["missing"], row["excluded"]) == (6, 4, 0)
    again = store_cli("apply", "--wait", "--now", NOW)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _ran(store_cli) == [f"2026-03-{d:02d}" for d in range(1, 11)]


FILE = "pipelines.d/orders.yaml"
MALFORMED = [
    (
        "{from: 2026-03-19, to: 2026-03-17}",
        "9:28: exclude[1].to: 2026-03-17 is before from (2026-03-19)",
    ),
    (
        "{date: 2026-03-17, to: 2026-03-18}",
        "9:12: exclude[1].date: give either date or from and to, not both",
    ),
    ("{from: 2026-03-17}", "9:5: exclude[1]: a range needs both from and to (to is missing)"),
    ("{reason: outage}", "9:5: exclude[1]: give date, or from and to"),
    (
        "{date: 2026-03-17, why: outage}",
        "9:24: exclude[1].why: unknown key 'why' (expected one of: date, from, reason, to)",
    ),
    (
        "{date: 17.03.2026}",
        "9:12: exclude[1].date: expected a date as YYYY-MM-DD, found '17.03.2026'",
    ),
    ("2026-03-17", "9:5: exclude[1]: expected a mapping, found 2026-03-17"),
]
BAD_PAUSE = [
    ("pause: yes-please\n", "7:8: pause: expected true or false, found 'yes-please'"),
    ("pause: true\npause_reason: [a, b]\n", "8:15: pause_reason: expected text, found a list"),
]
COMMANDS = [
    ("plan", "--now", NOW),
    ("apply", "--wait", "--now", NOW),
    ("status", "--now", NOW),
    ("explain", "orders", "2026-03-02", "--now", NOW),
    ("mark", "orders", "--from", "2026-03-02", "--to", "2026-03-02", "--as", "failed",
     "--reason", "r", "--now", NOW),
]  # fmt: skip


@pytest.mark.parametrize("fresh", [True, False], ids=["no state yet", "applied state"])
def test_a_malformed_exclusion_or_pause_is_refused_at_its_line_and_writes_nothing(
    tmp_path: Path, store_cli: Cli, state: list[str], fresh: bool
) -> None:
    where = location(tmp_path, state)
    if not fresh:
        _write(tmp_path, HEAD)
        done = store_cli("apply", "--wait", "--now", "2026-03-02T06:00:00")
        assert done.returncode == 0, done.stdout + done.stderr
    before = snapshot(where)
    assert bool(before) is not fresh
    good = "exclude:\n  - {date: 2026-03-02, reason: fine}\n"
    # every entry through apply, and every command (each opens the state) with one entry
    cases = [(("apply", "--wait", "--now", NOW), good + f"  - {e}\n", p) for e, p in MALFORMED]
    cases += [(c, good + f"  - {MALFORMED[0][0]}\n", MALFORMED[0][1]) for c in COMMANDS]
    cases += [(c, text, problem) for text, problem in BAD_PAUSE for c in COMMANDS[:2]]
    for command, tail, problem in cases:
        _write(tmp_path, HEAD + tail)
        refused(
            store_cli(*command),
            f"{FILE}:{problem}",
            "Error: invalid configuration: 1 problem(s)",
        )
    assert snapshot(where) == before
