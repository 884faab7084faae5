"""``reconciler explain``: every fact that decides whether one date runs, from real state
made by ``apply`` with local pipelines at a fixed ``--now``; each test runs on a DuckDB
file and on a PostgreSQL schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.stores import location, refused, snapshot

FIRST_PASS = "2026-03-07T06:00:00"  # 03-01..03-07 due; 03-05 of orders fails
AFTER_FIRST = "2026-03-07T06:01:00"  # its retry (every 5 minutes) not due yet
SECOND_PASS = "2026-03-07T06:10:00"  # the retry fails too: retries exhausted

ORDERS = """id: orders
platform: local
trigger:
  command: [python, -c, 'import sys; sys.exit(1 if "{date}" == "2026-03-05" else 0)']
schedule:
  type: daily
  start: 2026-03-01
retry: {enabled: true, schedule: every 5 minutes, max_retries: 1}
sla: {time: "08:00"}
exclude:
  - {date: 2026-03-03, reason: "source outage"}
backfill:
  auto: true
  requests:
    - {id: rerun-early-march, from: 2026-03-01, to: 2026-03-02}
"""

REVENUE = """id: revenue
platform: local
trigger:
  command: [python, -c, 'pass', '{date}']
schedule:
  type: daily
  start: 2026-03-01
depends_on:
  - {pipeline: orders, dates: same}
quality:
  checks:
    - {name: not_the_4th, engine: duckdb, on_fail: fail, sql: "select '{date}' <> '2026-03-04'"}
"""


@pytest.fixture
def applied(tmp_path: Path, store_cli):
    """Both pipelines written and applied once at ``FIRST_PASS``; the ``cli`` of the
    test's state."""
    config = tmp_path / "pipelines.d"
    config.mkdir()
    (config / "orders.yaml").write_text(ORDERS, encoding="utf-8")
    (config / "revenue.yaml").write_text(REVENUE, encoding="utf-8")
    done = store_cli("apply", "--wait", "--now", FIRST_PASS)
    assert done.returncode == 0, done.stdout + done.stderr
    return store_cli


