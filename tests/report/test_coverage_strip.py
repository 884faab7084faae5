"""The plan's coverage strip: cells, worst-date-wins, and what the plan says of each date."""

from __future__ import annotations

from datetime import timedelta

from report_support import DAILY, DAILY_OBS, MONTHLY, MONTHLY_OBS, NOW, WEEKLY, WEEKLY_OBS, d

from reconciler.core.coverage import Observed
from reconciler.core.planner import plan
from reconciler.render.coverage_strip import pipeline_strip, plan_marks, strip, strips_for
from reconciler.render.plan_markdown import render_markdown


def test_one_cell_per_date_when_they_fit() -> None:
    assert strip(5, {}) == "█████"
    assert strip(5, {1: "gap", 3: "in_flight"}) == "█░█▒█"
    assert strip(0, {}) == ""


def test_cells_show_their_worst_date() -> None:
    # 120 dates in 60 cells: two dates per cell
    assert strip(120, {0: "covered_late", 1: "gap"})[0] == "░"
    assert strip(120, {2: "retrying", 3: "covered_late"})[1] == "▒"
    assert strip(120, {119: "failed"}) == "█" * 59 + "░"
    assert len(strip(10_000, {9_999: "gap"})) == 60


def test_marks_from_a_plan() -> None:
    p = plan([DAILY, WEEKLY, MONTHLY], Observed({"orders_daily": DAILY_OBS}), NOW)
    marks = plan_marks(p, "orders_daily")
    assert marks[d("2026-02-10")] == "failed"  # gap: retries exhausted
    assert marks[d("2026-02-11")] == "retrying"
    assert marks[d("2026-03-12")] == "in_flight"
    assert marks[d("2026-03-14")] == "gap"  # to be backfilled
    assert marks[d("2026-03-19")] == "gap"  # the run of the latest date
    assert d("2026-01-20") not in marks
    assert all(day <= d("2026-03-19") for day in marks)


def test_pipeline_strip_line() -> None:
    observed = Observed(
        {
            "orders_daily": DAILY_OBS,
            "orders_weekly_summary": WEEKLY_OBS,
            "month_end_report": MONTHLY_OBS,
        }
    )
    p = plan([DAILY, WEEKLY, MONTHLY], observed, NOW)
    line = pipeline_strip(DAILY, p)
    assert line is not None
    cells = line.split("`")[1]
    assert len(cells) == 60  # 78 due dates
    assert cells.startswith("█") and cells.endswith("░")
    assert "2026-01-01 → 2026-03-19 (78 due, ~1.3 dates per cell;" in line
    monthly = pipeline_strip(MONTHLY, p)
    assert monthly is not None and "`████████████▒░` 2025-01-31 → 2026-02-28" in monthly
    assert "1 date per cell" in monthly
    early = plan([DAILY], Observed(), NOW - timedelta(days=400))
    assert pipeline_strip(DAILY, early) is None
    strip_of = strips_for([DAILY], p)
    assert strip_of("orders_daily") == line and strip_of("unknown") is None


def test_markdown_details_carry_the_strip() -> None:
    p = plan([DAILY], Observed({"orders_daily": DAILY_OBS}), NOW)
    text = render_markdown(p, None, strip_for=strips_for([DAILY], p))
    details = text[text.index("<details>") :]
    assert "Coverage `" in details
    assert render_markdown(p).count("Coverage `") == 0
