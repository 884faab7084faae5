"""A fleet that has never run: ``apply`` on a backlog of tens of thousands of dates writes
only what it starts (a chunk at a time), survives ``kill -9`` in the middle without
running a date twice or losing one, and stops cleanly on ^C.

Each run appends ``<pipeline> <date>`` to a ledger file (``sh``'s ``echo``: cheap, and
one short append is atomic), so the ledger says exactly what ran.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from apply_helpers import query

NOW = "2026-11-27T06:00:00"
PIPELINES = 30
START = "2024-11-28"  # two years a pipeline: 21,900 dates in all
BACKLOG = PIPELINES * 730
STEP = 150  # ledger lines a pass runs before it is killed


def write_fleet(config: Path, ledger: Path, **extra: object) -> None:
    config.mkdir(parents=True, exist_ok=True)
    for n in range(PIPELINES):
        pid = f"p{n:02d}"
        data = {
            "id": pid,
            "platform": "local",
            "trigger": {
                "command": ["/bin/sh", "-c", f"echo '{{pipeline_id}} {{dates}}' >> {ledger}"]
            },
            "schedule": {"type": "daily", "start": START},
            "retry": {"enabled": False},
            **extra,
        }
        (config / f"{pid}.yaml").write_text(json.dumps(data), encoding="utf-8")


def ledger_runs(ledger: Path) -> Counter[tuple[str, str]]:
    if not ledger.exists():
        return Counter()
    lines = [line.split() for line in ledger.read_text().splitlines() if line.strip()]
    return Counter((pid, day) for pid, day in lines)


def apply_until(
    tmp_path: Path, env: dict[str, str], ledger: Path, lines: int
) -> subprocess.Popen[bytes]:
    """``apply --wait`` running, once the ledger holds at least ``lines`` runs."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "--wait", "--now", NOW],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while sum(ledger_runs(ledger).values()) < lines:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
        assert time.monotonic() < deadline, "the pass did not get that far in 120 s"
        time.sleep(0.02)
    return proc


@pytest.mark.slow
def test_killed_in_the_middle_of_a_big_backlog_runs_no_date_twice_and_loses_none(
    tmp_path: Path, cli, cli_env: dict[str, str]
) -> None:
    ledger = tmp_path / "ledger.txt"
    config = tmp_path / "pipelines.d"
    state = tmp_path / ".reconciler" / "state.duckdb"
    write_fleet(config, ledger)
    for round_ in (1, 2, 3):
        proc = apply_until(tmp_path, cli_env, ledger, round_ * STEP)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        # only what the pass took in hand is written: never the whole backlog up front
        logged = query(state, "SELECT count(*) FROM pipeline_run_log")[0][0]
        queued = query(state, "SELECT count(*) FROM backfill_queue")[0][0]
        assert logged < round_ * STEP + 1000 < BACKLOG, logged
        assert queued < round_ * STEP + 5000 < BACKLOG, queued

    # every pipeline paused: a last pass starts nothing new and follows what is in flight
    write_fleet(config, ledger, pause=True)
    done = cli("apply", "--wait", "--now", NOW, timeout=300)
    assert done.returncode == 0, done.stderr

    ran = ledger_runs(ledger)
    assert set(ran.values()) == {1}, [k for k, n in ran.items() if n > 1][:10]
    assert sum(ran.values()) >= 3 * STEP
    succeeded = query(
        state,
        "SELECT pipeline_id, run_date::VARCHAR FROM pipeline_run_log WHERE status = 'success'",
    )
    assert Counter(succeeded) == ran  # each ran date recorded once, as a success
    assert query(state, "SELECT count(*) FROM open_dates") == [(0,)]
    assert query(
        state, "SELECT count(*) FROM pipeline_run_log WHERE status IN ('pending', 'running')"
    ) == [(0,)]
    assert query(state, "SELECT count(*) FROM locks") == [(0,)]


@pytest.mark.slow
def test_ctrl_c_stops_a_big_backlog_pass_between_two_steps(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    ledger = tmp_path / "ledger.txt"
    write_fleet(tmp_path / "pipelines.d", ledger)
    proc = apply_until(tmp_path, cli_env, ledger, 50)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err.decode().strip().splitlines()[-1] == "Error: interrupted"
    assert b"Traceback" not in err
    state = tmp_path / ".reconciler" / "state.duckdb"
    assert query(state, "SELECT count(*) FROM locks") == [(0,)]  # the lock was released
