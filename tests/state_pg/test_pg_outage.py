"""PostgreSQL outages under real runners: a TCP proxy in front of the server is cut,
restored or frozen; runners are suspended with SIGSTOP. The shared server itself is
never touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from pg_helpers import write_pipeline
from pg_proxy import PgProxy

from reconciler.state.postgres_store import PostgresStore
from tests import store_reads as reads

NOW = "2026-01-10T06:00:00"
LATER = (datetime.fromisoformat(NOW) + timedelta(minutes=2)).isoformat()
START = date(2025, 12, 1)
DATES = (date(2026, 1, 10) - START).days + 1


@pytest.fixture
def proxy(pg_server: str) -> Iterator[PgProxy]:
    p = PgProxy(pg_server)
    yield p
    p.close()


def _recorder(log: Path, sleep: float) -> list[str]:
    code = (
        "import os, sys, time; time.sleep(float(sys.argv[2])); "
        "f = open(sys.argv[1], 'a'); f.write(sys.argv[3] + '\\n'); f.close()"
    )
    return [sys.executable, "-c", code, str(log), str(sleep), "{date}"]


def _apply(
    tmp: Path, env: dict[str, str], url: str, now: str = NOW, *extra: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "apply",
            "--wait",
            "--now",
            now,
            "--state",
            url,
            *extra,
        ],
        cwd=tmp,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _via(proxy: PgProxy, pg_url: str) -> str:
    return proxy.url(pg_url)


def _wait_for(check: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def _registered(pg_url: str) -> int:
    """How many runners are registered (their ``runner:`` lease rows)."""
    with psycopg.connect(pg_url) as conn:
        try:
            row = conn.execute("SELECT count(*) FROM locks WHERE name LIKE 'runner:%%'").fetchone()
        except psycopg.errors.UndefinedTable:
            return 0  # (not migrated yet)
    return int(row[0]) if row else 0


def _claims(pg_url: str, pid: int | None = None) -> int:
    sql = (
        "SELECT count(*) FROM locks WHERE name LIKE 'claim:%%' "
        "AND holder_pid = coalesce(%s, holder_pid)"
    )
    with psycopg.connect(pg_url) as conn:
        try:
            row = conn.execute(sql, [pid]).fetchone()
        except psycopg.errors.UndefinedTable:
            return 0  # (not migrated yet)
    return int(row[0]) if row else 0


def test_a_one_second_bounce_costs_two_runners_nothing(
    tmp_path: Path, cli_env: dict[str, str], pg_url: str, proxy: PgProxy
) -> None:
    log = tmp_path / "runs.log"
    for pid in ("a", "b"):
        write_pipeline(
            tmp_path / "pipelines.d",
            pid,
            _recorder(log, 0.1),
            schedule={"type": "daily", "start": START.isoformat()},
        )
    url = _via(proxy, pg_url)
    runners = [_apply(tmp_path, cli_env, url) for _ in range(2)]
    store = PostgresStore(pg_url)
    # both runners have reached the server (a refused first connection would be taken
    # for a wrong --state, not an outage)
    _wait_for(lambda: reads.in_flight(store) and _registered(pg_url) == 2)
    proxy.cut()  # every connection broken, new ones refused
    time.sleep(1)
    proxy.restore()
    outputs = [r.communicate(timeout=300)[0] for r in runners]
    for r, out in zip(runners, outputs, strict=True):
        assert r.returncode == 0, out
        assert "Traceback" not in out, out
    assert any("reconnected after" in out for out in outputs), outputs
    days = Counter(log.read_text().split())
    assert len(days) == DATES and set(days.values()) == {2}, days  # each once per pipeline
    for pid in ("a", "b"):
        assert reads.observe(store, [pid]).of(pid).covered == ((START, date(2026, 1, 10)),)


def test_an_outage_past_the_deadline_is_one_line_and_the_claims_are_said(
    tmp_path: Path, cli_env: dict[str, str], pg_url: str, proxy: PgProxy
) -> None:
    write_pipeline(
        tmp_path / "pipelines.d",
        "slow",
        _recorder(tmp_path / "runs.log", 1.0),
        schedule={"type": "daily", "start": "2026-01-01"},
    )
    env = {**cli_env, "RECONCILER_PG_RECONNECT_SECONDS": "2"}
    runner = _apply(tmp_path, env, _via(proxy, pg_url))
    _wait_for(lambda: _claims(pg_url) > 0)
    proxy.cut()
    out = runner.communicate(timeout=120)[0]
    proxy.restore()
    assert runner.returncode == 1, out
    assert "Traceback" not in out and "internal error" not in out, out
    assert "is unreachable" in out and "reconnecting for up to 2 s" in out, out
    error = [line for line in out.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and "stayed unreachable for 2 s" in error[0], out
    # what it could not release is said, and taken over once the lease has run out
    assert "could not release this runner's claims" in out, out
    assert _claims(pg_url) > 0
    late = _apply(tmp_path, cli_env, pg_url, LATER)
    late_out = late.communicate(timeout=120)[0]
    assert late.returncode == 0, late_out
    assert not reads.in_flight(PostgresStore(pg_url)), late_out


def test_runs_a_killed_runner_still_claims_are_reported_not_hidden(
    tmp_path: Path, cli_env: dict[str, str], pg_url: str
) -> None:
    write_pipeline(
        tmp_path / "pipelines.d",
        "slow",
        _recorder(tmp_path / "runs.log", 1.0),
        schedule={"type": "daily", "start": "2026-01-01"},
    )
    victim = _apply(tmp_path, cli_env, pg_url)
    _wait_for(lambda: _claims(pg_url, victim.pid) > 0)
    held = _claims(pg_url, victim.pid)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    other = _apply(tmp_path, cli_env, pg_url, "2026-01-10T06:00:05")
    out = other.communicate(timeout=120)[0]
    assert other.returncode == 0, out
    lines = [line for line in out.splitlines() if line.startswith("in flight elsewhere:")]
    assert lines, out
    assert f"run(s) followed by runner pid {victim.pid} on " in lines[0], out
    assert sum(int(line.split()[3]) for line in lines) >= held, out


def _suspended_runner(tmp_path: Path, env: dict[str, str], pg_url: str) -> subprocess.Popen[str]:
    write_pipeline(
        tmp_path / "pipelines.d",
        "slow",
        _recorder(tmp_path / "runs.log", 2.0),
        schedule={"type": "daily", "start": "2026-01-01"},
    )
    frozen = _apply(tmp_path, env, pg_url, NOW, "--max-parallel", "4")
    _wait_for(lambda: _claims(pg_url, frozen.pid) > 0)
    os.kill(frozen.pid, signal.SIGSTOP)
    return frozen


def test_a_frozen_runner_names_the_runner_that_took_its_runs(
    tmp_path: Path, cli_env: dict[str, str], pg_url: str
) -> None:
    frozen = _suspended_runner(tmp_path, cli_env, pg_url)
    try:
        # a runner whose clock is past the frozen one's lease removes it and adopts its runs
        other = _apply(tmp_path, cli_env, pg_url, LATER, "--max-parallel", "1")
        _wait_for(lambda: _claims(pg_url, other.pid) > 0)
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
    out = frozen.communicate(timeout=120)[0]
    other_out = other.communicate(timeout=300)[0]
    assert other.returncode == 0, other_out
    assert frozen.returncode == 1, out
    assert "lease (60 s) ran out without a renewal" in out, out
    assert "now followed by another runner (" in out and f"by runner pid {other.pid} on " in out
    days = Counter(tmp_path.joinpath("runs.log").read_text().split())
    assert set(days.values()) == {1}, days  # nothing ran twice


def test_a_frozen_runner_whose_runs_nobody_took_registers_again(
    tmp_path: Path, cli_env: dict[str, str], pg_url: str
) -> None:
    frozen = _suspended_runner(tmp_path, cli_env, pg_url)
    try:
        # a later runner removes the frozen one's registration; with no config of its
        # own it has nothing to adopt... so it adopts and finishes the frozen one's runs
        # and releases them: by the time the frozen one wakes, nobody holds them
        empty = tmp_path / "other"
        empty.mkdir()
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", "apply", "--now", LATER, "--state", pg_url],
            cwd=empty,
            env={**cli_env, "RECONCILER_CONFIG_DIR": str(tmp_path / "pipelines.d")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert _claims(pg_url, frozen.pid) == 0
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
    out = frozen.communicate(timeout=300)[0]
    assert frozen.returncode == 0, out
    assert "registered again and carries on" in out, out


def test_errors_that_are_not_outages_fail_at_once(tmp_path: Path, cli, pg_server: str) -> None:
    write_pipeline(tmp_path / "pipelines.d", "daily", _recorder(tmp_path / "runs.log", 0))
    missing = pg_server.rsplit("/", 1)[0] + f"/no_such_db_{os.getpid()}"
    started = time.monotonic()
    result = cli("plan", "--now", NOW, "--state", missing)
    assert result.returncode == 1, result.stdout + result.stderr
    assert time.monotonic() - started < 25  # not waited out as an outage (30 s)
    assert "reconnecting" not in result.stderr
    assert result.stderr.startswith("Error: cannot connect to the PostgreSQL state ")
    assert "does not exist" in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("command", ["plan", "status", "apply"])
def test_a_refused_first_connection_is_a_configuration_error_at_once(
    tmp_path: Path, cli, proxy: PgProxy, pg_url: str, command: str
) -> None:
    write_pipeline(tmp_path / "pipelines.d", "daily", _recorder(tmp_path / "runs.log", 0))
    url = _via(proxy, pg_url)
    proxy.cut()  # nothing listens at the URL's port: a wrong port, or a server not started
    started = time.monotonic()
    result = cli(command, "--now", NOW, "--state", url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert time.monotonic() - started < 25  # not waited out as an outage (30 s)
    assert "reconnecting" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: cannot connect to the PostgreSQL state ")
    assert "Connection refused (no server answered; check the host and port" in lines[0]


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf"])
def test_a_bad_reconnect_window_is_refused_naming_the_variable(
    tmp_path: Path, cli, pg_url: str, value: str
) -> None:
    write_pipeline(tmp_path / "pipelines.d", "daily", _recorder(tmp_path / "runs.log", 0))
    result = cli("status", "--state", pg_url, env={"RECONCILER_PG_RECONNECT_SECONDS": value})
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"Error: RECONCILER_PG_RECONNECT_SECONDS={value!r}: expected a number of seconds, "
        "0 or more (e.g. 30)"
    )
    assert (
        cli("status", "--state", pg_url, env={"RECONCILER_PG_RECONNECT_SECONDS": "2.5"}).returncode
        == 0
    )
