"""Runs local jobs and records their exit status on disk, outliving the reconciler.

Started detached (its own session) by the local platform, once per pass: it reads one
JSON line per run on stdin, runs each job in a thread, writes
``<run_dir>/result.json`` when the job ends and prints the run directory's name on
stdout (so the reconciler wakes up at once). At the end of stdin (the pass is over,
or the reconciler was killed) it finishes the jobs it holds, then exits.

``mkdir`` of the run directory is the exactly-once guard: a second request for the
same batch (from this supervisor or another) finds the directory and starts nothing.

On a PostgreSQL state (a spec with ``state``) it also keeps the run's row of
``local_runs`` up to date: a lease renewed while the job runs, then the exit status.
A runner on another host, which cannot see the run directory, reads that row. The
state is a second record, never the first: if it cannot be written, the run
directory still holds the outcome.

Stdlib only (psycopg for a PostgreSQL state, imported then), and run with ``python
-I -S`` (``-E -s -P`` with a PostgreSQL state), so it starts fast. The files it makes are
its user's only (0700 directories, 0600 files): job output may hold anything.
``python local_supervisor.py RUN_DIR SPEC_JSON`` runs a single job (the older form).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

TAIL_BYTES = 2000
KILL_GRACE = 5.0
CANCEL_FILE = "cancel"  # written in the run directory by whoever cancels the run
CANCELED_BEFORE_START = 130  # the returncode of a run cancelled before its job started
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
# seconds an outcome is offered to an unreachable state, at least: the run's lease plus
# the runners' reconnect deadline come on top (the spec's ``retry``), so an outage
# around the job's end never makes another runner record the run as lost
STATE_RETRY = 120.0


def _write_atomic(path: Path, text: str) -> None:
    """Readers see the whole file or none of it.

    Atomic against a crash of any process; durability against power loss is not needed:
    a lost result reads as "the supervisor died" and the run is retried by policy.
    """
    tmp = path.with_name(path.name + ".tmp")
    with _private(tmp) as handle:
        handle.write(text.encode("utf-8"))
    os.replace(tmp, path)


def _private(path: Path) -> IO[bytes]:
    """A new (or truncated) file only its owner can read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    return os.fdopen(fd, "wb")


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
    if (run_dir / CANCEL_FILE).exists():
        return _canceled(CANCELED_BEFORE_START, "before its job started")
    stderr_path = run_dir / "stderr.log"
    with _private(run_dir / "stdout.log") as stdout, _private(stderr_path) as stderr:
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
    if (run_dir / CANCEL_FILE).exists():  # it was signalled by a cancel (or ended meanwhile)
        return _canceled(returncode, f"exit code {returncode}")
    if returncode != 0:
        tail = _tail(stderr_path)
        message = f"exit code {returncode}" + (f": {tail}" if tail else "")
        # the tail stays in the private run directory: the state gets the reason only
        return {"returncode": returncode, "error": message, "reason": f"exit code {returncode}"}
    return {"returncode": 0, "error": None}


def _canceled(returncode: int, how: str) -> dict[str, object]:
    """The result of a cancelled run: failed, and marked so that it is not taken for a bug."""
    return {"returncode": returncode, "error": f"cancelled ({how})", "canceled": True}


def _now(spec: dict[str, Any]) -> datetime:
    """The reconciler's clock (``--now`` shifts it)."""
    return datetime.now(UTC) + timedelta(seconds=float(spec.get("clock_offset") or 0.0))


def supervise(
    run_dir: Path,
    spec: dict[str, Any],
    link: StateLink | None = None,
    on_end: Callable[[str], None] | None = None,
) -> bool:
    """Run one job unless its directory exists already; returns whether it ran."""
    try:
        run_dir.mkdir(parents=False, mode=PRIVATE_DIR)
    except FileExistsError:
        return False  # another supervisor owns this batch: never start it twice
    _write_atomic(run_dir / "supervisor.pid", str(os.getpid()))
    batch_id = str(spec.get("batch_id") or run_dir.name)
    if link is not None and not link.begin(batch_id):
        result: dict[str, object] = {
            "returncode": 125,
            "error": "not started: the state records this run as ended, or its lease ran out "
            "before a slot was free (another runner may have taken it over)",
        }
    else:
        try:
            result = _run(run_dir, spec)
        except Exception as exc:  # never leave a run without a result
            result = {"returncode": 126, "error": f"the local supervisor failed: {exc}"}
    reason = result.pop("reason", result["error"])  # what the state may hold
    ended = _now(spec)
    result["ended_at"] = ended.isoformat()
    _write_atomic(run_dir / "result.json", json.dumps(result))
    if on_end is not None:
        on_end(run_dir.name)  # the reconciler here learns first: the state may be slow
    if link is not None:
        retry = max(STATE_RETRY, float(spec.get("retry") or 0.0))
        link.end(batch_id, {"returncode": result["returncode"], "error": reason}, ended, retry)
    return True


