"""Cancelling local runs: the job's whole process group stops (SIGTERM, then SIGKILL),
the run is recorded as cancelled, and a run that has ended or was never started is
handled without an error."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from test_local_platform import request, wait_done

from reconciler.errors import PermanentError
from reconciler.platforms.local import LocalPlatform
from reconciler.state.local_runs import LocalRun

# the job starts a child that sleeps, says both pids, then sleeps itself
FAMILY = (
    "import os, subprocess, sys, time, pathlib;"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
    "pathlib.Path(os.environ['PIDS']).write_text(str(os.getpid()) + ' ' + str(child.pid));"
    "time.sleep(60)"
)
# the same, both deaf to SIGTERM
STUBBORN = (
    "import os, signal, subprocess, sys, time, pathlib;"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN);"
    "child = subprocess.Popen([sys.executable, '-c', "
    "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)']);"
    "pathlib.Path(os.environ['PIDS']).write_text(str(os.getpid()) + ' ' + str(child.pid));"
    "time.sleep(60)"
)


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def pids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "pids.txt"
    monkeypatch.setenv("PIDS", str(path))
    return path


def family(pids: Path, timeout: float = 20) -> list[int]:
    deadline = time.monotonic() + timeout
    while not pids.exists() or len(pids.read_text().split()) < 2:
        assert time.monotonic() < deadline, "the job did not start"
        time.sleep(0.02)
    return [int(p) for p in pids.read_text().split()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("code", [FAMILY, STUBBORN], ids=["sigterm", "sigkill"])
def test_a_running_job_and_its_children_are_stopped_and_recorded_cancelled(
    tmp_path: Path, pids: Path, code: str
) -> None:
    platform = LocalPlatform(tmp_path / "runs")
    platform.cancel_grace = 0.5
    run = request(tmp_path, "c1", code)
    platform.start(run)
    job, child = family(pids)
    assert alive(job) and alive(child)
    started = time.monotonic()
    platform.cancel(run, "c1")
    assert not alive(job) and not alive(child)
    if code == STUBBORN:
        assert time.monotonic() - started >= 0.5  # SIGKILL only after the grace
    result = wait_done(platform, "c1")
    assert result.state == "failed" and result.canceled, result
    assert result.error is not None and result.error.startswith("cancelled (exit code -")
    platform.cancel(run, "c1")  # twice: it has ended, nothing to do
    platform.close()
    recorded = json.loads((tmp_path / "runs" / "c1" / "result.json").read_text())
    assert recorded["canceled"] is True
    # the next pass reads the same
    assert LocalPlatform(tmp_path / "runs").poll("c1", "c1").canceled


def test_a_run_that_ended_is_left_as_it_ended(tmp_path: Path, pids: Path) -> None:
    platform = LocalPlatform(tmp_path / "runs")
    run = request(tmp_path, "done", "print('ok')")
    platform.start(run)
    assert wait_done(platform, "done").state == "success"
    platform.cancel(run, "done")
    platform.cancel(run, "done")
    result = platform.poll("done", "done")
    platform.close()
    assert result.state == "success" and not result.canceled
    assert not (tmp_path / "runs" / "done" / "cancel").exists()


def test_a_run_cancelled_before_it_started_never_starts(tmp_path: Path, pids: Path) -> None:
    platform = LocalPlatform(tmp_path / "runs")
    run = request(tmp_path, "early", FAMILY)
    platform.cancel(run, None)
    assert platform.start(run).run_id == "early"  # its directory says: never start it
    result = wait_done(platform, "early")
    platform.close()
    assert result.state == "failed" and result.canceled
    assert result.error == "cancelled (before its job started)"
    time.sleep(0.3)
    assert not pids.exists()  # the job never ran
    assert not (tmp_path / "runs" / "early" / "stdout.log").exists()


def test_a_run_of_another_host_is_cancelled_there(tmp_path: Path) -> None:
    platform = LocalPlatform(tmp_path / "runs", host="here")
    platform._owners["far"] = LocalRun(batch_id="far", host="elsewhere", runs_dir="/x/runs")
    with pytest.raises(
        PermanentError, match=r"belongs to host elsewhere .*cancel it from that host"
    ):
        platform.cancel(request(tmp_path, "far"), "far")
    assert not (tmp_path / "runs" / "far").exists()


def test_the_supervisor_sees_a_cancel_written_before_the_job_starts(tmp_path: Path) -> None:
    from reconciler.platforms.local_supervisor import supervise

    run_dir = tmp_path / "r"
    marker = tmp_path / "ran"
    spec = {"argv": [sys.executable, "-c", f"open({str(marker)!r}, 'w')"], "cwd": os.getcwd()}
    # the canceller wrote its file between the supervisor's mkdir and the job's start
    original_mkdir = Path.mkdir

    def mkdir_then_cancel(self: Path, *args: object, **kwargs: object) -> None:
        original_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]
        if self == run_dir:
            (run_dir / "cancel").write_text("now")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "mkdir", mkdir_then_cancel)
        assert supervise(run_dir, spec)
    result = json.loads((run_dir / "result.json").read_text())
    assert result["canceled"] is True and result["returncode"] == 130
    assert not marker.exists()
