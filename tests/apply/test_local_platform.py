"""The local platform on its own: start, poll, exactly-once starts, pruning."""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from reconciler.config.models import PIPELINE_ADAPTER
from reconciler.platforms.base import PollResult, RunRequest
from reconciler.platforms.local import LocalPlatform

APPEND = "import sys, os; open(os.environ['LEDGER'], 'a').write(sys.argv[1] + chr(10))"


def request(tmp_path: Path, batch_id: str, code: str = APPEND, **trigger: object) -> RunRequest:
    model = PIPELINE_ADAPTER.validate_python(
        {
            "id": "p",
            "platform": "local",
            "trigger": {"command": [sys.executable, "-c", code, "{date}"], **trigger},
            "schedule": {"type": "daily", "start": "2026-01-01"},
        }
    )
    return RunRequest(
        batch_id=batch_id,
        key=batch_id * 2,
        pipeline=model,
        dates=(date(2026, 1, 5),),
        attempt=1,
        values={"date": "2026-01-05"},
        parameters={"run_date": "2026-01-05"},
    )


def wait_done(platform: LocalPlatform, batch_id: str, timeout: float = 30) -> PollResult:
    deadline = time.monotonic() + timeout
    while True:
        result = platform.poll(batch_id, batch_id)
        if result.state in ("success", "failed") or time.monotonic() > deadline:
            return result
        platform.wait(0.1)


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ledger.txt"
    monkeypatch.setenv("LEDGER", str(path))
    return path


def test_a_run_is_started_once_and_its_outcome_read_from_disk(tmp_path: Path, ledger: Path) -> None:
    platform = LocalPlatform(tmp_path / "runs")
    assert platform.poll("b1", None).state == "not_started"
    assert platform.start(request(tmp_path, "b1")).run_id == "b1"
    assert platform.start(request(tmp_path, "b1")).run_id == "b1"  # a repeated start is a no-op
    assert wait_done(platform, "b1").state == "success"
    platform.close()
    # another platform (the next pass) reads the same outcome and starts nothing
    again = LocalPlatform(tmp_path / "runs")
    assert again.start(request(tmp_path, "b1")).run_id == "b1"
    assert again.poll("b1", "b1").state == "success"
    again.close()
    assert ledger.read_text() == "2026-01-05\n"


def test_a_failure_carries_the_tail_of_stderr(tmp_path: Path) -> None:
    platform = LocalPlatform(tmp_path / "runs")
    code = "import sys; sys.stderr.write('x' * 5000 + 'the real reason'); sys.exit(2)"
    platform.start(request(tmp_path, "bad", code))
    result = wait_done(platform, "bad")
    platform.close()
    assert result.state == "failed" and result.ended_at is not None
    assert result.error is not None and result.error.startswith("exit code 2: ")
    assert result.error.endswith("the real reason") and len(result.error) < 2100


def test_a_run_whose_supervisor_died_is_failed(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "orphan"
    run_dir.mkdir(parents=True)
    dead = os.fork()
    if dead == 0:  # pragma: no cover - the child exits at once
        os._exit(0)
    os.waitpid(dead, 0)
    (run_dir / "supervisor.pid").write_text(str(dead))
    result = LocalPlatform(tmp_path / "runs").poll("orphan", "orphan")
    assert result.state == "failed" and "supervisor died" in (result.error or "")


def test_prune_removes_only_old_finished_runs(tmp_path: Path, ledger: Path) -> None:
    platform = LocalPlatform(tmp_path / "runs")
    for batch_id in ("old", "kept", "recent"):
        platform.start(request(tmp_path, batch_id))
    for batch_id in ("old", "kept", "recent"):
        assert wait_done(platform, batch_id).state == "success"
    platform.close()
    long_ago = time.time() - 30 * 86400
    for batch_id in ("old", "kept"):
        os.utime(tmp_path / "runs" / batch_id / "result.json", (long_ago, long_ago))
    (tmp_path / "runs" / "unfinished").mkdir()
    assert platform.prune(keep={"kept"}) == 1
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "kept",
        "recent",
        "unfinished",
    ]
