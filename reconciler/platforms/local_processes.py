"""The processes of local runs as the platform sees them from outside: whether a pid or a
process group is alive, and stopping a job's group (SIGTERM, then SIGKILL after a grace)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

STARTING_GRACE = 60.0  # seconds a run directory may lack its supervisor's pid file


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (a finished child not reaped yet) is not alive
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def alive(pid_file: Path) -> bool:
    pid = read_pid(pid_file)
    return pid is not None and pid_alive(pid)


def group_alive(pgid: int) -> bool:
    """Whether a process group has a member that is not a zombie (Linux: read from /proc)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def stop_group(run_dir: Path, grace: float) -> None:
    """SIGTERM to the job's process group; SIGKILL to what is left after the grace."""
    result = run_dir / "result.json"
    end = time.monotonic() + grace
    pgid = read_pid(run_dir / "child.pid")
    while pgid is None:  # the supervisor is about to start it (or to see the cancel)
        if result.exists() or time.monotonic() > end:
            return
        if not alive(run_dir / "supervisor.pid") and age(run_dir) > STARTING_GRACE:
            return  # nobody will start it: poll says how it was lost
        time.sleep(0.02)
        pgid = read_pid(run_dir / "child.pid")
    if result.exists() or not group_alive(pgid):
        return
    signal_group(pgid, signal.SIGTERM)
    while time.monotonic() < end:
        if not group_alive(pgid):
            return
        time.sleep(0.02)
    signal_group(pgid, signal.SIGKILL)
    end = time.monotonic() + 1.0  # SIGKILL is not refused: wait for the kernel
    while group_alive(pgid) and time.monotonic() < end:
        time.sleep(0.02)
