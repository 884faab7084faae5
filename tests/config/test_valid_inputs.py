"""Files that must load, and what they load as: defaults, YAML quirks, grammar, URLs, templates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from validate_support import VALID, Outcome

from reconciler.config.loading import load_file
from reconciler.config.models import AnyPipeline, HttpPipeline, LocalPipeline
from reconciler.core.durations import parse_duration, parse_retry_schedule

HTTP = """\
id: hook
platform: http
trigger:
  url: {url}
schedule:
  type: daily
  start: 2026-01-01
"""


def load_text(tmp_path: Path, text: str) -> AnyPipeline:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    loaded, problems = load_file(path)
    assert problems == []
    assert loaded is not None
    return loaded.model


def test_defaults(tmp_path: Path) -> None:
    model = load_text(tmp_path, VALID)
    assert isinstance(model, LocalPipeline)
    assert model.name is None
    assert model.display_name == "orders"
    s = model.schedule
    assert (s.every, s.days, s.end, s.offset, s.at, s.timezone) == (1, [], None, 0, "00:00", "UTC")
    assert (model.batch.multi_date, model.batch.max_dates) == (False, 31)
    assert (model.retry.enabled, model.retry.schedule, model.retry.max_retries) == (
        True,
        "every 5 minutes",
        2,
    )
    b = model.backfill
    assert (b.auto, b.priority, b.order, b.max_active_runs, b.requests) == (
        True,
        0,
        "oldest_first",
        4,
        [],
    )
    assert model.quality.checks == []
    assert model.sla is None
    assert model.notifications == []
    assert model.parameters == {}


def test_yaml_11_quirks_are_handled(tmp_path: Path) -> None:
    text = VALID.replace("  type: daily", "  type: weekly\n  days: [mon, fri]\n  at: 02:00")
    text += "notifications:\n  - channel: stdout\n    on: [failure, success]\n"
    text += "parameters:\n  flag: yes\n  version: 1.10\n  count: 3\n  day: 2026-01-01\n"
    model = load_text(tmp_path, text)
    assert model.schedule.at == "02:00"
    assert model.schedule.days == ["mon", "fri"]
    assert model.notifications[0].on == ["failure", "success"]
    # parameters are text, exactly as written
    assert model.parameters == {
        "flag": "yes",
        "version": "1.10",
        "count": "3",
        "day": "2026-01-01",
    }


def test_monthly_days(tmp_path: Path) -> None:
    text = VALID.replace("  type: daily", "  type: monthly\n  days: [1, 15, -1, 31]")
    assert load_text(tmp_path, text).schedule.days == [1, 15, -1, 31]


@pytest.mark.parametrize(
    "schedule",
    [
        "every 30 seconds",
        "every 1 second",
        "every 1 hour",
        "every 5 minutes",
        "every 2 hours",
        "  every   10   minutes ",
        "exponential 1 minute up to 1 hour",
        "exponential 30 seconds up to 30 seconds",
        "exponential 10 seconds up to 2 hours",
    ],
)
def test_good_retry_schedules(tmp_path: Path, schedule: str) -> None:
    model = load_text(tmp_path, VALID + f"retry:\n  schedule: {schedule}\n")
    assert model.retry.schedule == schedule.strip()


def test_retry_policy_delays() -> None:
    fixed = parse_retry_schedule("every 30 seconds", max_retries=3)
    assert [fixed.delay_seconds(k) for k in (1, 2, 3)] == [30, 30, 30]
    grow = parse_retry_schedule("exponential 1 minute up to 5 minutes", max_retries=5)
    assert [grow.delay_seconds(k) for k in (1, 2, 3, 4, 5)] == [60, 120, 240, 300, 300]
    assert grow.kind == "exponential" and grow.cap_seconds == 300 and grow.max_retries == 5


@pytest.mark.parametrize(
    "text",
    ["every", "every 5", "every 5 days", "every -1 minutes", "exponential 1 minute", "5m", ""],
)
def test_bad_retry_schedules_raise(text: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_retry_schedule(text)


@pytest.mark.parametrize(
    "text, seconds",
    [
        (90, 90),
        ("90", 90),
        ("90s", 90),
        ("30m", 1800),
        ("2h", 7200),
        ("1d", 86400),
        ("5 minutes", 300),
        ("1 hour", 3600),
    ],
)
def test_durations(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", [0, -5, "0s", "soon", "5 weeks", "1.5h"])
def test_bad_durations(text: str | int) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_duration(text)


def test_timeout_errors_are_one_per_field(
    validate_text: Callable[[str], tuple[Path, Outcome]],
) -> None:
    _, outcome = validate_text(VALID.replace("trigger:\n", "trigger:\n  timeout: 1.5\n"))
    assert [(p.line, p.field) for p in outcome.problems] == [(4, "trigger.timeout")]
    assert "expected a whole number or text, found 1.5" in outcome.problems[0].rest
    _, outcome = validate_text(VALID.replace("trigger:\n", "trigger:\n  timeout: 0\n"))
    assert "expected a positive duration, found 0" in outcome.problems[0].rest


@pytest.mark.parametrize(
    "url",
    [
        "https://jobs.example.com/run",
        "https://jobs.example.com:8443/run?x=1",
        "http://127.0.0.1:8080/run",
        "http://localhost/run",
        "http://localhost:9000",
        "http://[::1]:8080/run",
        "https://{param.host}/run",
    ],
)
def test_urls_accepted(tmp_path: Path, url: str) -> None:
    text = HTTP.format(url=url) + "parameters:\n  host: jobs.example.com\n"
    model = load_text(tmp_path, text)
    assert isinstance(model, HttpPipeline)
    assert model.trigger.url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://jobs.example.com/run",
        "http://127.0.0.2/run",
        "http://localhost.example.com/",
        "http://10.0.0.1/",
        "ftp://jobs.example.com/",
        "HTTP://localhost/",
        "jobs.example.com/run",
        "https://",
        "https://x.example.com:port/",
    ],
)
def test_urls_rejected(validate_text: Callable[[str], tuple[Path, Outcome]], url: str) -> None:
    _, outcome = validate_text(HTTP.format(url=url))
    assert outcome.exit_code == 1
    assert [(p.line, p.col, p.field) for p in outcome.problems] == [(4, 8, "trigger.url")]


def test_templates_accepted(tmp_path: Path) -> None:
    text = """\
