"""A plan with a paused pipeline and excluded dates, in every format: the paused
pipeline's actions listed and marked, the excluded dates counted, JSON valid against the
plan schema and read back whole."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from reconciler.core.coverage import Observed, PipelineObserved
from reconciler.core.intervals import from_dates
from reconciler.core.plan import Excluded, Paused
from reconciler.core.planner import plan
from reconciler.core.spec import Exclusion, PipelineSpec, Schedule
from reconciler.render.plan_json import plan_from_dict, plan_to_dict, plan_to_json
from reconciler.render.plan_markdown import render_markdown
from reconciler.render.plan_schema import plan_problems
from reconciler.render.plan_text import render_text

D = date.fromisoformat
NOW = datetime(2024, 1, 10, 12, tzinfo=UTC)
DAILY = Schedule(type="daily", start=D("2024-01-01"))
PAUSED = PipelineSpec(
    id="orders",
    schedule=DAILY,
    paused=True,
    pause_reason="warehouse migration",
    sla_time=time(6),
    sla_notify=True,
    exclude=(Exclusion(first=D("2024-01-02"), last=D("2024-01-03"), reason="outage"),),
)
OTHER = PipelineSpec(id="other", schedule=DAILY)
SINCE = PipelineObserved(
    covered=from_dates([D("2024-01-01")]), sla_since=datetime(2024, 1, 1, tzinfo=UTC)
)


def test_the_plan_names_the_paused_pipeline_and_counts_excluded_dates() -> None:
    p = plan([PAUSED], Observed({"orders": SINCE}), NOW)
    assert p.paused == (Paused("orders", "warehouse migration"),)
    assert p.excluded == (Excluded("orders", 2),)
    kinds = {a.kind for a in p.actions}
    assert kinds == {"run", "backfill"}  # listed, and no SLA notification for a paused one
    assert {b.date for b in p.sla_breaches} == {D(f"2024-01-{n:02d}") for n in range(4, 11)}
    assert not p.has_changes  # apply would start none of it


def test_text_and_markdown_mark_the_paused_pipeline() -> None:
    p = plan([PAUSED], Observed({"orders": SINCE}), NOW)
    text = render_text(p)
    assert "orders  (paused: warehouse migration; apply starts none of its runs)" in text
    assert "  - excluded   2 excluded dates left out of the plan" in text
    assert "+ run        2024-01-10  [paused]" in text
    assert "1 paused pipeline, 2 excluded dates" in text
    markdown = render_markdown(p)
    assert "<code>orders</code> (1 run, 6 backfill, 7 SLA breach; paused)" in markdown
    assert "- ⏸ **paused**: warehouse migration — apply starts none of the runs below" in markdown


def test_json_lists_paused_and_excluded_and_reads_back() -> None:
    p = plan([PAUSED, OTHER], Observed({"orders": SINCE}), NOW)
    doc = plan_to_dict(p)
    assert doc["paused"] == [{"pipeline_id": "orders", "reason": "warehouse migration"}]
    assert doc["excluded"] == [{"pipeline_id": "orders", "dates": 2}]
    assert list(doc)[-3:] == ["paused", "excluded", "summary"]
    assert plan_problems(doc) == []
    back = plan_from_dict(doc)
    assert (back.paused, back.excluded) == (p.paused, p.excluded)
    assert plan_to_json(back) == plan_to_json(p)
    assert p.has_changes  # the other pipeline's runs


def test_a_plan_without_them_has_neither_key() -> None:
    doc = plan_to_dict(plan([OTHER], Observed({}), NOW))
    assert "paused" not in doc and "excluded" not in doc
