"""Runs local jobs and records their exit status on disk, outliving the reconciler.

Started detached (its own session) by the local platform, once per pass: it reads one
JSON line per run on stdin, runs each job in a thread, writes
``<run_dir>/result.json`` when the job ends and prints the run directory's name on
stdout (so the reconciler wakes up at once). At the end of stdin (the pass is over,
or the reconciler was killed) it finishes the jobs it holds, then exits.

``mkdir`` of the run directory is the exactly-once guard: a second request for the
same batch (from this supervisor or another) finds the directory and starts nothing.

Stdlib only, and run with ``python -I -S``, so it starts fast. ``python
local_supervisor.py RUN_DIR SPEC_JSON`` runs a single job (the older form).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

TAIL_BYTES = 2000
KILL_GRACE = 5.0


def _write_atomic(path: Path, text: str) -> None:
    """Readers see the whole file or none of it.

    Atomic against a crash of any process; durability against power loss is not needed:
    a lost result reads as "the supervisor died" and the run is retried by policy.
    """
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(size - TAIL_BYTES, 0))
            return handle.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _run(run_dir: Path, spec: dict[str, Any]) -> dict[str, object]:
    """Start the job, wait for it (killing its process group on timeout), say how it ended."""
    timeout = spec.get("timeout")
    env = dict(os.environ)
    env.update({str(k): str(v) for k, v in dict(spec.get("env") or {}).items()})
    argv = [str(a) for a in spec["argv"]]
    cwd = str(spec.get("cwd") or os.getcwd())
    if not os.path.isdir(cwd):
        return {"returncode": 127, "error": f"cannot start: working directory {cwd} not found"}
    stderr_path = run_dir / "stderr.log"
    with (run_dir / "stdout.log").open("wb") as stdout, stderr_path.open("wb") as stderr:
        try:
            child = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        except OSError as exc:
            return {"returncode": 127, "error": f"cannot start {argv[0]!r}: {exc.strerror or exc}"}
        _write_atomic(run_dir / "child.pid", str(child.pid))
        try:
            returncode = child.wait(timeout=float(timeout) if timeout else None)
        except subprocess.TimeoutExpired:
            # the whole process group goes: the job and whatever it started
            _kill_group(child.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=KILL_GRACE)
            _kill_group(child.pid, signal.SIGKILL)
            returncode = child.wait()
            return {"returncode": returncode, "error": f"timed out after {timeout}s and was killed"}
    if returncode != 0:
        tail = _tail(stderr_path)
        message = f"exit code {returncode}" + (f": {tail}" if tail else "")
        return {"returncode": returncode, "error": message}
    return {"returncode": 0, "error": None}


def supervise(run_dir: Path, spec: dict[str, Any]) -> bool:
    """Run one job unless its directory exists already; returns whether it ran."""
    try:
        run_dir.mkdir(parents=False)
    except FileExistsError:
        return False  # another supervisor owns this batch: never start it twice
    _write_atomic(run_dir / "supervisor.pid", str(os.getpid()))
    offset = float(spec.get("clock_offset") or 0.0)
    try:
        result = _run(run_dir, spec)
    except Exception as exc:  # never leave a run without a result
        result = {"returncode": 126, "error": f"the local supervisor failed: {exc}"}
    ended = datetime.now(UTC) + timedelta(seconds=offset)
    result["ended_at"] = ended.isoformat()
    _write_atomic(run_dir / "result.json", json.dumps(result))
    return True


class _Notifier:
    """Tells the reconciler a run ended: a wake-up hint, never a reason to block.

    The pipe is non-blocking: when the reconciler is too busy to read, a hint is
    dropped (it polls the result files anyway); once it has gone, hints stop.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()
        self.gone = False
        with contextlib.suppress(OSError):
            os.set_blocking(fd, False)

    def __call__(self, name: str) -> None:
        with self.lock:
            if self.gone:
                return
            try:
                os.write(self.fd, (name + "\n").encode())
            except BlockingIOError:
                pass
            except OSError:
                self.gone = True


def serve(requests: IO[str], out_fd: int) -> None:
    """One thread per requested run; returns when stdin ends and every run has finished."""
    notify = _Notifier(out_fd)
    threads: list[threading.Thread] = []

    def one(run_dir: Path, spec: dict[str, Any]) -> None:
        if supervise(run_dir, spec):
            notify(run_dir.name)

    for line in requests:
        if not line.strip():
            continue
        try:
            spec = json.loads(line)
            run_dir = Path(spec["run_dir"])
        except (ValueError, KeyError, TypeError):
            continue
        thread = threading.Thread(target=one, args=(run_dir, spec), daemon=False)
        thread.start()
        threads = [t for t in threads if t.is_alive()]
        threads.append(thread)
    for thread in threads:
        thread.join()


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.stdin, sys.stdout.fileno())
        return
    supervise(Path(sys.argv[1]), json.loads(sys.argv[2]))


if __name__ == "__main__":
    main()
