"""Pipelines, applies and state queries for end-to-end notification flows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb

STATE = Path(".reconciler/state.duckdb")
FAIL = [sys.executable, "-c", "import sys; sys.exit('boom: ' + sys.argv[1])", "{date}"]
OK = [sys.executable, "-c", "pass"]


def sleeper(seconds: float) -> list[str]:
    return [sys.executable, "-c", f"import time; time.sleep({seconds})"]


def write_pipeline(config_dir: Path, pid: str, command: list[str], **sections: Any) -> None:
    """A local daily pipeline from 2026-01-01 (JSON is YAML); ``sections`` override."""
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
    (config_dir / f"{pid}.yaml").write_text(json.dumps(data, indent=2), encoding="utf-8")


def apply(
    cli: Any, now: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done: subprocess.CompletedProcess[str] = cli("apply", "--wait", "--now", now, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def notify_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [
        line[len("notify: ") :] for line in done.stdout.splitlines() if line.startswith("notify: ")
    ]


def query(tmp: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    conn = duckdb.connect(str(tmp / STATE), read_only=True)
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()


def notifications(tmp: Path) -> list[tuple[Any, ...]]:
    """(pipeline, event, channel, date, status, attempts) of every notification, sorted."""
    return query(
        tmp,
        """SELECT pipeline_id, notification_type, notification_channel, run_date,
                  notification_status, attempts
           FROM pipeline_notifications ORDER BY ALL""",
    )
