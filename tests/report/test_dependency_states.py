"""Outdated and blocked dates in ``status``, ``status --calendar`` and ``report``:
covered dates marked outdated (to refresh), and dates the plan holds back for their
upstream (waiting for it, or an ``upstream_gap``)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from report_support import NOW as REPORT_NOW
from report_support import write_config, write_state

from reconciler.core.coverage import InFlight, PipelineObserved
from reconciler.core.date_states import LABELS, blocked_by_pipeline, classify_dates
from reconciler.core.plan import Action, ActionList, Gap, GapList, Plan, Waiting
from reconciler.core.plan_records import UpstreamDates
from reconciler.core.spec import PipelineSpec, Schedule
from reconciler.core.status import PipelineStatus, blocked_counts, pipeline_status
from reconciler.reconcile.reporting import pending_entries
from reconciler.render.calendar_grid import PipelineCalendar
from reconciler.render.calendar_text import legend, render_calendar
from reconciler.render.report_data import Report
from reconciler.render.report_html import render_report

NOW = datetime(2026, 1, 20, 12, tzinfo=UTC)
DAILY = PipelineSpec(id="revenue", schedule=Schedule(type="daily", start=date(2026, 1, 1)))
WEEKLY = PipelineSpec(
    id="weekly", schedule=Schedule(type="weekly", start=date(2026, 1, 5), days=(0, 3))
)


def day(n: int) -> date:
    return date(2026, 1, n)


def days(first: int, last: int) -> tuple[date, ...]:
    return tuple(day(n) for n in range(first, last + 1))


OBS = PipelineObserved(
    covered=((day(1), day(10)), (day(14), day(19))),
    # 3..5 covered (outdated), 12 never ran (a mark on it means nothing), 15 covered
    outdated=((day(3), day(5)), (day(12), day(12)), (day(15), day(15))),
    in_flight={day(5): InFlight(run_id="b-5")},
)
UP = (UpstreamDates("orders_daily", day(11), day(13)),)
PLAN = Plan(
    now=NOW,
    pipelines=2,
    waiting=(
        Waiting(pipeline_id="revenue", dates=(day(11),), reason="upstream", upstream=UP),
        # covered dates to refresh later: outdated soon, not blocked
        Waiting(
            pipeline_id="revenue", dates=(day(16),), reason="upstream", upstream=UP, refresh=True
        ),
        Waiting(
            pipeline_id="revenue",
            dates=(day(20),),
            next_retry_at=NOW + timedelta(minutes=5),
            attempt=2,
        ),
    ),
    gaps=GapList.of(
        [
            Gap("revenue", (day(12), day(13)), "upstream_gap", UP),
            Gap("other", (day(12),), "auto_backfill_disabled"),
        ]
    ),
)


def test_outdated_covered_dates_and_blocked_dates_have_their_own_state() -> None:
    blocked = blocked_by_pipeline(PLAN)
    assert blocked == {"revenue": {day(11), day(12), day(13)}}
    states = classify_dates(DAILY, OBS, NOW, day(1), day(20), (), blocked["revenue"])
    assert [states[day(n)] for n in (2, 3, 4, 5)] == [
        "covered",
        "outdated",
        "outdated",
        "in_flight",
    ]
    assert [states[day(n)] for n in (11, 12, 13)] == ["blocked"] * 3
    assert states[day(15)] == "outdated" and states[day(16)] == "covered"
    assert states[day(20)] == "gap"  # (not held back: it waits for a retry's delay)


def test_status_counts_outdated_on_ranges_and_takes_blocked_from_the_plan() -> None:
    counts = blocked_counts(PLAN)
    assert counts == {"revenue": 3}
    row = pipeline_status(DAILY, OBS, NOW, counts.get("revenue", 0))
    assert (row.outdated, row.blocked) == (4, 3)  # 3, 4, 5 and 15; 12 is not covered
    assert row.covered == 16  # outdated dates are still covered
    weekly = pipeline_status(
        WEEKLY,
        PipelineObserved(covered=((day(5), day(19)),), outdated=((day(6), day(15)),)),
        NOW,
    )
    assert weekly.outdated == 3  # Thursday 8, Monday 12, Thursday 15
    assert pipeline_status(DAILY, PipelineObserved(covered=OBS.covered), NOW).outdated == 0


def _calendar() -> PipelineCalendar:
    blocked = blocked_by_pipeline(PLAN)["revenue"]
    return PipelineCalendar(
        pipeline_id="revenue",
        name="revenue",
        schedule_type="daily",
        layout="week",
        first=day(1),
        last=day(20),
        states=classify_dates(DAILY, OBS, NOW, day(1), day(20), (), blocked),
    )


def test_the_terminal_calendar_and_its_legend_show_both_marks() -> None:
    text = render_calendar(_calendar())
    assert "O 3 outdated (to refresh)" in text and "B 3 blocked (waits for upstream)" in text
    # 12 covered and 3 outdated (covered too) of 20; the date in flight is not counted
    assert "75.0% of 20 due dates covered" in text
    key = legend()
    assert "O outdated (to refresh)" in key and "B blocked (waits for upstream)" in key


def test_the_html_report_draws_and_explains_both_marks() -> None:
    status = PipelineStatus(
        pipeline_id="revenue",
        due=20,
        covered=16,
        in_flight=1,
        failed=0,
        missing=3,
        last_covered=day(19),
        next_date=day(21),
        next_due_at=None,
        sla_breaches=0,
        outdated=4,
        blocked=3,
    )
    html = render_report(Report(now=NOW, calendars=(_calendar(),), statuses=(status,)))
    for state in ("outdated", "blocked"):
        assert f'<g class="c-{state}">' in html
        assert f"{LABELS[state]}</li>" in html  # in the legend
    assert "<th class=n>outdated</th><th class=n>blocked</th>" in html
    assert "<td class=n>4</td><td class=n>3</td>" in html
    assert "<b>4</b><span>outdated dates (to refresh)</span>" in html
    assert "waits for its upstream dates" in html  # a blocked cell's tooltip


def test_status_json_and_text_have_outdated_and_blocked(tmp_path: Path) -> None:
    write_config(tmp_path / "pipelines.d")
    write_state(tmp_path / "state.duckdb")
    args = [
        sys.executable,
        "-m",
        "reconciler",
        "status",
        "--config-dir",
        str(tmp_path / "pipelines.d"),
        "--state",
        str(tmp_path / "state.duckdb"),
        "--now",
        REPORT_NOW.isoformat(),
    ]
    done = subprocess.run([*args, "--format", "json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["pipelines"]
    assert rows and all(r["outdated"] == 0 and r["blocked"] == 0 for r in rows)
    text = subprocess.run(args, capture_output=True, text=True, timeout=60)
    header = text.stdout.splitlines()[0].split()
    assert header[header.index("failed") + 1 : header.index("failed") + 3] == [
        "outdated",
        "blocked",
    ]


def test_the_reports_pending_table_lists_refreshes_and_upstream_waits() -> None:
    plan = Plan(
        now=NOW,
        pipelines=1,
        actions=ActionList.of([Action("revenue", "refresh", days(3, 4), 2, 1, "refresh-1")]),
        waiting=PLAN.waiting,
    )
    rows = {(p.kind, p.detail): (p.dates, p.count) for p in pending_entries(plan, [DAILY])}
    assert rows[("refresh", "outdated, priority 2")] == ("2026-01-03..2026-01-04 (2 dates)", 2)
    assert rows[("waiting", "waits for upstream orders_daily 2026-01-11..2026-01-13")] == (
        "2026-01-11",
        1,
    )
    assert rows[("refresh", "refresh after upstream orders_daily 2026-01-11..2026-01-13")] == (
        "2026-01-16",
        1,
    )
    assert ("retry", "attempt 2 at 2026-01-20 12:05:00 UTC") in rows
