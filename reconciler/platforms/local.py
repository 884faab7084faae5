"""The ``local`` platform: each run is a subprocess under a detached supervisor.

The supervisor (one per pass, in its own session) writes the exit status into
``<runs>/<batch>/result.json``, so a run started before a ``kill -9`` of apply is
adopted by the next apply: still running, it is polled; finished, its recorded status
is taken; never started twice (the run directory is created once, by whoever starts
the job).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import IO

from reconciler.config.templates import render
from reconciler.core.durations import parse_duration
from reconciler.platforms.base import PollResult, RunRequest

SUPERVISOR = Path(__file__).with_name("local_supervisor.py")
STARTING_GRACE = 60.0  # seconds a run directory may lack its supervisor's pid file
KEEP_RUN_DIRS = 7 * 86400.0  # seconds the files of a finished run are kept


def _pid_alive(pid: int) -> bool:
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


def _pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid_file: Path) -> bool:
    pid = _pid(pid_file)
    return pid is not None and _pid_alive(pid)


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


class LocalPlatform:
    """Starts and follows local commands; ``clock_offset`` keeps end times on the --now clock."""

    def __init__(self, runs_dir: Path, clock_offset: float = 0.0) -> None:
        self.runs_dir = runs_dir.absolute()
        self.clock_offset = clock_offset
        self._daemon: subprocess.Popen[str] | None = None
        self._sent: set[str] = set()  # batches handed to the current supervisor
        self._old: list[subprocess.Popen[str]] = []

    # --- the supervisor ------------------------------------------------------------

    def _supervisor(self) -> subprocess.Popen[str]:
        if self._daemon is not None and self._daemon.poll() is None:
            return self._daemon
        if self._daemon is not None:
            self._old.append(self._daemon)
            self._sent.clear()  # a dead supervisor holds nothing: unstarted runs start again
        self._daemon = subprocess.Popen(
            [sys.executable, "-I", "-S", str(SUPERVISOR), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,  # survives the reconciler's death (kill -9, ^C)
        )
        return self._daemon

    def _send(self, line: str) -> None:
        for _ in range(2):
            daemon = self._supervisor()
            stdin = daemon.stdin
            assert stdin is not None
            try:
                stdin.write(line)
                stdin.flush()
                return
            except (BrokenPipeError, OSError, ValueError):
                daemon.wait()
        raise OSError("cannot hand the run to the local supervisor")

    # --- the protocol --------------------------------------------------------------

    def start(self, run: RunRequest) -> str:
        trigger = run.pipeline.trigger
        from reconciler.config.models import LocalTrigger

        assert isinstance(trigger, LocalTrigger)
        run_dir = self.runs_dir / run.batch_id
        if run_dir.exists():
            return run.batch_id  # started already (by an earlier pass): never twice
        argv = [render(arg, run.values) for arg in trigger.command]
        env = {f"RECONCILER_PARAM_{k.upper()}": v for k, v in run.parameters.items()}
        env["RECONCILER_RUN_ID"] = run.batch_id
        env["RECONCILER_PIPELINE_ID"] = run.pipeline.id
        spec = {
            "run_dir": str(run_dir),
            "argv": argv,
            "cwd": os.path.abspath(trigger.cwd) if trigger.cwd else os.getcwd(),
            "env": env,
            "timeout": parse_duration(trigger.timeout) if trigger.timeout is not None else None,
            "clock_offset": self.clock_offset,
        }
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._send(json.dumps(spec) + "\n")
        self._sent.add(run.batch_id)
        return run.batch_id

    def poll(self, batch_id: str, platform_run_id: str | None) -> PollResult:
        run_dir = self.runs_dir / batch_id
        result = run_dir / "result.json"
        try:
            data = json.loads(result.read_text(encoding="utf-8"))
        except FileNotFoundError:
            pass
        except (OSError, ValueError):
            return PollResult("running")  # (written atomically, so this is transient)
        else:
            ended = datetime.fromisoformat(data["ended_at"])
            if data.get("returncode") == 0:
                return PollResult("success", ended)
            return PollResult("failed", ended, data.get("error") or "failed")
        daemon = self._daemon
        if batch_id in self._sent and daemon is not None and daemon.poll() is None:
            return PollResult("running")  # our supervisor holds it (and always records it)
        if not run_dir.exists():
            return PollResult("not_started")
        if _alive(run_dir / "supervisor.pid") or _alive(run_dir / "child.pid"):
            return PollResult("running")
        if result.exists():  # finished between the two looks
            return self.poll(batch_id, platform_run_id)
        if _pid(run_dir / "supervisor.pid") is None and _age(run_dir) < STARTING_GRACE:
            return PollResult("running")  # the supervisor is between mkdir and its pid file
        return PollResult(
            "failed", None, "the local supervisor died before recording an exit status"
        )

    def wait(self, timeout: float) -> None:
        """Sleep until a run of this pass ends (the supervisor says so) or ``timeout``."""
        self._reap()
        daemon = self._daemon
        out: IO[str] | None = daemon.stdout if daemon is not None else None
        if out is None or daemon is None or daemon.poll() is not None:
            time.sleep(timeout)
            return
        ready, _, _ = select.select([out], [], [], timeout)
        if ready:
            os.read(out.fileno(), 65536)  # the names do not matter: the caller polls

    def close(self) -> None:
        """End of the pass: the supervisor finishes the runs it holds, then exits."""
        daemon, self._daemon = self._daemon, None
        if daemon is not None:
            for stream in (daemon.stdin, daemon.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            self._old.append(daemon)
        self._sent.clear()
        self._reap()

    def prune(self, keep: set[str], older_than: float = KEEP_RUN_DIRS) -> int:
        """Remove run directories whose result is older than ``older_than`` seconds.

        Only for batches the state has recorded as finished (the caller names the
        others in ``keep``): a run directory is the guard against a second start, and
        its result the only record of how a run ended until the state has it.
        """
        cutoff = time.time() - older_than
        removed = 0
        try:
            entries = list(os.scandir(self.runs_dir))
        except OSError:
            return 0
        for entry in entries:
            if entry.name in keep or not entry.is_dir(follow_symlinks=False):
                continue
            try:
                finished = os.stat(os.path.join(entry.path, "result.json")).st_mtime
            except OSError:
                continue
            if finished < cutoff:
                shutil.rmtree(entry.path, ignore_errors=True)
                removed += 1
        return removed

    def _reap(self) -> None:
        self._old = [p for p in self._old if p.poll() is None]
