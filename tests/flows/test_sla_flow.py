"""SLA breaches: a date that never ran, a late success, an on-time one; each told once."""

from __future__ import annotations

import json
from pathlib import Path

from flow_helpers import OK, apply, notify_lines, query, sleeper, write_pipeline
from receivers import HookReceiver


def _berlin_daily_with_sla(tmp_path: Path, **extra: object) -> None:
    """A daily job of 1 s due at midnight Berlin time, with an SLA at 02:00."""
    write_pipeline(
        tmp_path / "pipelines.d",
        "daily",
        sleeper(1),
        schedule={"start": "2026-01-10", "at": "00:00", "timezone": "Europe/Berlin"},
        sla={"time": "02:00"},
        **extra,
    )


def test_breaches_of_a_date_that_never_ran_and_of_a_late_success(tmp_path: Path, cli) -> None:
    _berlin_daily_with_sla(
        tmp_path,
        notifications=[
            {"channel": "slack", "url_env": "SLACK_URL", "on": ["sla_breach"]},
            {"channel": "stdout", "on": ["sla_breach"]},
        ],
    )
    with HookReceiver("slack") as slack:
        env = {"SLACK_URL": slack.url}
        # the first sync: earlier deadlines are history, not breaches (but sla_met is false)
        first = apply(cli, "2026-01-10T06:00:00", env)
        assert notify_lines(first) == []
        # 2026-01-11 is due at 23:00Z, its deadline is 01:00Z; it runs 1 s and ends late
        late = apply(cli, "2026-01-11T00:59:59.500", env)
        assert sorted(notify_lines(late)) == [
            "[sla_breach] daily: SLA missed for 1 date - 2026-01-11: deadline 2026-01-11 02:00 "
            "Europe/Berlin (01:00 UTC) passed without a successful run",
            "[sla_breach] daily: SLA missed for 1 date -> slack (SLACK_URL)",
        ]
        # 2026-01-12 has not run at all when its deadline passes
        plan = json.loads(cli("plan", "--now", "2026-01-12T01:30:00", "--format", "json").stdout)
        assert plan["sla_breaches"] == [
            {"pipeline_id": "daily", "date": "2026-01-12", "deadline": "2026-01-12T01:00:00+00:00"}
        ]
        never = apply(cli, "2026-01-12T01:30:00", env)
        assert sorted(notify_lines(never)) == [
            "[sla_breach] daily: SLA missed for 1 date - 2026-01-12: deadline 2026-01-12 02:00 "
            "Europe/Berlin (01:00 UTC) passed without a successful run",
            "[sla_breach] daily: SLA missed for 1 date -> slack (SLACK_URL)",
        ]
        # 2026-01-13 runs in time
        in_time = apply(cli, "2026-01-12T23:30:00", env)
        again = apply(cli, "2026-01-12T23:40:00", env)
    assert notify_lines(in_time) == [] and notify_lines(again) == []
    assert len(slack.payloads) == 2
    runs = query(
        tmp_path,
        "SELECT run_date::VARCHAR, status, sla_met FROM pipeline_run_log ORDER BY 1",
    )
    assert runs == [
        ("2026-01-10", "success", False),
        ("2026-01-11", "success", False),
        ("2026-01-12", "success", False),
        ("2026-01-13", "success", True),
    ]
    breaches = query(tmp_path, "SELECT run_date::VARCHAR FROM sla_breaches ORDER BY 1")
    assert breaches == [("2026-01-11",), ("2026-01-12",)]
    status = json.loads(cli("status", "--now", "2026-01-12T23:45:00", "--format", "json").stdout)
    assert status["pipelines"][0]["sla_breaches"] == 2


def test_sla_notify_false_records_but_does_not_tell(tmp_path: Path, cli) -> None:
    write_pipeline(
        tmp_path / "pipelines.d",
        "quiet",
        OK,
        schedule={"start": "2026-01-10"},
        sla={"time": "01:00", "notify": False},
        notifications=[{"channel": "stdout", "on": ["sla_breach"]}],
    )
    apply(cli, "2026-01-10T06:00:00")
    assert notify_lines(apply(cli, "2026-01-11T02:00:00")) == []
    assert query(tmp_path, "SELECT run_date::VARCHAR FROM sla_breaches") == [("2026-01-11",)]


def test_a_late_success_is_recorded_without_any_notification_channel(tmp_path: Path, cli) -> None:
    """An SLA alone (no ``notifications``) still records breaches: ``status`` shows them."""
    _berlin_daily_with_sla(tmp_path)
    apply(cli, "2026-01-10T06:00:00")
    apply(cli, "2026-01-11T00:59:59.500")
    breaches = query(tmp_path, "SELECT run_date::VARCHAR FROM sla_breaches ORDER BY 1")
    assert breaches == [("2026-01-11",)]
