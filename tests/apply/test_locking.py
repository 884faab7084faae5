"""One writing ``apply`` at a time; readers never fail because an apply is running."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from apply_helpers import ledger_command, ledger_dates, query, write_pipeline

NOW = "2026-01-10T06:00:00"
STATE = Path(".reconciler/state.duckdb")


def wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def background_apply(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "--wait", "--now", NOW],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_second_apply_refuses_naming_the_holder_while_readers_work(
    tmp_path: Path, cli, cli_env: dict[str, str]
) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    # the job holds on until the test releases it (at most 30 s)
    slow = (
        f"import time, os; open({str(started)!r}, 'w').close(); "
        f"[time.sleep(0.05) for _ in range(600) if not os.path.exists({str(release)!r})]"
    )
    write_pipeline(
        tmp_path / "pipelines.d",
        "slow",
        ledger_command(slow),
        schedule={"start": "2026-01-10"},
    )
    env = {**cli_env, "LEDGER": str(tmp_path / "ledger.txt")}
    first = background_apply(tmp_path, env)
    try:
        wait_for(started)
        second = cli("apply", "--now", NOW)
        assert second.returncode == 1
        assert "Traceback" not in second.stderr
        [line] = second.stderr.strip().splitlines()
        assert f"pid {first.pid} on {socket.gethostname()} since 2026-01-10T06:00" in line
        # readers are never refused while the apply runs (they may wait briefly)
        for command in (
            ("plan", "--now", NOW, "--format", "json"),
            ("history", "slow"),
            ("status", "--now", NOW),
        ):
            reader = cli(*command)
            assert reader.returncode == 0, (command, reader.stderr)
        assert first.poll() is None  # the job was still running all along
    finally:
        release.touch()
        _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert ledger_dates(tmp_path / "ledger.txt") == {"2026-01-10": 1}
    assert query(tmp_path / STATE, "SELECT count(*) FROM locks") == [(0,)]


def test_readers_keep_working_while_an_apply_writes_a_lot(
    tmp_path: Path, cli, cli_env: dict[str, str]
) -> None:
    write_pipeline(
        tmp_path / "pipelines.d",
        "busy",
        ledger_command(),
        schedule={"start": "2025-11-01"},
        backfill={"max_active_runs": 8},
    )
    env = {**cli_env, "LEDGER": str(tmp_path / "ledger.txt")}
    assert cli("apply", "--now", "2025-11-01T06:00:00", env=env).returncode == 0  # the state
    first = background_apply(tmp_path, env)
    try:
        wait_for(tmp_path / "ledger.txt")
        for _ in range(3):
            for command in (("plan", "--now", NOW), ("history", "busy", "--limit", "5")):
                reader = cli(*command)
                assert reader.returncode == 0, (command, reader.stderr)
    finally:
        _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert len(ledger_dates(tmp_path / "ledger.txt")) == 71


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _set_lock(state: Path, pid: int, host: str, lease: str) -> None:
    conn = duckdb.connect(str(state))
    try:
        conn.execute("DELETE FROM locks")
        conn.execute(
            "INSERT INTO locks VALUES ('apply', ?, ?, 'tok', TIMESTAMP '2026-01-10 05:00:00', "
            "CAST(? AS TIMESTAMP))",
            [pid, host, lease],
        )
    finally:
        conn.close()


def test_stale_and_foreign_locks(tmp_path: Path, cli) -> None:
    write_pipeline(
        tmp_path / "pipelines.d", "p", ledger_command(), schedule={"start": "2026-01-10"}
    )
    env = {"LEDGER": str(tmp_path / "ledger.txt")}
    assert cli("apply", "--wait", "--now", NOW, env=env).returncode == 0
    state = tmp_path / STATE

    # a holder on this host whose process is gone: taken over at once, lease or not
    _set_lock(state, _dead_pid(), socket.gethostname(), "2026-01-10 07:00:00")
    started = time.monotonic()
    taken = cli("apply", "--now", NOW, env=env)
    assert taken.returncode == 0, taken.stderr
    assert time.monotonic() - started < 20
    assert query(state, "SELECT count(*) FROM locks") == [(0,)]

    # the holder's pid now belongs to another program (a reboot, a container): taken over
    other = subprocess.Popen(["sleep", "30"])
    try:
        _set_lock(state, other.pid, socket.gethostname(), "2026-01-10 07:00:00")
        reused = cli("apply", "--now", NOW, env=env)
        assert reused.returncode == 0, reused.stderr
        assert query(state, "SELECT count(*) FROM locks") == [(0,)]
    finally:
        other.kill()
        other.wait()

    # a holder on another host is trusted until its lease expires
    _set_lock(state, 1, "elsewhere.example", "2026-01-10 07:00:00")
    refused = cli("apply", "--now", NOW, env=env)
    assert refused.returncode == 1
    assert "pid 1 on elsewhere.example" in refused.stderr and "lease until" in refused.stderr
    expired = cli("apply", "--now", "2026-01-10T07:01:00", env=env)
    assert expired.returncode == 0, expired.stderr


def test_an_apply_that_lost_its_lock_stops_and_the_next_one_finishes(
    tmp_path: Path, cli, cli_env: dict[str, str]
) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    slow = (
        f"import time, os; open({str(started)!r}, 'w').close(); "
        f"[time.sleep(0.05) for _ in range(600) if not os.path.exists({str(release)!r})]"
    )
    write_pipeline(
        tmp_path / "pipelines.d", "p", ledger_command(slow), schedule={"start": "2026-01-10"}
    )
    env = {**cli_env, "LEDGER": str(tmp_path / "ledger.txt")}
    first = background_apply(tmp_path, env)
    try:
        wait_for(started)
        # another host took the lock over (say this one was suspended past its lease)
        deadline = time.monotonic() + 30
        while True:
            try:
                _set_lock(tmp_path / STATE, 1, "elsewhere.example", "2026-01-10 08:00:00")
                break
            except duckdb.IOException:  # the apply holds the file for a moment
                assert time.monotonic() < deadline
                time.sleep(0.02)
    finally:
        release.touch()
        _, err = first.communicate(timeout=60)
    assert first.returncode == 1
    assert "lost the state lock" in err and "elsewhere.example" in err
    # once the other holder is gone, the run is adopted, recorded, and never run again
    _set_lock(tmp_path / STATE, 1, "elsewhere.example", "2026-01-10 05:59:00")
    done = cli("apply", "--wait", "--now", NOW, env=env)
    assert done.returncode == 0, done.stderr
    assert "1 adopted" in done.stdout
    assert query(tmp_path / STATE, "SELECT status FROM pipeline_run_log") == [("success",)]
    assert ledger_dates(tmp_path / "ledger.txt") == {"2026-01-10": 1}
