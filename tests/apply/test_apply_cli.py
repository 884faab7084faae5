"""``reconciler apply`` end to end: small local pipelines in a temporary directory, run
as a user would (a subprocess per command), checked through ledgers the jobs write,
the CLI's own output and the state file."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from apply_helpers import days, ledger_command, ledger_dates, query, write_pipeline

NOW = "2026-01-10T06:00:00"  # dates 2026-01-01..10 are due for a daily pipeline
STATE = Path(".reconciler/state.duckdb")


def plan_json(cli, now: str = NOW, *extra: str) -> dict:
    done = cli("plan", "--now", now, "--format", "json-v2", *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def kinds(plan: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for action in plan["actions"]:
        out.setdefault(action["kind"], []).extend(action["dates"])
    return out


def test_apply_wait_then_plan_has_nothing_to_do(tmp_path: Path, cli) -> None:
    ledger = tmp_path / "ledger.txt"
    write_pipeline(tmp_path / "pipelines.d", "orders", ledger_command())
    write_pipeline(
        tmp_path / "pipelines.d",
        "batches",
        ledger_command(),
        batch={"multi_date": True, "max_dates": 4},
        schedule={"start": "2026-01-03"},
    )
    env = {"LEDGER": str(ledger)}
    assert cli("plan", "--now", NOW, "--detailed-exitcode", env=env).returncode == 2
    done = cli("apply", "--wait", "--now", NOW, env=env)
    assert done.returncode == 0, done.stderr
    assert "config: create orders" in done.stdout
    assert "\r" not in done.stderr  # no live progress line when piped
    plan = cli("plan", "--now", "2026-01-10T06:05:00", "--detailed-exitcode", env=env)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    counts = ledger_dates(ledger)
    # orders: 10 dates; batches: 8 dates in 4-date runs, plus the latest as a "run"
    assert sum(counts.values()) == 10 + 8
    assert counts == {d: 2 for d in days(3, 10)} | {d: 1 for d in days(1, 2)}
    lines = ledger.read_text().splitlines()
    assert "2026-01-03,2026-01-04,2026-01-05,2026-01-06" in lines
    rows = query(
        tmp_path / STATE,
        "SELECT pipeline_id, count(*), count(DISTINCT batch_id) FROM pipeline_run_log "
        "WHERE status = 'success' GROUP BY ALL ORDER BY 1",
    )
    assert rows == [("batches", 8, 3), ("orders", 10, 10)]


def test_applying_twice_at_the_same_now_runs_each_date_once(tmp_path: Path, cli) -> None:
    ledger = tmp_path / "ledger.txt"
    slow = "import time; time.sleep(0.3)"
    write_pipeline(tmp_path / "pipelines.d", "p", ledger_command(slow))
    env = {"LEDGER": str(ledger)}
    first = cli("apply", "--now", NOW, env=env)  # no --wait: returns once all started
    assert first.returncode == 0, first.stderr
    second = cli("apply", "--wait", "--now", NOW, env=env)
    assert second.returncode == 0, second.stderr
    assert "adopted" in second.stdout
    third = cli("apply", "--wait", "--now", NOW, env=env)
    assert third.returncode == 0, third.stderr
    assert "0 run(s) started" in third.stdout
    assert ledger_dates(ledger) == {d: 1 for d in days(1, 10)}
    assert query(tmp_path / STATE, "SELECT count(*) FROM pipeline_run_log") == [(10,)]


def test_templates_parameters_environment_and_cwd(tmp_path: Path, cli) -> None:
    out = tmp_path / "seen.jsonl"
    (tmp_path / "work").mkdir()
    script = (
        "import sys, os, json; "
        "env = dict((k, v) for k, v in os.environ.items() if k.startswith('RECONCILER_')); "
        "open(os.environ['OUT'], 'a').write("
        "json.dumps(dict(argv=sys.argv[1:], env=env, cwd=os.getcwd())) + chr(10))"
    )
    write_pipeline(
        tmp_path / "pipelines.d",
        "tpl",
        [
            sys.executable,
            "-c",
            script,
            "{date}",
            "{start_date}..{end_date}",
            "{dates}",
            "{param.target}",
            "{pipeline_id}",
            "{run_id}",
            "no shell; echo $HOME > x",
        ],
        trigger={"cwd": "work"},
        schedule={"start": "2026-01-08"},
        batch={"multi_date": True, "max_dates": 2},
        parameters={"target": "out/{date}.csv", "region": "eu-{param.target}"},
    )
    done = cli("apply", "--wait", "--now", NOW, env={"OUT": str(out)})
    assert done.returncode == 0, done.stderr
    runs = sorted(
        (json.loads(line) for line in out.read_text().splitlines()), key=lambda r: r["argv"][0]
    )
    assert [r["argv"][:3] for r in runs] == [
        ["2026-01-08", "2026-01-08..2026-01-09", "2026-01-08,2026-01-09"],
        ["2026-01-10", "2026-01-10..2026-01-10", "2026-01-10"],
    ]
    first = runs[0]
    assert first["argv"][3:5] == ["out/2026-01-08.csv", "tpl"]
    assert first["argv"][6] == "no shell; echo $HOME > x"
    assert first["cwd"] == str(tmp_path / "work")
    assert not (tmp_path / "work" / "x").exists()
    env = first["env"]
    assert env["RECONCILER_PARAM_TARGET"] == "out/2026-01-08.csv"
    assert env["RECONCILER_PARAM_REGION"] == "eu-out/2026-01-08.csv"
    assert env["RECONCILER_PARAM_RUN_DATE"] == "2026-01-08"
    assert env["RECONCILER_PARAM_START_DATE"] == "2026-01-08"
    assert env["RECONCILER_PARAM_END_DATE"] == "2026-01-09"
    assert env["RECONCILER_RUN_ID"] == first["argv"][5]
    batches = query(
        tmp_path / STATE,
        "SELECT DISTINCT batch_id, platform_run_id FROM pipeline_run_log WHERE run_date <= ?",
        ["2026-01-09"],
    )
    assert batches == [(first["argv"][5], first["argv"][5])]


def test_failures_are_recorded_retried_after_the_delay_then_reported_as_gaps(
    tmp_path: Path, cli
) -> None:
    ledger = tmp_path / "ledger.txt"
    fail = (
        "import sys; sys.stderr.write('lots of noise' + chr(10) * 50 + "
        "'boom: no input for ' + sys.argv[1] + chr(10)); sys.exit(3)"
    )
    write_pipeline(
        tmp_path / "pipelines.d",
        "flaky",
        [sys.executable, "-c", fail, "{date}"],
        schedule={"start": "2026-01-09"},
        retry={"schedule": "every 2 minutes", "max_retries": 1},
    )
    env = {"LEDGER": str(ledger)}
    first = cli("apply", "--wait", "--now", NOW, env=env)
    assert first.returncode == 0, first.stderr  # failures are recorded, not an error
    assert "2 failed" in first.stdout
    history = json.loads(cli("history", "flaky", "--format", "json").stdout)
    assert {(r["run_date"], r["status"], r["attempt"]) for r in history} == {
        ("2026-01-09", "failed", 1),
        ("2026-01-10", "failed", 1),
    }
    message = next(r["error_message"] for r in history if r["run_date"] == "2026-01-10")
    assert message.startswith("exit code 3") and "boom: no input for 2026-01-10" in message

    soon = plan_json(cli, "2026-01-10T06:01:00")
    assert soon["actions"] == [] and sum(len(w["dates"]) for w in soon["waiting"]) == 2
    later = "2026-01-10T06:03:00"
    assert kinds(plan_json(cli, later)) == {"retry": days(9, 10)}
    retry = cli("apply", "--wait", "--now", later, env=env)
    assert retry.returncode == 0, retry.stderr
    history = json.loads(cli("history", "flaky", "--format", "json").stdout)
    assert sorted((r["run_date"], r["attempt"]) for r in history) == [
        ("2026-01-09", 1),
        ("2026-01-09", 2),
        ("2026-01-10", 1),
        ("2026-01-10", 2),
    ]
    assert history[0]["attempt"] == 2  # newest first
    exhausted = plan_json(cli, "2026-01-10T07:00:00")
    assert exhausted["actions"] == []
    assert [(g["dates"], g["reason"]) for g in exhausted["gaps"]] == [
        (days(9, 10), "retries_exhausted")
    ]
    nothing = cli("apply", "--wait", "--now", "2026-01-10T07:00:00", env=env)
    assert "0 run(s) started" in nothing.stdout and "2 gap date(s)" in nothing.stdout


def _dead(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_timeout_kills_the_whole_process_group(tmp_path: Path, cli) -> None:
    pids = tmp_path / "pids"
    script = (
        "import subprocess, sys, os, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "open(os.environ['PIDS'], 'a').write(str(os.getpid()) + ' ' + str(child.pid) + chr(10)); "
        "time.sleep(60)"
    )
    write_pipeline(
        tmp_path / "pipelines.d",
        "slow",
        [sys.executable, "-c", script],
        trigger={"timeout": "1s"},
        schedule={"start": "2026-01-10"},
    )
    started = time.monotonic()
    done = cli("apply", "--wait", "--now", NOW, env={"PIDS": str(pids)})
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    [row] = query(tmp_path / STATE, "SELECT status, error_message FROM pipeline_run_log")
    assert row[0] == "failed" and "timed out after 1" in row[1]
    job, grandchild = (int(p) for p in pids.read_text().split())
    deadline = time.monotonic() + 5
    while not (_dead(job) and _dead(grandchild)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _dead(job) and _dead(grandchild)


def test_a_command_that_cannot_start_fails_with_a_clear_message(tmp_path: Path, cli) -> None:
    write_pipeline(
        tmp_path / "pipelines.d",
        "missing",
        ["/nonexistent/tool", "{date}"],
        schedule={"start": "2026-01-10"},
    )
    write_pipeline(
        tmp_path / "pipelines.d",
        "nowhere",
        [sys.executable, "-c", "pass"],
        trigger={"cwd": "no/such/dir"},
        schedule={"start": "2026-01-10"},
    )
    done = cli("apply", "--wait", "--now", NOW)
    assert done.returncode == 0, done.stderr
    errors = dict(
        query(tmp_path / STATE, "SELECT pipeline_id, error_message FROM pipeline_run_log")
    )
    assert "cannot start '/nonexistent/tool'" in errors["missing"]
    assert "no/such/dir" in errors["nowhere"]


def test_a_deleted_pipeline_is_marked_deleted_and_keeps_its_history(tmp_path: Path, cli) -> None:
    ledger = tmp_path / "ledger.txt"
    env = {"LEDGER": str(ledger)}
    write_pipeline(tmp_path / "pipelines.d", "keep", ledger_command())
    gone = write_pipeline(
        tmp_path / "pipelines.d", "gone", ledger_command(), schedule={"start": "2026-01-09"}
    )
    assert cli("apply", "--wait", "--now", NOW, env=env).returncode == 0
    gone.unlink()
    done = cli("apply", "--wait", "--now", "2026-01-11T06:00:00", env=env)
    assert done.returncode == 0, done.stderr
    assert "config: delete gone" in done.stdout
    rows = query(
        tmp_path / STATE,
        "SELECT pipeline_id, deleted_at IS NOT NULL, created_at <= updated_at FROM pipelines "
        "ORDER BY 1",
    )
    assert rows == [("gone", True, True), ("keep", False, True)]
    history = json.loads(cli("history", "gone", "--format", "json").stdout)
    assert sorted(r["run_date"] for r in history) == days(9, 10)
    # the deleted pipeline stopped: its 2026-01-11 never ran, the other's did
    assert ledger_dates(ledger)["2026-01-11"] == 1
    assert cli("plan", "--now", "2026-01-11T06:00:00", "--detailed-exitcode").returncode == 0


def test_an_empty_config_dir_deletes_nothing_without_allow_empty(tmp_path: Path, cli) -> None:
    env = {"LEDGER": str(tmp_path / "ledger.txt")}
    path = write_pipeline(
        tmp_path / "pipelines.d", "p", ledger_command(), schedule={"start": "2026-01-10"}
    )
    assert cli("apply", "--wait", "--now", NOW, env=env).returncode == 0
    path.unlink()
    refused = cli("apply", "--now", NOW, env=env)
    assert refused.returncode == 1
    assert "--allow-empty" in refused.stderr and "Traceback" not in refused.stderr
    assert query(tmp_path / STATE, "SELECT deleted_at FROM pipelines") == [(None,)]
    allowed = cli("apply", "--now", NOW, "--allow-empty", env=env)
    assert allowed.returncode == 0, allowed.stderr
    assert query(tmp_path / STATE, "SELECT deleted_at IS NOT NULL FROM pipelines") == [(True,)]


def test_backfill_then_apply_reruns_covered_dates_once(tmp_path: Path, cli) -> None:
    ledger = tmp_path / "ledger.txt"
    env = {"LEDGER": str(ledger)}
    write_pipeline(tmp_path / "pipelines.d", "p", ledger_command())
    assert cli("apply", "--wait", "--now", NOW, env=env).returncode == 0
    queued = cli(
        "backfill", "p", "--from", "2026-01-03", "--to", "2026-01-05", "--priority", "9",
        "--reason", "late data", "--id", "fix-1", "--now", NOW,
    )  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    plan = plan_json(cli, "2026-01-10T06:01:00")
    [action] = [a for a in plan["actions"] if a["kind"] == "backfill"][:1]
    assert (action["request_id"], action["priority"]) == ("fix-1", 9)
    assert kinds(plan) == {"backfill": days(3, 5)}
    again = cli("apply", "--wait", "--now", "2026-01-10T06:01:00", env=env)
    assert again.returncode == 0, again.stderr
    once_more = cli("apply", "--wait", "--now", "2026-01-10T06:02:00", env=env)
    assert "0 run(s) started" in once_more.stdout
    expected = {d: 1 for d in days(1, 10)} | {d: 2 for d in days(3, 5)}
    assert ledger_dates(ledger) == expected
    queue = query(
        tmp_path / STATE,
        "SELECT date_to_process::VARCHAR, status, priority FROM backfill_queue "
        "WHERE request_id = 'fix-1' ORDER BY 1",
    )
    assert queue == [(d, "done", 9) for d in days(3, 5)]
    duplicate = cli("backfill", "p", "--from", "2026-01-03", "--to", "2026-01-04", "--id", "fix-1")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    for bad in ("fix\x1e2", "-x", "a b", "x" * 129):
        refused = cli("backfill", "p", "--from", "2026-01-03", "--to", "2026-01-04", "--id", bad)
        assert refused.returncode == 1 and "--id" in refused.stderr, bad
        assert "Traceback" not in refused.stderr


def test_history_lists_runs_newest_first(tmp_path: Path, cli) -> None:
    write_pipeline(
        tmp_path / "pipelines.d",
        "p",
        ledger_command(),
        schedule={"start": "2026-01-06"},
        backfill={"max_active_runs": 1},
    )
    done = cli("apply", "--wait", "--now", NOW, env={"LEDGER": str(tmp_path / "ledger.txt")})
    assert done.returncode == 0, done.stderr
    rows = json.loads(cli("history", "p", "--format", "json").stdout)
    # started one at a time in plan order: the latest date (a run), then the backfills
    expected = ["2026-01-09", "2026-01-08", "2026-01-07", "2026-01-06", "2026-01-10"]
    assert [r["run_date"] for r in rows] == expected
    starts = [r["start_time"] for r in rows]
    assert starts == sorted(starts, reverse=True)
    assert {r["status"] for r in rows} == {"success"}
    text = cli("history", "p", "--limit", "2").stdout.splitlines()
    assert text[0].split()[:2] == ["run", "date"]
    assert [line.split()[0] for line in text[1:]] == ["2026-01-09", "2026-01-08"]
    unknown = cli("history", "nope")
    assert unknown.returncode == 1 and "no pipeline with id 'nope'" in unknown.stderr
