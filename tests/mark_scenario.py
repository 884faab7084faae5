"""``reconciler mark`` driven through the CLI against any state (a DuckDB file or a
PostgreSQL URL): what it marks changes the next plan and status; what it refuses
writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Cli = Callable[..., subprocess.CompletedProcess[str]]
NOW = "2026-03-10T06:00:00"  # 03-01..03-10 due
SLEEP = "import time; time.sleep(30)"


def _write(config_dir: Path, command: list[str] | None = None, **extra: Any) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "id": "orders_daily",
        "platform": "local",
        "trigger": {"command": command or [sys.executable, "-c", "pass", "{date}"]},
        "schedule": {"type": "daily", "start": "2026-03-01"},
        "retry": {"enabled": False},
        **extra,
    }
    (config_dir / "orders_daily.yaml").write_text(json.dumps(data, indent=2), encoding="utf-8")


def _actions(run: Callable[..., subprocess.CompletedProcess[str]]) -> set[tuple[str, str]]:
    """(kind, date) of every date the plan at NOW would run."""
    plan = json.loads(run("plan", "--now", NOW, "--format", "json-v2").stdout)
    return {(a["kind"], d) for a in plan["actions"] for d in a["dates"]}


def _status(run: Callable[..., subprocess.CompletedProcess[str]]) -> tuple[int, int, int]:
    row = json.loads(run("status", "--now", NOW, "--format", "json").stdout)["pipelines"][0]
    return row["covered"], row["missing"], row["failed"]


def mark_covered_then_failed(tmp_path: Path, cli: Cli, state: list[str]) -> None:
    """``state``: the ``--state`` arguments (empty for the default DuckDB file)."""
    _write(tmp_path / "pipelines.d")
    env = {"GITHUB_ACTOR": "alice"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = cli(*args, *state, env=env)
        assert done.returncode in (0, 2), done.stdout + done.stderr
        return done

    before = _actions(run)
    assert ("backfill", "2026-03-03") in before and ("run", "2026-03-10") in before
    done = run(
        "mark", "orders_daily", "--from", "2026-03-02", "--to", "2026-03-04",
        "--as", "covered", "--reason", "loaded by the old cron", "--now", NOW,
    )  # fmt: skip
    assert done.stdout.strip() == (
        "marked 3 date(s) of orders_daily as covered: 2026-03-02..2026-03-04"
    )
    marked = {("backfill", f"2026-03-0{d}") for d in (2, 3, 4)}
    assert _actions(run) == before - marked
    assert _status(run) == (3, 7, 0)
    history = json.loads(run("history", "orders_daily", "--format", "json").stdout)
    assert [(r["run_date"], r["status"], r["kind"], r["error_message"]) for r in history] == [
        (f"2026-03-0{d}", "success", "mark", "marked covered by alice: loaded by the old cron")
        for d in (4, 3, 2)
    ]
    text = run("history", "orders_daily").stdout
    assert "note: marked covered by alice: loaded by the old cron" in text

    # the old cron's output was wrong: mark two of them failed and the plan runs them again
    done = run(
        "mark", "orders_daily", "--from", "2026-03-03", "--to", "2026-03-04",
        "--as", "failed", "--reason", "bad rows", "--now", NOW,
    )  # fmt: skip
    assert (
        done.stdout.strip() == "marked 2 date(s) of orders_daily as failed: 2026-03-03..2026-03-04"
    )
    assert _actions(run) == before - {("backfill", "2026-03-02")}
    assert _status(run) == (1, 9, 0)
    newest = json.loads(run("history", "orders_daily", "--format", "json").stdout)
    # (both marks share --now: the rows of a date are told apart by status, not order)
    assert sorted(
        (r["run_date"], r["error_message"]) for r in newest if r["status"] == "failed"
    ) == [
        ("2026-03-03", "marked failed by alice: bad rows"),
        ("2026-03-04", "marked failed by alice: bad rows"),
    ]
    assert len(newest) == 5
    # and once run, the dates are covered by the reconciler's own runs
    applied = run("apply", "--wait", "--now", NOW)
    assert "Traceback" not in applied.stderr
    assert _actions(run) == set() and _status(run) == (10, 0, 0)


def _refused(done: subprocess.CompletedProcess[str], line: str) -> None:
    """Exit 1, nothing on stdout, and ``line`` (whole) the only line on stderr."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr.splitlines() == [line], done.stderr


