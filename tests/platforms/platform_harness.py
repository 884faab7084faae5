"""``reconciler apply`` as a subprocess against the test servers: config, env, state reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
from platform_support import TOKEN, pipeline_data

from tests.servers.base import ApiServer

STATE = Path(".reconciler/state.duckdb")
LEDGER_KEY = {"databricks": "key", "snowflake": "key", "http": "key", "dbt": "key"}


def write_config(work: Path, platform: str, server: ApiServer, **sections: Any) -> None:
    config = work / "pipelines.d"
    config.mkdir(parents=True, exist_ok=True)
    data = pipeline_data(platform, server.url, pid=f"{platform}_pipe", **sections)
    (config / f"{platform}.yaml").write_text(json.dumps(data, indent=2), encoding="utf-8")


def apply_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    env.update(
        {
            "NO_COLOR": "1",
            "PYTHONUNBUFFERED": "1",
            "TEST_TOKEN": TOKEN,
            "TEST_HOOK_HEADERS": json.dumps({"Authorization": f"Bearer {TOKEN}"}),
            "RECONCILER_HTTP_TIMEOUT": "0.5",
            "RECONCILER_HTTP_DEADLINE": "8",
        }
    )
    env.pop("GITHUB_ACTIONS", None)
    env.update(extra)
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "reconciler", *args]


def run_cli(work: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args), cwd=work, env=apply_env(), capture_output=True, text=True, timeout=timeout
    )


def query(work: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = duckdb.connect(str(work / STATE), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def state_bytes(work: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (work / STATE).parent.rglob("*") if p.is_file())


def created_per_date(server: ApiServer) -> Counter[str]:
    return Counter(str(e["date"]) for e in server.created)


def created_per_key(server: ApiServer) -> Counter[str]:
    return Counter(str(e["key"]) for e in server.created)
