"""The supervisor's writes to a PostgreSQL state: when a job may start, what it records.

Real supervisor code against a real server: a row that ended (or whose lease ran out
while the run waited for a slot) never starts its job; the state holds the exit code,
never the job's stderr; the lease goes on until the outcome is written.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pg_helpers import write_pipeline

from reconciler.platforms.local_supervisor import StateLink, supervise
from reconciler.state import local_runs
from reconciler.state.connection import reading, transaction

LEASE = 180.0


def _row(url: str, batch_id: str, alive_until: datetime) -> None:
    with transaction(url) as conn:
        local_runs.record_owners(conn, [batch_id], "h", "/runs", alive_until)


def _spec(ledger: Path, url: str, batch_id: str) -> dict[str, object]:
    code = "import sys; open(sys.argv[1], 'a').write('ran' + chr(10))"
    return {"argv": [sys.executable, "-c", code, str(ledger)], "batch_id": batch_id,
            "state": url, "lease": LEASE}  # fmt: skip


def test_a_run_whose_row_ended_or_lapsed_never_starts(tmp_path: Path, pg_url: str) -> None:
    now = datetime.now(UTC)
    _row(pg_url, "ended", now + timedelta(minutes=3))
    with transaction(pg_url) as conn:
        conn.execute(
            "UPDATE local_runs SET ended_at = ?, returncode = 1", [now.replace(tzinfo=None)]
        )
    _row(pg_url, "lapsed", now - timedelta(seconds=1))
    _row(pg_url, "live", now + timedelta(seconds=5))
    ledger = tmp_path / "ledger.txt"
    for batch_id in ("ended", "lapsed", "live"):
        spec = _spec(ledger, pg_url, batch_id)
        link = StateLink(pg_url, LEASE, spec)
        assert supervise(tmp_path / batch_id, spec, link)
    assert ledger.read_text() == "ran\n"  # the live one only
    refused = json.loads((tmp_path / "lapsed" / "result.json").read_text())
    assert refused["returncode"] == 125 and "lease ran out" in refused["error"]
    with reading(pg_url) as conn:
        rows = local_runs.read(conn, ["live"])
    # renewed at its start (not a quarter lease later), then ended
    assert rows["live"].returncode == 0


def test_the_state_gets_the_exit_code_and_the_run_dir_the_stderr(
    tmp_path: Path, pg_url: str, cli_env: dict[str, str]
) -> None:
    code = "import sys; sys.stderr.write('token=hunter2-in-stderr'); sys.exit(3)"
    write_pipeline(tmp_path / "pipelines.d", "orders", [sys.executable, "-c", code])
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "apply", "--wait", "--now", "2026-01-01T06:00:00",
         "--state", pg_url, "--runs-dir", str(tmp_path / "runs")],
        cwd=tmp_path, env=cli_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    with reading(pg_url) as conn:
        (error,) = conn.execute("SELECT error FROM local_runs").fetchone() or (None,)
        (logged,) = conn.execute("SELECT error_message FROM pipeline_run_log").fetchone() or ("",)
    assert error == "exit code 3"
    assert "hunter2-in-stderr" in logged  # the owner host read the tail from its run dir
    (result,) = (tmp_path / "runs").glob("*/result.json")
    assert "hunter2-in-stderr" in result.read_text()


def test_the_lease_is_renewed_until_the_outcome_is_written(tmp_path: Path) -> None:
    # a state that cannot be reached: the outcome is retried, the run stays renewed
    link = StateLink("postgresql://nobody@127.0.0.1:1/none", LEASE, {})
    link.running.add("b1")
    ended = datetime.now(UTC)
    writer = threading.Thread(
        target=link.end, args=("b1", {"returncode": 0, "error": None}, ended, 3.0)
    )
    writer.start()
    time.sleep(1.0)
    assert "b1" in link.running  # still renewed while the outcome waits
    writer.join(timeout=30)
    assert not writer.is_alive() and "b1" not in link.running


def test_a_run_whose_default_runs_dir_was_wiped_is_lost_never_started_twice(
    tmp_path: Path, pg_url: str, cli_env: dict[str, str]
) -> None:
    import subprocess

    ledger = tmp_path / "ledger.txt"
    code = "import sys, time; open(sys.argv[1], 'a').write(sys.argv[2] + chr(10)); time.sleep(6)"
    write_pipeline(
        tmp_path / "pipelines.d", "orders", [sys.executable, "-c", code, str(ledger), "{date}"]
    )
    env = {**cli_env, "XDG_STATE_HOME": str(tmp_path / "xdg")}

    def apply(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "reconciler", "apply", *extra, "--now",
             "2026-01-01T06:00:00", "--state", pg_url],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    first = apply()
    assert "1 still running" in first.stdout, first.stdout + first.stderr
    deadline = time.monotonic() + 30
    while not ledger.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    (tmp_path / "xdg").rename(tmp_path / "xdg.old")  # same host, runs dir gone
    done = apply("--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    assert ledger.read_text().split() == ["2026-01-01"]
    with reading(pg_url) as conn:
        (status, error) = conn.execute(
            "SELECT status, error_message FROM pipeline_run_log"
        ).fetchone() or ("", "")
    assert status == "failed" and "is gone" in error