def _snapshot(location: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted; left out: the lock table and ``local_runs``, whose
    leases the supervisor of a run in flight renews on its own."""
    from reconciler.state.connection import reading
    from reconciler.state.summary import state_tables

    out: dict[str, list[tuple[Any, ...]]] = {}
    with reading(location) as conn:
        for table in state_tables(conn):
            if table not in ("locks", "local_runs"):
                rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
                out[table] = sorted((tuple(r) for r in rows), key=repr)
    return out


def refusals_write_nothing(tmp_path: Path, cli: Cli, state: list[str]) -> None:
    """Each refusal is one line and exit 1, and the state is as it was."""
    location = state[1] if state else str(tmp_path / ".reconciler" / "state.duckdb")

    def snapshot() -> dict[str, list[tuple[Any, ...]]]:
        return _snapshot(location)

    config = tmp_path / "pipelines.d"
    _write(config, schedule={"type": "weekly", "days": ["mon"], "start": "2026-03-02"})
    base = ["--as", "covered", "--reason", "r", "--now", NOW, *state]
    ok = cli("mark", "orders_daily", "--from", "2026-03-02", "--to", "2026-03-02", *base)
    assert ok.stdout.strip() == "marked 1 date(s) of orders_daily as covered: 2026-03-02"

    def mark(*args: str) -> subprocess.CompletedProcess[str]:
        return cli("mark", *args, *base)

    before = snapshot()
    _refused(
        mark("nope", "--from", "2026-03-02", "--to", "2026-03-02"),
        "Error: no pipeline with id 'nope' in pipelines.d",
    )
    _refused(
        mark("orders_daily", "--from", "2026-03-05", "--to", "2026-03-02"),
        "Error: --from 2026-03-05 is after --to 2026-03-02",
    )
    _refused(
        mark("orders_daily", "--from", "2026-13-02", "--to", "2026-03-02"),
        "Error: --from: expected a date such as 2026-03-18, found '2026-13-02'",
    )
    _refused(
        mark("orders_daily", "--from", "2026-03-02", "--to", "2026-3-9"),
        "Error: --to: expected a date such as 2026-03-18, found '2026-3-9'",
    )
    # Tuesday..Thursday: no Monday
    _refused(
        mark("orders_daily", "--from", "2026-03-03", "--to", "2026-03-05"),
        "Error: 2026-03-03..2026-03-05 holds no scheduled date of orders_daily: nothing to mark",
    )
    _refused(
        mark("orders_daily", "--from", "2026-02-01", "--to", "2026-02-20"),
        "Error: 2026-02-01..2026-02-20 is before orders_daily's schedule.start 2026-03-02: "
        "no date of it can be marked",
    )
    # 03-16 is a Monday after NOW
    _refused(
        mark("orders_daily", "--from", "2026-03-09", "--to", "2026-03-16"),
        "Error: 1 scheduled date(s) of 2026-03-09..2026-03-16 are not due yet at "
        "2026-03-10T06:00:00+00:00: nothing marked",
    )
    reason_required = (
        "Error: --reason is required: say why these dates are marked (it is kept in the run log)"
    )
    no_reason = cli(
        "mark", "orders_daily", "--from", "2026-03-02", "--to", "2026-03-02",
        "--as", "covered", "--now", NOW, *state,
    )  # fmt: skip
    _refused(no_reason, reason_required)
    blank = cli(
        "mark", "orders_daily", "--from", "2026-03-02", "--to", "2026-03-02",
        "--as", "failed", "--reason", "  ", "--now", NOW, *state,
    )  # fmt: skip
    _refused(blank, reason_required)
    assert snapshot() == before

    # a date in flight: the whole range is refused
    _write(config, command=[sys.executable, "-c", SLEEP, "{date}"])
    started = cli("apply", "--now", "2026-03-02T06:00:00", *state)
    assert started.returncode in (0, 2), started.stdout + started.stderr
    try:
        before = snapshot()
        busy = cli(
            "mark", "orders_daily", "--from", "2026-03-01", "--to", "2026-03-03",
            "--as", "failed", "--reason", "r", "--now", NOW, *state,
        )  # fmt: skip
        _refused(
            busy,
            "Error: orders_daily has 1 date(s) in flight (2026-03-01): wait for the run to end "
            "or cancel it, then mark; nothing marked",
        )
        after = snapshot()
        assert after == before, {
            t: (before[t], after[t]) for t in after if after[t] != before.get(t)
        }
    finally:
        stop = cli("cancel", "--pipeline", "orders_daily", "--wait", "10", *state)
        assert stop.returncode == 0, stop.stdout + stop.stderr
