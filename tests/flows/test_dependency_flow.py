"""Dependencies end to end, through the CLI, with real local jobs that fail when an input
file is missing: a diamond A -> B, A -> C, B + C -> D converges in one ``apply --wait``
with no failure and every date started once, after its inputs ended; a request that
re-runs A refreshes B, C and D exactly once each, in order; and ``kill -9`` in the middle
of that cascade loses and repeats nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from flow_helpers import query

JOB = Path(__file__).with_name("dependency_job.py")
NOW = "2026-01-26T06:00:00"  # daily dates 01-01..01-25 due; Sundays 01-11, 01-18, 01-25
DAILY = [f"2026-01-{d:02d}" for d in range(1, 26)]
SUNDAYS = ["2026-01-11", "2026-01-18", "2026-01-25"]
REQUEST = ["2026-01-05", "2026-01-06", "2026-01-07"]


def _pipeline(config: Path, pid: str, reads: list[str], **extra: object) -> None:
    data: dict[str, object] = {
        "id": pid,
        "platform": "local",
        "trigger": {"command": [sys.executable, str(JOB), pid, "{dates}", "{param.root}", *reads]},
        "schedule": {"type": "daily", "start": "2026-01-01", "offset": 1},
        "retry": {"schedule": "every 1 minute", "max_retries": 1},
        "parameters": {"root": "out"},
        **extra,
    }
    config.mkdir(parents=True, exist_ok=True)
    (config / f"{pid}.yaml").write_text(json.dumps(data, indent=2), encoding="utf-8")


def _diamond(config: Path) -> None:
    sunday = {"type": "weekly", "days": ["sun"], "start": "2026-01-05", "offset": 1}
    _pipeline(config, "a", [])
    _pipeline(config, "b", ["a:0"], depends_on=[{"pipeline": "a"}])
    _pipeline(config, "c", ["a:6"], schedule=sunday, depends_on=[{"pipeline": "a"}])
    _pipeline(
        config,
        "d",
        ["b:6", "c:0"],
        schedule=sunday,
        depends_on=[{"pipeline": "b"}, {"pipeline": "c", "dates": "same"}],
    )


def _events(ledger: Path) -> list[tuple[str, str, str, int]]:
    """(start|end, pipeline, date, ns) in the order the jobs wrote them."""
    if not ledger.exists():
        return []
    out = []
    for line in ledger.read_text().splitlines():
        what, pid, day, ns = line.split()
        out.append((what, pid, day, int(ns)))
    return out


def _starts(events: list[tuple[str, str, str, int]]) -> Counter[tuple[str, str]]:
    return Counter((pid, day) for what, pid, day, _ in events if what == "start")


def _inputs(pid: str, day: str) -> list[tuple[str, str]]:
    """The (pipeline, date) files a date of the diamond reads."""
    from datetime import date, timedelta

    d = date.fromisoformat(day)
    week = [str(d - timedelta(days=k)) for k in range(6, -1, -1)]
    return {
        "a": [],
        "b": [("a", day)],
        "c": [("a", w) for w in week],
        "d": [("b", w) for w in week] + [("c", day)],
    }[pid]


def _assert_inputs_ended_first(events: list[tuple[str, str, str, int]]) -> None:
    """Every start came after the newest end, before it, of each file it reads."""
    ended: dict[tuple[str, str], int] = {}
    for what, pid, day, ns in events:
        if what == "end":
            ended[(pid, day)] = ns
            continue
        for need in _inputs(pid, day):
            assert need in ended and ended[need] <= ns, f"{pid} {day} started before {need}"


@pytest.fixture
def diamond(tmp_path: Path, cli_env: dict[str, str]) -> dict[str, str]:
    _diamond(tmp_path / "pipelines.d")
    return {**cli_env, "LEDGER": str(tmp_path / "ledger.txt")}


def _failed_runs(tmp: Path) -> int:
    return query(tmp, "SELECT count(*) FROM pipeline_run_log WHERE status = 'failed'")[0][0]


def test_a_diamond_converges_in_one_pass_with_no_failure(
    tmp_path: Path, cli, diamond: dict[str, str]
) -> None:
    plan = cli("plan", "--now", NOW, "--format", "json", env=diamond)
    assert plan.returncode == 0, plan.stderr
    waiting = {w["pipeline_id"] for w in json.loads(plan.stdout)["waiting"]}
    assert waiting == {"b", "c", "d"}  # nothing of theirs can start before a has run

    done = cli("apply", "--wait", "--now", NOW, env=diamond, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    events = _events(tmp_path / "ledger.txt")
    starts = _starts(events)
    expected = {("a", d) for d in DAILY} | {("b", d) for d in DAILY}
    expected |= {("c", d) for d in SUNDAYS} | {("d", d) for d in SUNDAYS}
    assert set(starts) == expected
    assert set(starts.values()) == {1}
    _assert_inputs_ended_first(events)
    assert _failed_runs(tmp_path) == 0

    again = cli("plan", "--now", NOW, "--format", "json", env=diamond)
    document = json.loads(again.stdout)
    assert document["actions"] == [] and document["waiting"] == [] and document["gaps"] == []


def test_a_request_on_the_upstream_refreshes_each_dependant_date_once_in_order(
    tmp_path: Path, cli, diamond: dict[str, str]
) -> None:
    assert cli("apply", "--wait", "--now", NOW, env=diamond, timeout=300).returncode == 0
    before = len(_events(tmp_path / "ledger.txt"))
    asked = cli("backfill", "a", "--from", REQUEST[0], "--to", REQUEST[-1], "--now", NOW)
    assert asked.returncode == 0, asked.stderr

    plan = json.loads(cli("plan", "--now", NOW, "--format", "json-v2", env=diamond).stdout)
    preview = {
        (w["pipeline_id"], day) for w in plan["waiting"] if w["refresh"] for day in w["dates"]
    }
    assert preview == {("b", d) for d in REQUEST} | {("c", SUNDAYS[0]), ("d", SUNDAYS[0])}

    done = cli("apply", "--wait", "--now", NOW, env=diamond, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    events = _events(tmp_path / "ledger.txt")
    cascade = events[before:]
    assert _starts(cascade) == Counter(
        {("a", d): 1 for d in REQUEST}
        | {("b", d): 1 for d in REQUEST}
        | {("c", SUNDAYS[0]): 1, ("d", SUNDAYS[0]): 1}
    )
    _assert_inputs_ended_first(events)
    out = tmp_path / "out"
    assert (out / "d" / f"{SUNDAYS[0]}.txt").read_text().split()[0] == "2"
    assert (out / "d" / f"{SUNDAYS[1]}.txt").read_text().split()[0] == "1"

    settled = json.loads(cli("plan", "--now", NOW, "--format", "json", env=diamond).stdout)
    assert settled["actions"] == [] and settled["waiting"] == []


@pytest.mark.slow
def test_kill_9_during_a_cascade_loses_and_repeats_nothing(
    tmp_path: Path, cli, diamond: dict[str, str]
) -> None:
    assert cli("apply", "--wait", "--now", NOW, env=diamond, timeout=300).returncode == 0
    ledger = tmp_path / "ledger.txt"
    before = len(_events(ledger))
    assert (
        cli("backfill", "a", "--from", REQUEST[0], "--to", REQUEST[-1], "--now", NOW).returncode
        == 0
    )
    slow = {**diamond, "JOB_SLEEP": "0.6"}
    for victim in ("b", "d"):  # kill once while b refreshes, once while d does
        proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "apply", "--wait", "--now", NOW],
            cwd=tmp_path,
            env=slow,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if any(e[0] == "start" and e[1] == victim for e in _events(ledger)[before:]):
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    for _ in range(3):  # the next passes adopt what was in flight and finish the cascade
        assert cli("apply", "--wait", "--now", NOW, env=diamond, timeout=300).returncode == 0
    cascade = _events(ledger)[before:]
    assert _starts(cascade) == Counter(
        {("a", d): 1 for d in REQUEST}
        | {("b", d): 1 for d in REQUEST}
        | {("c", SUNDAYS[0]): 1, ("d", SUNDAYS[0]): 1}
    )
    _assert_inputs_ended_first(_events(ledger))
