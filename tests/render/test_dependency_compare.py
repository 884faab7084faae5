"""``plan --compare-to`` over a fleet with dependencies: a request on one pipeline shows
the refreshes it will cause in its dependants, and ``--max-new-dates`` counts them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from fleet_support import FIX, NOW, OBSERVED, fleet_plan, specs

from reconciler.core.plan_diff import PlanComparison, compare_plans
from reconciler.core.planner import plan
from reconciler.render.plan_compare import (
    Guard,
    guard_message,
    headline,
    render_compare_markdown,
    render_compare_text,
)
from reconciler.render.plan_document import compare_to_dict
from reconciler.render.plan_json import plan_to_json
from reconciler.render.plan_schema import plan_problems

WEEK = tuple(date(2026, 3, day) for day in range(1, 8))


def request_on_orders() -> PlanComparison:
    """The change: a backfill request over seven covered dates of orders_daily."""
    return compare_plans(fleet_plan(False), fleet_plan(True), {}, {}, {}, {"orders_daily": (FIX,)})


def test_a_request_previews_the_refreshes_of_every_dependant() -> None:
    comparison = request_on_orders()
    found = {(d.pipeline_id, d.kind): d for d in comparison.deltas}
    assert set(found) == {
        ("orders_daily", "backfill"),
        ("revenue", "refresh_preview"),
        ("report", "refresh_preview"),  # two steps down: transitive
    }
    assert found["revenue", "refresh_preview"].added == WEEK
    assert found["revenue", "refresh_preview"].upstream == ("orders_daily",)
    assert found["report", "refresh_preview"].upstream == ("revenue",)
    assert comparison.new_dates == 21
    assert comparison.declared_dates == 7  # the request's own dates
    assert comparison.undeclared_dates == 14  # the dependants' refreshes: not declared by it
    assert comparison.refresh_dates == 14


def test_max_new_dates_below_the_refreshes_refuses_with_the_guard_message() -> None:
    comparison = request_on_orders()
    assert Guard(13).exceeded(comparison)
    assert not Guard(14).exceeded(comparison)
    message = guard_message(comparison, Guard(13))
    assert message.startswith("this change adds 14 date(s) to run, more than --max-new-dates 13")
    assert "+7 refresh-after-upstream dates for revenue once upstream orders_daily re-runs" in (
        message
    )
    assert "+7 refresh-after-upstream dates for report once upstream revenue re-runs" in message


def test_text_and_markdown_say_how_many_dependant_dates_are_refreshed() -> None:
    comparison = request_on_orders()
    assert "21 new dates to start (14 of them refreshes of covered dates)" in headline(comparison)
    text = render_compare_text(comparison, "main", guard=Guard(13))
    assert "  ~ revenue (unchanged: its upstream changes)" in text
    assert (
        "      +7 refresh-after-upstream dates once upstream orders_daily re-runs: "
        "2026-03-01..2026-03-07 (7 dates)"
    ) in text
    assert "  ! guard: this change adds 14 date(s) to run" in text
    markdown = render_compare_markdown(comparison, "main", guard=Guard(13))
    assert "> **Mass-backfill guard:** this change adds 14 date(s)" in markdown
    assert (
        "- **+7** refresh-after-upstream dates for `report` once upstream revenue re-runs"
    ) in markdown


def test_the_compare_document_counts_refreshes_and_validates() -> None:
    comparison = request_on_orders()
    compare = compare_to_dict(comparison, "main")
    assert compare["summary"] == {
        "added": 21,
        "removed": 0,
        "new_dates": 21,
        "declared": 7,
        "undeclared": 14,
        "refresh": 14,
    }
    revenue = next(d for d in compare["dates"] if d["pipeline_id"] == "revenue")
    assert revenue["kind"] == "refresh_preview" and revenue["upstream"] == ["orders_daily"]
    document = json.loads(plan_to_json(fleet_plan(True), {"compare": compare}))
    assert plan_problems(document) == []


def test_a_backfill_that_now_waits_for_its_upstream_is_not_a_new_date() -> None:
    """Base: revenue backfills its missing 2026-03-05; head: that date waits for the
    orders date the change re-runs. Moved, not added: the guard does not count it."""
    holed = dict(OBSERVED.pipelines)
    holed["revenue"] = replace(
        OBSERVED.of("revenue"),
        covered=((date(2026, 1, 1), date(2026, 3, 4)), (date(2026, 3, 6), date(2026, 3, 8))),
    )
    observed = replace(OBSERVED, pipelines=holed)
    base = plan(specs(False), observed, NOW)
    head = plan(specs(True), observed, NOW)
    moved = compare_plans(base, head, {}, {}, {}, {"orders_daily": (FIX,)})
    found = {(d.pipeline_id, d.kind): d for d in moved.deltas}
    assert found["revenue", "backfill"].removed == (date(2026, 3, 5),)
    waits = found["revenue", "waiting_upstream"]
    assert (waits.added, waits.known, waits.new) == ((date(2026, 3, 5),), 1, 0)
    assert found["revenue", "refresh_preview"].new == 6  # the covered ones of the week
    assert moved.new_dates == sum(len(d.added) for d in moved.deltas) - 1
