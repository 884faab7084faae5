"""Runs one local job and records its exit status on disk, outliving the reconciler.

Started detached (its own session) by the local platform. ``mkdir`` of the run
directory is the exactly-once guard: a second supervisor for the same batch finds
the directory and exits without starting anything. Stdlib only, so it starts fast.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

TAIL_BYTES = 2000


def _write_atomic(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
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


def supervise(run_dir: Path, spec: dict[str, object]) -> int:
    try:
        run_dir.mkdir(parents=False)
    except FileExistsError:
        return 0  # another supervisor owns this batch: never start it twice
    offset = float(spec.get("clock_offset", 0.0))  # type: ignore[arg-type]
    timeout = spec.get("timeout")
    (run_dir / "supervisor.pid").write_text(str(os.getpid()))
    stdout = (run_dir / "stdout.log").open("wb")
    stderr_path = run_dir / "stderr.log"
    stderr = stderr_path.open("wb")
    env = dict(os.environ)
    env.update({str(k): str(v) for k, v in dict(spec.get("env", {})).items()})  # type: ignore[call-overload]
    argv = [str(a) for a in list(spec["argv"])]  # type: ignore[call-overload]
    timed_out = False
    try:
        child = subprocess.Popen(
            argv,
            cwd=str(spec.get("cwd") or os.getcwd()),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    except OSError as exc:
        result = {"returncode": 127, "error": f"cannot start {argv[0]!r}: {exc.strerror or exc}"}
    else:
        (run_dir / "child.pid").write_text(str(child.pid))
        try:
            returncode = child.wait(timeout=float(timeout) if timeout else None)  # type: ignore[arg-type]
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(child.pid, signal.SIGTERM)
            try:
                returncode = child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                returncode = child.wait()
        stderr.flush()
        error = None
        if timed_out:
            error = f"timed out after {timeout}s and was killed"
        elif returncode != 0:
            tail = _tail(stderr_path)
            error = f"exit code {returncode}" + (f": {tail}" if tail else "")
        result = {"returncode": returncode, "error": error}
    ended = datetime.now(UTC) + timedelta(seconds=offset)
    result["ended_at"] = ended.isoformat()
    _write_atomic(run_dir / "result.json", result)
    return 0


def main() -> None:
    run_dir = Path(sys.argv[1])
    spec = json.loads(sys.argv[2])
    sys.exit(supervise(run_dir, spec))


if __name__ == "__main__":
    main()
