"""Small local pipelines for end-to-end tests: files, ledgers and state queries."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb

# appends its first argument (a date, or a comma-separated list) to $LEDGER, one per line;
# no braces in the code: the command's arguments are templates
APPEND = "import sys, os; open(os.environ['LEDGER'], 'a').write(sys.argv[1] + chr(10))"


def ledger_command(*script: str) -> list[str]:
    """argv that runs ``script`` (statements) then appends ``{dates}`` to the ledger."""
    code = "; ".join([*script, APPEND]) if script else APPEND
    return [sys.executable, "-c", code, "{dates}"]


def write_pipeline(config_dir: Path, pid: str, command: list[str], **sections: Any) -> Path:
    """A pipeline file (JSON is YAML): local, daily from 2026-01-01 unless told otherwise."""
    config_dir.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "id": pid,
        "platform": "local",
        "trigger": {"command": command},
        "schedule": {"type": "daily", "start": "2026-01-01"},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    path = config_dir / f"{pid}.yaml"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def ledger_dates(ledger: Path) -> Counter[str]:
    """How many times each date was processed (multi-date lines count each date)."""
    if not ledger.exists():
        return Counter()
    return Counter(
        day for line in ledger.read_text().splitlines() if line for day in line.split(",")
    )


def query(state: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Read the state file directly (read-only, as an outside observer)."""
    conn = duckdb.connect(str(state), read_only=True)
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()


def days(first: int, last: int, month: str = "2026-01") -> list[str]:
    return [f"{month}-{d:02d}" for d in range(first, last + 1)]
