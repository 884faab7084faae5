"""The ``local`` platform: each run is a subprocess under a detached supervisor.

The supervisor writes the exit status into ``<runs>/<batch>/result.json``, so a run
started before a ``kill -9`` of apply is adopted by the next apply: still running,
it is polled; finished, its recorded status is taken; never started twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from reconciler.config.models import LocalTrigger
from reconciler.config.templates import render
from reconciler.core.durations import parse_duration
from reconciler.platforms.base import PollResult, RunRequest


def _alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (our own finished child) is not alive
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


class LocalPlatform:
    """Starts and follows local commands; ``clock_offset`` keeps end times on the --now clock."""

    def __init__(self, runs_dir: Path, clock_offset: float = 0.0) -> None:
        self.runs_dir = runs_dir
        self.clock_offset = clock_offset
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self, run: RunRequest) -> str:
        trigger = run.pipeline.trigger
        assert isinstance(trigger, LocalTrigger)
        argv = [render(arg, run.values) for arg in trigger.command]
        env = {f"RECONCILER_PARAM_{k.upper()}": v for k, v in run.parameters.items()}
        env["RECONCILER_RUN_ID"] = run.batch_id
        env["RECONCILER_PIPELINE_ID"] = run.pipeline.id
        spec = {
            "argv": argv,
            "cwd": trigger.cwd,
            "env": env,
            "timeout": parse_duration(trigger.timeout) if trigger.timeout is not None else None,
            "clock_offset": self.clock_offset,
        }
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        run_dir = self.runs_dir / run.batch_id
        if not run_dir.exists():
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "reconciler.platforms.local_supervisor",
                    str(run_dir),
                    json.dumps(spec),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            self.children.append(child)
        return run.batch_id

    def poll(self, batch_id: str, platform_run_id: str | None) -> PollResult:
        self._reap()
        run_dir = self.runs_dir / batch_id
        result = run_dir / "result.json"
        if result.exists():
            try:
                data = json.loads(result.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return PollResult("running")
            ended = datetime.fromisoformat(data["ended_at"])
            if data.get("returncode") == 0:
                return PollResult("success", ended)
            return PollResult("failed", ended, data.get("error") or "failed")
        if not run_dir.exists():
            if any(c.poll() is None for c in self.children if str(run_dir) in c.args):  # type: ignore[operator]
                return PollResult("running")
            return PollResult("not_started")
        if _alive(run_dir / "supervisor.pid") or _alive(run_dir / "child.pid"):
            return PollResult("running")
        if not (run_dir / "supervisor.pid").exists() and _age(run_dir) < 60:
            return PollResult("running")  # the supervisor is between mkdir and its pid file
        return PollResult(
            "failed", None, "the local supervisor died before recording an exit status"
        )

    def _reap(self) -> None:
        self.children = [c for c in self.children if c.poll() is None]
