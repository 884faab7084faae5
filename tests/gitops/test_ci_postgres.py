"""CI's PostgreSQL: the workflow gives the tests a server, and ``.ci/postgres.py`` makes
its database or fails loudly (never a swallowed error)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "postgres.py"
URL = "postgresql://postgres@127.0.0.1:5432/test"  # (the server of tests/state_pg)


def _ci_yml() -> dict[str, object]:
    return dict(yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text()))


def test_the_ci_job_has_a_healthy_trust_auth_postgres_and_names_it_once() -> None:
    job = _ci_yml()["jobs"]["test"]  # type: ignore[index]
    service = job["services"]["postgres"]
    assert str(service["image"]).startswith("postgres:")
    assert service["env"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    assert "5432:5432" in service["ports"]
    assert "--health-cmd" in service["options"] and "pg_isready" in service["options"]
    assert job["env"]["RECONCILER_TEST_POSTGRES"] == URL
    run = (ROOT / ".ci" / "run").read_text()
    assert "|| true" not in run  # a failure to start the server is not swallowed
    assert "python .ci/postgres.py" in run


def _reachable() -> bool:
    import psycopg

    try:
        psycopg.connect(URL, connect_timeout=5).close()
    except psycopg.Error:
        return False
    return True


def _run(url: str, wait: str = "10") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RECONCILER_TEST_POSTGRES": url, "CI_POSTGRES_WAIT": wait}
    return subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=120
    )


def test_the_ci_script_creates_a_missing_database() -> None:
    if not _reachable():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL tests need a server in CI: {URL}")
        pytest.skip(f"no PostgreSQL at {URL}")
    import psycopg

    name = f"ci_{uuid.uuid4().hex[:12]}"
    url = URL.rsplit("/", 1)[0] + "/" + name
    try:
        result = _run(url)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"created database {name}" in result.stdout
        assert f"PostgreSQL reachable at {url}" in result.stdout
        again = _run(url)  # an existing database is used as it is
        assert again.returncode == 0 and "created" not in again.stdout, again.stdout
    finally:
        with psycopg.connect(URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_the_ci_script_fails_loudly_without_a_server() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = _run(f"postgresql://postgres@127.0.0.1:{port}/test", wait="2")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"PostgreSQL at postgresql://postgres@127.0.0.1:{port}/test is not reachable" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