class StateLink:
    """The supervisor's writes to a PostgreSQL state: leases of running jobs, outcomes.

    One connection, used under a lock; a failed write drops it (the next one opens
    another). Leases are renewed every quarter lease by a daemon thread; an outcome
    is retried for ``STATE_RETRY`` seconds, since it is what another host waits for.
    """

    def __init__(self, url: str, lease: float, spec: dict[str, Any]) -> None:
        self.url = url
        self.lease = lease
        self.spec = spec  # for the clock offset
        self.lock = threading.Lock()  # the connection's (a write may wait on the network)
        self.names = threading.Lock()  # the running set's (a job never waits on the network)
        self.running: set[str] = set()
        self.conn: Any = None
        self.usable = True
        threading.Thread(target=self._renew_forever, daemon=True).start()

    def _execute(self, sql: str, params: list[Any], rows: list[Any] | None = None) -> bool:
        """Whether the write is done (or can never be: then it is not retried).

        ``rows`` receives what a statement returns.
        """
        with self.lock:
            if not self.usable:
                return True
            try:
                if self.conn is None or self.conn.closed:
                    import psycopg

                    self.conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
                cursor = self.conn.execute(sql, params)
                if rows is not None and cursor.description is not None:
                    rows.extend(cursor.fetchall())
                return True
            except ImportError:  # no psycopg here: the run directory is the only record
                self.usable = False
                return True
            except Exception:  # an outage: the run directory still tells
                with contextlib.suppress(Exception):
                    self.conn.close()
                self.conn = None
                return False

    def _until(self) -> datetime:
        return (_now(self.spec) + timedelta(seconds=self.lease)).replace(tzinfo=None)

    def begin(self, batch_id: str) -> bool:
        """Whether the job may start: renewed now and from now on.

        A run whose row has an end, or a lease that ran out while it waited for a slot
        (another runner may have judged it lost and started the next attempt), never
        starts. Unreachable state: the intent's lease, renewed by the runner, covers it.
        """
        rows: list[Any] = []
        now = _now(self.spec).replace(tzinfo=None)
        self._execute(
            "UPDATE local_runs SET alive_until = %s WHERE batch_id = %s AND ended_at IS NULL "
            "AND (alive_until IS NULL OR alive_until >= %s) RETURNING batch_id",
            [self._until(), batch_id, now],
            rows,
        )
        if not rows and self.usable and self.conn is not None and self._recorded(batch_id):
            return False
        with self.names:
            self.running.add(batch_id)
        return True

    def _recorded(self, batch_id: str) -> bool:
        rows: list[Any] = []
        done = self._execute(
            "SELECT 1 FROM local_runs WHERE batch_id = %s",
            [batch_id],
            rows,
        )
        return done and bool(rows)

    def renew(self, batch_ids: list[str]) -> None:
        if batch_ids:
            self._execute(
                "UPDATE local_runs SET alive_until = %s "
                "WHERE batch_id = ANY(%s) AND ended_at IS NULL",
                [self._until(), batch_ids],
            )

    def end(
        self, batch_id: str, result: dict[str, object], ended: datetime, retry: float = STATE_RETRY
    ) -> None:
        """Record the outcome; the lease is renewed until it is written (or given up)."""
        params = [ended.replace(tzinfo=None), result["returncode"], result["error"], batch_id]
        deadline = time.monotonic() + retry
        try:
            while not self._execute(
                "UPDATE local_runs SET ended_at = %s, returncode = %s, error = %s "
                "WHERE batch_id = %s",
                params,
            ):
                if time.monotonic() > deadline:
                    return
                time.sleep(2.0)
        finally:
            with self.names:
                self.running.discard(batch_id)

    def _renew_forever(self) -> None:
        while True:
            time.sleep(self.lease / 4)
            with self.names:
                running = sorted(self.running)
            self.renew(running)


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
    links: dict[str, StateLink] = {}

    def one(run_dir: Path, spec: dict[str, Any], link: StateLink | None) -> None:
        supervise(run_dir, spec, link, notify)

    for line in requests:
        if not line.strip():
            continue
        try:
            spec = json.loads(line)
            run_dir = Path(spec["run_dir"])
        except (ValueError, KeyError, TypeError):
            continue
        url = spec.get("state")
        link = None
        if isinstance(url, str):
            link = links.get(url) or links.setdefault(
                url, StateLink(url, float(spec.get("lease") or 60.0), spec)
            )
        thread = threading.Thread(target=one, args=(run_dir, spec, link), daemon=False)
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
