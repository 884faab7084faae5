"""Crash safety: ``apply`` killed with SIGKILL at random moments never runs a date twice
and never loses one.

The local supervisor runs detached (its own session), so jobs started before a kill
go on and record their exit status; the next apply adopts them.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from apply_helpers import ledger_command, ledger_dates, query, write_pipeline

NOW = "2026-03-31T06:00:00"  # 2026-01-01..2026-03-31: 90 daily dates
DATES = 90
KILLS = 10  # kills that must land while dates are still left to run
MAX_ROUNDS = 40  # on a loaded machine some rounds finish before the kill lands


def apply_process(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "--wait", "--now", NOW],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_apply_killed_at_random_moments_runs_every_date_exactly_once(
    tmp_path: Path, cli, cli_env: dict[str, str]
) -> None:
    rng = random.Random(20261127)
    ledger = tmp_path / "ledger.txt"
    env = {**cli_env, "LEDGER": str(ledger)}
    write_pipeline(
        tmp_path / "pipelines.d",
        "crashy",
        ledger_command("import random, time", "time.sleep(0.1 + random.random() * 0.4)"),
        backfill={"max_active_runs": 4},
        batch={"multi_date": False},
    )
    kills, mid_work = 0, 0
    for round_ in range(MAX_ROUNDS):
        if mid_work >= KILLS:
            break
        if sum(ledger_dates(ledger).values()) >= DATES - 1:
            break  # nothing left to interrupt
        before = sum(ledger_dates(ledger).values())
        proc = apply_process(tmp_path, env)
        if round_ % 3 == 0:
            # start-up, lock, config sync, adoption and planning
            time.sleep(rng.uniform(0.05, 0.5))
        else:
            # deep inside the pass: after a few more dates were done, give or take
            target = min(DATES - 1, before + rng.randint(1, 3))
            deadline = time.monotonic() + 20
            while (
                sum(ledger_dates(ledger).values()) < target
                and proc.poll() is None
                and time.monotonic() < deadline
            ):
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.12))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
            mid_work += sum(ledger_dates(ledger).values()) < DATES
        _, err = proc.communicate(timeout=60)
        assert proc.returncode in (0, -signal.SIGKILL), err.decode()
        assert b"Traceback" not in err
    assert mid_work >= KILLS, (kills, mid_work)

    # a clean finish: apply until the plan has nothing to do and nothing is in flight
    deadline = time.monotonic() + 60
    while True:
        done = cli("apply", "--wait", "--now", NOW, env={"LEDGER": str(ledger)})
        assert done.returncode == 0, done.stderr
        plan = cli("plan", "--now", NOW, "--format", "json")
        assert plan.returncode == 0, plan.stderr
        if not json.loads(plan.stdout)["actions"]:
            break
        assert time.monotonic() < deadline, plan.stdout

    counts = ledger_dates(ledger)
    assert len(counts) == DATES
    assert set(counts.values()) == {1}, {d: n for d, n in counts.items() if n != 1}
    state = tmp_path / ".reconciler" / "state.duckdb"
    assert query(state, "SELECT range_start::VARCHAR, range_end::VARCHAR FROM coverage") == [
        ("2026-01-01", "2026-03-31")
    ]
    assert query(
        state, "SELECT status, count(*), count(DISTINCT run_date) FROM pipeline_run_log GROUP BY 1"
    ) == [("success", DATES, DATES)]
    assert query(state, "SELECT count(*) FROM open_dates") == [(0,)]
    assert query(state, "SELECT count(*) FROM locks") == [(0,)]
