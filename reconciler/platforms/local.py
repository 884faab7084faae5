"""The ``local`` platform: each run is a subprocess under a detached supervisor.

The supervisor (one per pass, in its own session) writes the exit status into
``<runs>/<batch>/result.json``, so a run started before a ``kill -9`` of apply is
adopted by the next apply: still running, it is polled; finished, its recorded status
is taken; never started twice (the run directory is created once, by whoever starts
the job).

A local run belongs to the host, and runs directory, that started it: both are
recorded in the state with the run's intent (``reconciler.state.local_runs``). A
runner on that host follows it in that directory; a runner on another host cannot
see the directory, so it follows the state's row, which the supervisor keeps up to
date on a PostgreSQL state, and records the run as lost once its lease runs out.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from reconciler.config.templates import render
from reconciler.core.durations import parse_duration
from reconciler.errors import PermanentError
from reconciler.platforms.base import PollResult, RunRequest, StartResult
from reconciler.platforms.local_processes import STARTING_GRACE, age, alive, read_pid, stop_group
from reconciler.platforms.local_results import judge_foreign, read_result
from reconciler.platforms.local_supervisor import (
    CANCEL_FILE,
    CANCELED_BEFORE_START,
    KILL_GRACE,
    PRIVATE_FILE,
)
from reconciler.platforms.runs_dir import make_private_dir
from reconciler.state.local_runs import RUN_LEASE, LocalRun
from reconciler.state.location import is_postgres
from reconciler.state.pg_outage import reconnect_within
from reconciler.state.sessions import WriteSession
from reconciler.state.store import open_store

SUPERVISOR = Path(__file__).with_name("local_supervisor.py")
KEEP_RUN_DIRS = 7 * 86400.0  # seconds the files of a finished run are kept
FOREIGN_POLL = 2.0  # seconds between reads of the state for a run of another host


class LocalPlatform:
    """Starts and follows local commands; ``clock_offset`` keeps end times on the --now clock."""

    def __init__(
        self,
        runs_dir: Path,
        clock_offset: float = 0.0,
        state: str | None = None,
        host: str | None = None,
    ) -> None:
        self.runs_dir = runs_dir.absolute()
        self.clock_offset = clock_offset
        self.state = state  # where owners are recorded (None: runs of this directory only)
        self.store = open_store(state) if state is not None else None
        self.host = host or socket.gethostname()
        self._owners: dict[str, LocalRun | None] = {}  # None: recorded before owners were
        self._looked_up = False  # the owners of the runs in flight were read
        self._forgot = False  # old owner rows were removed (once a pass)
        self._foreign: dict[str, tuple[float, PollResult]] = {}  # last look at the state
        self._daemon: subprocess.Popen[str] | None = None
        self._sent: set[str] = set()  # batches handed to the current supervisor
        self._old: list[subprocess.Popen[str]] = []
        self._handed: set[str] = set()  # batches this platform handed to a supervisor
        self._pooled: set[str] = set()  # this pass's intents not handed to one yet
        self.cancel_grace = KILL_GRACE  # seconds between SIGTERM and SIGKILL of a cancel

    # --- the supervisor ------------------------------------------------------------

    def _supervisor(self) -> subprocess.Popen[str]:
        if self._daemon is not None and self._daemon.poll() is None:
            return self._daemon
        if self._daemon is not None:
            self._old.append(self._daemon)
            self._sent.clear()  # a dead supervisor holds nothing: unstarted runs start again
        # on PostgreSQL the supervisor records its runs in the state too, with psycopg
        # from site-packages (PYTHONPATH, PYTHONHOME and the user's site never count);
        # otherwise it needs the standard library only
        flags = ["-E", "-s", "-P"] if self._pg else ["-I", "-S"]
        self._daemon = subprocess.Popen(
            [sys.executable, *flags, str(SUPERVISOR), "--serve"],
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

    def start(self, run: RunRequest) -> StartResult:
        trigger = run.pipeline.trigger
        from reconciler.config.models import LocalTrigger

        assert isinstance(trigger, LocalTrigger)
        owner = self._owners.get(run.batch_id)
        if owner is not None and not self._sees(owner):
            # another host's run: followed through the state, never here
            return StartResult(run.batch_id)
        runs_dir = Path(owner.runs_dir) if owner is not None else self.runs_dir
        run_dir = runs_dir / run.batch_id
        if run_dir.exists():
            return StartResult(run.batch_id)  # started already (by an earlier pass): never twice
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
        if self._pg:
            lease = RUN_LEASE.total_seconds()
            # an outcome is offered to the state as long as another runner would wait
            retry = lease + reconnect_within()
            spec.update(batch_id=run.batch_id, state=self.state, lease=lease, retry=retry)
        make_private_dir(runs_dir)
        self._send(json.dumps(spec) + "\n")
        self._sent.add(run.batch_id)
        self._handed.add(run.batch_id)
        return StartResult(run.batch_id)

    def poll(self, batch_id: str, platform_run_id: str | None) -> PollResult:
        owner = self._owner(batch_id)
        if owner is not None and not self._sees(owner):
            return self._poll_foreign(owner)
        runs_dir = Path(owner.runs_dir) if owner is not None else self.runs_dir
        return self._poll_dir(runs_dir, batch_id, platform_run_id is not None, owner is not None)

    def _poll_dir(
        self, runs_dir: Path, batch_id: str, started: bool = False, owned: bool = False
    ) -> PollResult:
        """A run of this host, in its runs directory.

        ``started``: apply recorded its start; ``owned``: its owner row was recorded.
        """
        run_dir = runs_dir / batch_id
        result = run_dir / "result.json"
        recorded = read_result(result)
        if recorded is not None:
            return recorded
        daemon = self._daemon
        if batch_id in self._sent and daemon is not None and daemon.poll() is None:
            return PollResult("running")  # our supervisor holds it (and always records it)
        if not run_dir.exists():
            return self._missing(runs_dir, batch_id, started, owned)
        if alive(run_dir / "supervisor.pid") or alive(run_dir / "child.pid"):
            return PollResult("running")
        if result.exists():  # finished between the two looks
            return self._poll_dir(runs_dir, batch_id, started, owned)
        if read_pid(run_dir / "supervisor.pid") is None and age(run_dir) < STARTING_GRACE:
            return PollResult("running")  # the supervisor is between mkdir and its pid file
        return PollResult(
            "failed", None, "the local supervisor died before recording an exit status"
        )

    def _missing(self, runs_dir: Path, batch_id: str, started: bool, owned: bool) -> PollResult:
        """A run without its directory: unstarted only when nothing says it may have started.

        A run this pass handed to a supervisor that died before making the directory
        never started. A run apply recorded as started, or with an owner row (written
        once its runs directory was made) whose runs directory is gone (a wiped tmpfs,
        a restarted container, a moved default directory), may be going on out of
        sight: starting it again could run its dates twice at once, so it is lost
        (failed, retried by the pipeline's policy).
        """
        if batch_id in self._handed and runs_dir.is_dir():
            return PollResult("not_started")
        if started or (owned and not runs_dir.is_dir()):
            return PollResult(
                "failed",
                None,
                f"the run's directory {runs_dir / batch_id} is gone (its runs directory was "
                "removed or moved): the run is lost, never started twice",
            )
        return PollResult("not_started")

    # --- cancelling ----------------------------------------------------------------

    def cancel(self, run: RunRequest, platform_run_id: str | None) -> None:
        """Stop a run of this host: its whole process group, SIGTERM then SIGKILL.

        A ``cancel`` file in the run directory tells the supervisor to record the run
        as cancelled (whatever its exit status). A run not started yet is recorded as
        cancelled at once, and its directory (the exactly-once guard) keeps it from
        starting. A run that has ended is left as it is; cancelling twice is no error.
        """
        owner = self._owner(run.batch_id)
        if owner is not None and not self._sees(owner):
            raise PermanentError(
                f"local run {run.batch_id} belongs to host {owner.host} (runs dir "
                f"{owner.runs_dir}): cancel it from that host"
            )
        runs_dir = Path(owner.runs_dir) if owner is not None else self.runs_dir
        run_dir = runs_dir / run.batch_id
        if (run_dir / "result.json").exists():
            return  # it has ended: nothing to stop
        make_private_dir(runs_dir)
        try:
            run_dir.mkdir(mode=0o700)
        except FileExistsError:
            self._write_private(run_dir / CANCEL_FILE, self._now().isoformat())
            stop_group(run_dir, self.cancel_grace)
            return
        # never started: its directory now keeps any supervisor from starting it
        self._write_private(run_dir / CANCEL_FILE, self._now().isoformat())
        result = {
            "returncode": CANCELED_BEFORE_START,
            "error": "cancelled (before its job started)",
            "canceled": True,
            "ended_at": self._now().isoformat(),
        }
        self._write_private(run_dir / "result.json", json.dumps(result))

    @staticmethod
    def _write_private(path: Path, text: str) -> None:
        """Whole or not at all, readable by its owner only (as the supervisor writes)."""
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)

    # --- owners: which host and runs directory started a run -----------------------

    @property
    def _pg(self) -> bool:
        return self.state is not None and is_postgres(self.state)

    def _now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    def own(self, session: WriteSession, batch_ids: list[str], now: datetime) -> None:
        """Record in the state, with their intents, that these runs are this runner's.

        Until its supervisor renews it, the run's lease runs from now: an intent whose
        run never started is judged lost by another host only once it has run out.
        """
        if not self._forgot:  # once a pass: rows of runs long recorded as ended go
            self._forgot = True
            session.forget_local_runs(now - timedelta(seconds=KEEP_RUN_DIRS))
        if batch_ids:  # an owner row says its runs directory was there
            with contextlib.suppress(OSError):  # (start says why it cannot make it)
                make_private_dir(self.runs_dir)
        session.record_local_owners(batch_ids, self.host, str(self.runs_dir), now + RUN_LEASE)
        for batch_id in batch_ids:
            self._owners[batch_id] = LocalRun(
                batch_id=batch_id, host=self.host, runs_dir=str(self.runs_dir)
            )
        self._pooled.update(batch_ids)
        self._pooled -= self._handed  # (a supervisor renews those)
        # intents waiting for a slot: their lease goes on with this runner's claims
        session.renew_local_runs(sorted(self._pooled), self.host, now + RUN_LEASE)

    def _owner(self, batch_id: str) -> LocalRun | None:
        """Who started a run: known for this pass's runs, read from the state for others."""
        if batch_id in self._owners or self.store is None:
            return self._owners.get(batch_id)
        if not self._looked_up:  # once: the owners of every run in flight
            self._looked_up = True
            with self.store.read() as session:
                self._owners.update(session.local_runs_in_flight())
        return self._owners.setdefault(batch_id, None)

    def _sees(self, owner: LocalRun) -> bool:
        """Whether this runner can follow (or start) the run in its owner's directory."""
        if owner.host != self.host:
            return False
        try:
            os.stat(owner.runs_dir)
        except FileNotFoundError:
            return True  # nothing was started there yet: it is made at the first start
        except OSError:
            return False
        return os.access(owner.runs_dir, os.R_OK | os.W_OK | os.X_OK)

    def _poll_foreign(self, owner: LocalRun) -> PollResult:
        """A run of another host (or of a runs directory out of reach): the state's word."""
        assert self.store is not None
        seen = self._foreign.get(owner.batch_id)
        if seen is not None and time.monotonic() - seen[0] < FOREIGN_POLL:
            return seen[1]
        with self.store.read() as session:
            row = session.local_runs([owner.batch_id]).get(owner.batch_id, owner)
        result = judge_foreign(row, self._now())
        self._foreign[owner.batch_id] = (time.monotonic(), result)
        return result

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

    def recorded(self, session: WriteSession, batch_ids: Sequence[str], now: datetime) -> None:
        """Local intents just written are this runner's: said in the same transaction."""
        self.own(session, list(batch_ids), now)

    def after_pass(self, in_flight: set[str]) -> None:
        """Outcomes are recorded: run directories of older finished runs may go."""
        self.prune(keep=in_flight)

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
