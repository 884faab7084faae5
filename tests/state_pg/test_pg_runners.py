"""Several runners on one PostgreSQL state: work split, every date started exactly once.

Each run appends its date and its runner (the local platform's worker process) to a
file, so a date started twice, or by nobody, shows.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

from pg_helpers import write_pipeline

from reconciler.state.postgres_store import PostgresStore
from tests import store_reads as reads

START = date(2025, 1, 1)
NOW = "2026-01-10T06:00:00"
NOW_DT = datetime.fromisoformat(NOW)
DATES = (date(2026, 1, 10) - START).days + 1  # 375


def _recorder(log: Path, sleep: float = 0.0) -> list[str]:
    code = (
        "import os, sys, time; time.sleep(float(sys.argv[2])); "
        "f = open(sys.argv[1], 'a'); f.write(sys.argv[3] + ' ' + str(os.getppid()) + '\\n'); "
        "f.close()"
    )
    return [sys.executable, "-c", code, str(log), str(sleep), "{date}"]


def _apply(tmp: Path, env: dict[str, str], url: str, now: str = NOW) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "--wait", "--now", now, "--state", url],
        cwd=tmp,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _started(output: str) -> int:
    found = re.search(r"Applied: (\d+) run\(s\) started", output)
    assert found, output
    return int(found.group(1))


def test_four_runners_start_every_date_exactly_once(
    tmp_path: Path, cli_env: dict[str, str], pg_url: str
) -> None:
    log = tmp_path / "runs.log"
    for pid in ("a", "b"):
        write_pipeline(
            tmp_path / "pipelines.d",
            pid,
            _recorder(log, 0.02),
            schedule={"type": "daily", "start": START.isoformat()},
        )
    # config sync and migration first, so that the four race for runs only
    runners = [_apply(tmp_path, cli_env, pg_url) for _ in range(4)]
    outputs = [r.communicate(timeout=300)[0] for r in runners]
    for r, out in zip(runners, outputs, strict=True):
        assert r.returncode == 0, out
    lines = log.read_text().split()
    days = Counter(lines[0::2])
    assert len(days) == DATES, f"{len(days)} distinct dates of {DATES}"
    # each date ran once per pipeline (two pipelines), never twice
    assert set(days.values()) == {2}, [d for d, n in days.items() if n != 2][:5]
    started = [_started(o) for o in outputs]
    assert sum(started) == 2 * DATES
    assert sum(1 for s in started if s > 0) >= 2, started  # the work was shared
    observed = reads.observe(PostgresStore(pg_url), ["a", "b"])
    for pid in ("a", "b"):
        assert observed.of(pid).covered == ((START, date(2026, 1, 10)),)


def test_a_killed_runners_claims_are_taken_over_after_the_lease(
    tmp_path: Path, cli_env: dict[str, str], pg_url: str
) -> None:
    log = tmp_path / "runs.log"
    write_pipeline(
        tmp_path / "pipelines.d",
        "slow",
        _recorder(log, 0.5),
        schedule={"type": "daily", "start": "2026-01-01"},
    )
    victim = _apply(tmp_path, cli_env, pg_url)
    store = PostgresStore(pg_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not reads.in_flight(store):
        time.sleep(0.05)
    assert reads.in_flight(store), "the first runner never started a run"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    # within the lease: its claims hold, a second runner leaves its batches alone
    early = _apply(tmp_path, cli_env, pg_url, "2026-01-10T06:00:10")
    early_out = early.communicate(timeout=120)[0]
    assert early.returncode == 0, early_out
    assert "0 adopted" in early_out, early_out
    # after the lease: taken over, followed (not started again) and finished
    late_now = (NOW_DT + timedelta(minutes=2)).isoformat()
    late = _apply(tmp_path, cli_env, pg_url, late_now)
    late_out = late.communicate(timeout=120)[0]
    assert late.returncode == 0, late_out
    assert not reads.in_flight(store), late_out
    days = Counter(log.read_text().split()[0::2])
    assert len(days) == 10 and set(days.values()) == {1}, days
    assert reads.observe(store, ["slow"]).of("slow").covered == (
        (date(2026, 1, 1), date(2026, 1, 10)),
    )