def _explain(cli, *args: str) -> list[str]:
    done = cli("explain", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout.splitlines()


def _json(cli, *args: str) -> dict:
    done = cli("explain", *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _line(lines: list[str], step: str) -> str:
    [line] = [line for line in lines if line.startswith(f"{step}:")]
    return line


def test_a_covered_date_names_its_run(applied) -> None:
    lines = _explain(applied, "orders", "2026-03-04", "--now", AFTER_FIRST)
    assert _line(lines, "scheduled") == "scheduled: yes, due 2026-03-04 00:00 UTC (due now)"
    assert _line(lines, "coverage").startswith("coverage: covered by run ")
    assert "attempt 1, ended 2026-03-07 06:00 UTC" in _line(lines, "coverage")
    assert _line(lines, "attempt 1").startswith("attempt 1: success")
    assert _line(lines, "sla") == "sla: deadline 2026-03-04 08:00 UTC (no breach recorded)"
    assert _line(lines, "plan") == "plan: nothing to do"
    facts = _json(applied, "orders", "2026-03-04", "--now", AFTER_FIRST)
    assert facts["coverage"]["run_id"] == facts["attempts"][0]["run_id"]


def test_a_failed_date_waits_for_its_retry_then_is_exhausted(applied) -> None:
    lines = _explain(applied, "orders", "2026-03-05", "--now", AFTER_FIRST)
    assert _line(lines, "coverage") == "coverage: not covered"
    assert _line(lines, "attempt 1").startswith("attempt 1: failed")
    assert _line(lines, "attempt 1").endswith(": exit code 1")
    assert _line(lines, "retry") == "retry: attempt 2 at 2026-03-07 06:05 UTC"
    assert _line(lines, "plan") == "plan: wait (retry)"
    assert applied("apply", "--wait", "--now", SECOND_PASS).returncode == 0
    lines = _explain(applied, "orders", "2026-03-05", "--now", SECOND_PASS)
    assert _line(lines, "attempt 2").startswith("attempt 2: failed (retry")
    assert _line(lines, "retry") == "retry: exhausted (2 attempts)"
    assert _line(lines, "plan") == "plan: gap (retries_exhausted)"
    # the downstream date that reads it has an upstream gap now
    facts = _json(applied, "revenue", "2026-03-05", "--now", SECOND_PASS)
    assert facts["dependencies"]["upstream_gap"] == [
        {"pipeline_id": "orders", "from": "2026-03-05", "to": "2026-03-05"}
    ]
    assert facts["plan"] == {"does": "gap", "reason": "upstream_gap"}


def test_a_date_waiting_on_an_upstream_names_the_upstream_dates(applied) -> None:
    lines = _explain(applied, "revenue", "2026-03-05", "--now", AFTER_FIRST)
    assert _line(lines, "dependencies") == "dependencies: waits for orders 2026-03-05"
    assert _line(lines, "plan") == "plan: wait (upstream)"
    assert _line(lines, "attempts") == "attempts: none"
    assert _line(lines, "sla") == "sla: none"


def test_a_covered_date_whose_upstream_is_rerun_waits_to_be_refreshed(applied) -> None:
    queued = applied(
        "backfill", "orders", "--from", "2026-03-02", "--to", "2026-03-02",
        "--id", "again", "--now", AFTER_FIRST,
    )  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    lines = _explain(applied, "revenue", "2026-03-02", "--now", AFTER_FIRST)
    assert _line(lines, "coverage").startswith("coverage: covered by run ")
    assert _line(lines, "dependencies") == (
        "dependencies: waits for orders 2026-03-02 (covered: refreshed once they re-run)"
    )
    assert _line(lines, "plan") == "plan: wait (upstream)"


def test_each_attempt_lists_its_quality_checks(applied) -> None:
    failed = _explain(applied, "revenue", "2026-03-04", "--now", AFTER_FIRST)
    at = failed.index(_line(failed, "attempt 1"))
    assert failed[at + 1] == "  check not_the_4th: failed: returned false"
    facts = _json(applied, "revenue", "2026-03-03", "--now", AFTER_FIRST)
    [attempt] = facts["attempts"]
    assert attempt["checks"] == [{"name": "not_the_4th", "passed": True, "details": None}]


def test_a_paused_pipeline_says_why_without_any_state(
    tmp_path: Path, store_cli, state: list[str]
) -> None:
    config = tmp_path / "pipelines.d"
    config.mkdir()
    paused = REVENUE.split("depends_on:")[0] + "pause: true\npause_reason: migrating\n"
    (config / "revenue.yaml").write_text(paused, encoding="utf-8")
    lines = _explain(store_cli, "revenue", "2026-03-02", "--now", AFTER_FIRST)
    assert _line(lines, "paused") == "paused: yes (migrating)"
    assert _line(lines, "coverage") == "coverage: not covered"
    assert _line(lines, "plan") == "plan: backfill (attempt 1)"
    assert snapshot(location(tmp_path, state)) == {}  # explain wrote no state


def test_an_excluded_date_gives_the_reason_and_is_never_planned(applied) -> None:
    lines = _explain(applied, "orders", "2026-03-03", "--now", AFTER_FIRST)
    assert _line(lines, "excluded") == "excluded: yes (source outage)"
    assert _line(lines, "coverage") == "coverage: not covered"
    assert _line(lines, "plan") == "plan: nothing to do"
    assert _line(lines, "paused") == "paused: no"


def test_an_unscheduled_date_names_the_nearest_scheduled_ones(applied) -> None:
    lines = _explain(applied, "orders", "2026-02-20", "--now", AFTER_FIRST)
    assert _line(lines, "scheduled") == (
        "scheduled: no (nearest scheduled dates: previous -, next 2026-03-01)"
    )


def test_a_date_not_yet_due_says_so(applied) -> None:
    lines = _explain(applied, "orders", "2026-03-09", "--now", AFTER_FIRST)
    assert _line(lines, "scheduled") == "scheduled: yes, due 2026-03-09 00:00 UTC (not due yet)"
    assert _line(lines, "plan") == "plan: nothing to do"


def test_json_has_one_key_per_step(applied) -> None:
    facts = _json(applied, "orders", "2026-03-01", "--now", AFTER_FIRST)
    assert list(facts) == [
        "pipeline_id", "date", "now", "scheduled", "excluded", "paused", "coverage",
        "attempts", "retry", "requests", "sla", "dependencies", "plan",
    ]  # fmt: skip
    assert facts["scheduled"]["due"] is True
    # the declared request ran in the first pass: listed, not planned again
    assert facts["requests"] == [
        {"id": "rerun-early-march", "from": "2026-03-01", "to": "2026-03-02", "planned": False}
    ]
    assert facts["plan"] == {"does": "nothing"}


def test_an_adhoc_request_that_holds_the_date_is_what_the_plan_runs(applied) -> None:
    queued = applied(
        "backfill", "orders", "--from", "2026-03-01", "--to", "2026-03-01",
        "--id", "fix-01", "--now", AFTER_FIRST,
    )  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    facts = _json(applied, "orders", "2026-03-01", "--now", AFTER_FIRST)
    assert [(q["id"], q["planned"]) for q in facts["requests"]] == [
        ("rerun-early-march", False),
        ("fix-01", True),
    ]
    assert facts["plan"] == {"does": "backfill", "attempt": 1, "request_id": "fix-01"}
    lines = _explain(applied, "orders", "2026-03-01", "--now", AFTER_FIRST)
    assert _line(lines, "plan") == "plan: backfill (attempt 1, request fix-01)"


UNKNOWN = (
    "no pipeline with id 'ordrs' in pipelines.d (known: orders, revenue); did you mean 'orders'?"
)


BAD_INPUT = [
    (("ordrs", "2026-03-05"), UNKNOWN),
    (("ordrs", "2026-03-05", "--format", "json"), UNKNOWN),
    (
        ("nothing_like_it", "2026-03-05"),
        "no pipeline with id 'nothing_like_it' in pipelines.d (known: orders, revenue)",
    ),
    (("orders", "2026-13-05"), "DATE: expected a date such as 2026-03-18, found '2026-13-05'"),
    (("orders", "05.03.2026"), "DATE: expected a date such as 2026-03-18, found '05.03.2026'"),
]


def test_bad_input_is_a_one_line_error_and_writes_nothing(
    applied, tmp_path: Path, state: list[str]
) -> None:
    before = snapshot(location(tmp_path, state))
    assert before["pipeline_run_log"]  # the first pass is there to be left alone
    for args, line in BAD_INPUT:
        refused(applied("explain", *args, "--now", AFTER_FIRST), f"Error: {line}")
    assert snapshot(location(tmp_path, state)) == before


def test_a_date_marked_failed_after_it_ran_is_not_covered(applied) -> None:
    marked = applied(
        "mark", "orders", "--from", "2026-03-04", "--to", "2026-03-04", "--as", "failed",
        "--reason", "bad rows", "--now", AFTER_FIRST,
    )  # fmt: skip
    assert marked.returncode == 0, marked.stderr
    lines = _explain(applied, "orders", "2026-03-04", "--now", AFTER_FIRST)
    assert _line(lines, "coverage") == "coverage: not covered"  # as status and plan say
    assert _line(lines, "plan").startswith("plan: backfill (attempt ")
    facts = _json(applied, "orders", "2026-03-04", "--now", AFTER_FIRST)
    assert facts["coverage"] == {
        "covered": False,
        "run_id": None,
        "attempt": None,
        "ended_at": None,
    }
    assert [(a["status"], a["kind"]) for a in facts["attempts"]] == [
        ("success", "backfill"),
        ("failed", "mark"),
    ]
    status = json.loads(applied("status", "--now", AFTER_FIRST, "--format", "json").stdout)
    [row] = [r for r in status["pipelines"] if r["pipeline_id"] == "orders"]
    assert (row["missing"], row["failed"]) == (1, 1)  # 03-04 missing again; 03-05 failed
