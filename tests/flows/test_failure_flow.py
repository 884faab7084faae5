"""``failure``: dates out of retries are told once, grouped, on every channel; retry timing."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flow_helpers import FAIL, STATE, apply, notifications, notify_lines, query, write_pipeline
from receivers import TOKEN, HookReceiver

NOW = "2026-01-10T06:00:00"


def test_forty_one_failed_dates_make_one_message_per_channel_once(tmp_path: Path, cli) -> None:
    write_pipeline(
        tmp_path / "pipelines.d",
        "broken",
        FAIL,
        schedule={"start": "2025-12-01"},
        retry={"enabled": False},
        notifications=[
            {"channel": "slack", "url_env": "SLACK_URL", "on": ["failure"]},
            {"channel": "webhook", "url_env": "HOOK_URL", "secret_env": "HOOK_SECRET"},
            {"channel": "stdout", "on": ["failure"]},
        ],
    )
    with HookReceiver("slack") as slack, HookReceiver("webhook") as hook:
        env = {"SLACK_URL": slack.url, "HOOK_URL": hook.url, "HOOK_SECRET": "s3cret"}
        first = apply(cli, NOW, env)
        second = apply(cli, NOW, env)
    assert "41 failed" in first.stdout
    lines = sorted(notify_lines(first), key=lambda line: "->" in line)  # stdout's first
    assert lines[0].startswith(
        "[failure] broken: 41 dates failed and will not be retried - 2025-12-01 after 1 "
        "attempt: exit code 1: boom: 2025-12-01; 2025-12-02 after 1 attempt: "
    )
    assert lines[0].endswith(
        "and 36 more dates with other errors: 2025-12-06..2026-01-10 (36 dates)"
    )
    assert "[failure] broken: 41 dates failed and will not be retried -> slack (SLACK_URL)" in lines
    assert (
        "[failure] broken: 41 dates failed and will not be retried -> webhook (HOOK_URL)" in lines
    )
    assert len(lines) == 3
    assert notify_lines(second) == []
    assert "0 run(s) started" in second.stdout
    (payload,) = slack.payloads
    assert payload["text"].startswith("[failure] broken: 41 dates failed")
    (got,) = hook.received
    document = got.json()
    assert len(document["dates"]) == 41 and document["event"] == "failure"
    assert document["notifications"][0]["details"]["error"] == "exit code 1: boom: 2025-12-01"
    stamp = got.headers["x-reconciler-timestamp"]
    mac = hmac.new(b"s3cret", f"{stamp}.".encode() + got.body, hashlib.sha256).hexdigest()
    assert got.headers["x-reconciler-signature"] == f"sha256={mac}"
    rows = notifications(tmp_path)
    assert len(rows) == 41 * 3 and {r[4] for r in rows} == {"sent"}
    state = (tmp_path / STATE).read_bytes()
    assert TOKEN.encode() not in state and b"s3cret" not in state
    for output in (first.stdout, first.stderr, second.stdout, second.stderr):
        assert TOKEN not in output and "s3cret" not in output


def _ended(tmp: Path, day: str) -> datetime:
    (row,) = query(
        tmp,
        "SELECT max(end_time) FROM pipeline_run_log WHERE run_date = ? AND status = 'failed'",
        [day],
    )
    return row[0].replace(tzinfo=UTC)


def _at(instant: datetime) -> str:
    return instant.isoformat()


def test_retry_is_due_exactly_after_its_delay_and_the_last_failure_is_told_once(
    tmp_path: Path, cli
) -> None:
    write_pipeline(
        tmp_path / "pipelines.d",
        "flaky",
        FAIL,
        schedule={"start": "2026-01-10"},
        retry={"schedule": "exponential 1 minute up to 10 minutes", "max_retries": 2},
        notifications=[{"channel": "stdout", "on": ["failure"]}],
    )
    first = apply(cli, NOW)
    assert notify_lines(first) == []  # retries remain: nothing to tell yet
    ended = _ended(tmp_path, "2026-01-10")

    before = cli("plan", "--now", _at(ended + timedelta(seconds=59)), "--format", "json-v2")
    waiting = json.loads(before.stdout)["waiting"]
    assert [w["dates"] for w in waiting] == [["2026-01-10"]]
    assert datetime.fromisoformat(waiting[0]["next_retry_at"]) == ended + timedelta(minutes=1)
    early = apply(cli, _at(ended + timedelta(seconds=59)))
    assert "0 run(s) started" in early.stdout

    retry = apply(cli, _at(ended + timedelta(seconds=61)))
    assert "1 run(s) started" in retry.stdout and notify_lines(retry) == []
    rows = query(
        tmp_path,
        "SELECT attempt, retry_attempts, retry_schedule_used FROM pipeline_run_log ORDER BY 1",
    )
    assert rows == [(1, 0, None), (2, 1, "exponential 1 minute up to 10 minutes")]

    # the second retry waits twice as long
    ended = _ended(tmp_path, "2026-01-10")
    assert "0 run(s) started" in apply(cli, _at(ended + timedelta(seconds=119))).stdout
    last = apply(cli, _at(ended + timedelta(seconds=121)))
    assert "1 run(s) started" in last.stdout
    (line,) = notify_lines(last)
    assert line == (
        "[failure] flaky: 1 date failed and will not be retried - 2026-01-10 after 3 attempts: "
        "exit code 1: boom: 2026-01-10"
    )
    plan = json.loads(
        cli("plan", "--now", _at(ended + timedelta(hours=1)), "--format", "json-v2").stdout
    )
    assert plan["gaps"] == [
        {"pipeline_id": "flaky", "dates": ["2026-01-10"], "reason": "retries_exhausted"}
    ]
    assert notify_lines(apply(cli, _at(ended + timedelta(hours=1)))) == []