id: hook
platform: http
trigger:
  url: https://x.example.com/{pipeline_id}/{date}
  body:
    run: "{run_id}"
    dates: "{dates}"
    window: ["{start_date}", "{end_date}"]
    literal: "{{not a placeholder}}"
    path: "{param.base}/{param.run_date}"
    count: 3
  status_url: https://x.example.com/runs/{platform_run_id}
schedule:
  type: daily
  start: 2026-01-01
parameters:
  base: s3://bucket/{pipeline_id}
  nested: "{param.base}/x"
  run_date: "{date}"
"""
    model = load_text(tmp_path, text)
    assert isinstance(model, HttpPipeline)
    assert model.trigger.body is not None and model.trigger.body["count"] == 3
    assert model.parameters["run_date"] == "{date}"


def test_declared_backfill_request_and_checks(tmp_path: Path) -> None:
    text = VALID + (
        "backfill:\n  priority: 3\n  requests:\n"
        "    - {id: fix-1, from: 2026-01-01, to: 2026-01-01, reason: one day}\n"
        "    - {id: fix-2, from: 2026-01-01, to: 2026-01-31, priority: 9}\n"
        "quality:\n  checks:\n    - {name: a, sql: select true}\n"
        "    - {name: b, sql: select true, engine: snowflake, on_fail: warn}\n"
        "sla:\n  time: '06:00'\n"
    )
    model = load_text(tmp_path, text)
    requests = model.backfill.requests
    assert [(r.id, r.from_, r.to, r.priority) for r in requests] == [
        ("fix-1", date(2026, 1, 1), date(2026, 1, 1), None),
        ("fix-2", date(2026, 1, 1), date(2026, 1, 31), 9),
    ]
    assert [c.name for c in model.quality.checks] == ["a", "b"]
    assert model.sla is not None and model.sla.notify is True
