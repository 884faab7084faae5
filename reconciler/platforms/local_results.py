"""Reading what a local run left: its result file, or the state's word for a run on another host.

A result file is written atomically by the supervisor, so one that cannot be parsed,
or holds the wrong shape, will not get better by waiting: it is the run's failure,
with the reason. A run owned by another host is judged from its row in the state
(``reconciler.state.local_runs``): ended, still renewing its lease, or lost.
"""

from __future__ import annotations

import errno
import json
from datetime import UTC, datetime
from pathlib import Path

from reconciler.platforms.base import PollResult
from reconciler.state.local_runs import LocalRun

# errors that may pass: the process is out of file handles, or was interrupted
TRANSIENT = frozenset({errno.EMFILE, errno.ENFILE, errno.EINTR, errno.EAGAIN})


def _damaged(path: Path, why: str) -> PollResult:
    return PollResult(
        "failed", None, f"the run's result file {path} is damaged ({why}); its outcome is unknown"
    )


def read_result(path: Path) -> PollResult | None:
    """The outcome recorded in ``result.json``; None while there is none (or for a moment)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in TRANSIENT:
            return None
        return PollResult("failed", None, f"cannot read the run's result file {path}: {exc}")
    except UnicodeDecodeError:
        return _damaged(path, "not UTF-8 text")
    try:
        data = json.loads(text)
    except ValueError as exc:
        return _damaged(path, f"not JSON: {exc}")
    if not isinstance(data, dict):
        return _damaged(path, f"a JSON {type(data).__name__}, not an object")
    code, error, ended_text = data.get("returncode"), data.get("error"), data.get("ended_at")
    if not isinstance(code, int) or isinstance(code, bool):
        return _damaged(path, "no integer returncode")
    if error is not None and not isinstance(error, str):
        return _damaged(path, "error is not a string")
    try:
        ended = datetime.fromisoformat(ended_text) if isinstance(ended_text, str) else None
    except ValueError:
        ended = None
    if ended is None:
        return _damaged(path, "no ISO-8601 ended_at")
    if ended.tzinfo is None:
        ended = ended.replace(tzinfo=UTC)
    if data.get("canceled") is True:
        return PollResult("failed", ended, error or "cancelled", canceled=True)
    if code == 0:
        return PollResult("success", ended)
    return PollResult("failed", ended, error or f"exit code {code}")


def judge_foreign(row: LocalRun, now: datetime) -> PollResult:
    """A run another host started: its recorded end, its supervisor's lease, or lost."""
    if row.ended_at is not None:
        if row.returncode == 0:
            return PollResult("success", row.ended_at)
        return PollResult("failed", row.ended_at, row.error or f"exit code {row.returncode}")
    shared = read_result(Path(row.runs_dir) / row.batch_id / "result.json")
    if shared is not None:  # its runs directory is shared with this host
        return shared
    if row.alive_until is not None and row.alive_until > now:
        return PollResult("running")
    last = row.alive_until.isoformat(timespec="seconds") if row.alive_until else "never"
    return PollResult(
        "failed",
        None,
        f"lost: a local run of host {row.host} (runs dir {row.runs_dir}) whose lease in the "
        f"state ran out (last renewed until {last}) without an outcome; it cannot be followed "
        "from this host, so it is recorded as failed and never started again here",
    )
