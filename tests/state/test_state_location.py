"""A ``--state`` that is a URL of an unsupported kind is refused, never taken for a path.

Taken for a DuckDB path, ``mysql://user:password@host/db`` would create directories
named after the user and password in the working directory.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SECRET = "s3cretpw"


@pytest.mark.parametrize(
    "command",
    [
        ("apply",),
        ("plan",),
        ("status",),
        ("history", "p"),
        ("backfill", "p", "--from", "2026-01-01", "--to", "2026-01-02"),
    ],
)
@pytest.mark.parametrize(
    "url", [f"mysql://app:{SECRET}@db/x", f"postgresql+psycopg://app:{SECRET}@db/x"]
)
def test_an_unsupported_state_url_is_refused_without_a_trace(
    tmp_path: Path, cli, command: tuple[str, ...], url: str
) -> None:
    (tmp_path / "pipelines.d").mkdir()
    pipeline = {
        "id": "p",
        "platform": "local",
        "trigger": {"command": ["true"]},
        "schedule": {"type": "daily", "start": "2026-01-01"},
    }
    (tmp_path / "pipelines.d" / "p.yaml").write_text(json.dumps(pipeline), encoding="utf-8")
    done = cli(*command, "--state", url)
    assert done.returncode == 1, done.stdout + done.stderr
    scheme = url.partition("://")[0]
    assert done.stderr.strip().splitlines() == [
        f"Error: --state: a {scheme}:// URL is not a supported state; use a DuckDB file "
        "path or a postgresql:// URL"
    ]
    assert SECRET not in done.stdout + done.stderr
    assert {p.name for p in tmp_path.iterdir()} <= {".reconciler-cache", "pipelines.d"}
