"""Everything told by date ranges equals what the per-date form tells, on random fleets.

The JSON plan (version 3) expanded by the documented rule is exactly what
``--format json-v2`` writes; it is valid and reads back as the same plan; the views text
and markdown are made of (computed from ranges) equal the views computed date by date,
and so do the deltas of ``plan --compare-to`` and their sentences, as both were before
plans were read by ranges (the oracles below).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime

from hypothesis import given, settings

from reconciler.core.calendar import following
from reconciler.core.coverage import Observed
from reconciler.core.plan import Plan
from reconciler.core.plan_diff import (
    NEW_KINDS,
    DateDelta,
    PlanComparison,
    _delta_order,
    _waiting_kind,
    date_deltas,
    plan_upstreams,
)
from reconciler.core.plan_records import UpstreamDates
from reconciler.core.planner import plan
from reconciler.core.spec import PipelineSpec
from reconciler.render.coverage_strip import (
    marks_by_pipeline,
    pipeline_strip,
    span_marks_by_pipeline,
)
from reconciler.render.dates import NextDate, format_dates, instant, next_day
from reconciler.render.plan_compare import render_compare_markdown, render_compare_text
from reconciler.render.plan_expand import expand_plan
from reconciler.render.plan_json import plan_from_dict, plan_to_dict, plan_to_json
from reconciler.render.plan_json_v2 import plan_to_json_v2
from reconciler.render.plan_markdown import render_markdown
from reconciler.render.plan_schema import plan_problems
from reconciler.render.plan_text import render_text
from reconciler.render.plan_view import (
    PAUSED_KINDS,
    Line,
    PipelineView,
    UpstreamKey,
    _upstream_lines,
    build_views,
)
from reconciler.render.waiting_text import gap_detail
from tests.core.test_planner_properties import worlds
from tests.core.test_readiness_properties import LONG, SHORT, SPARSE, Fleet, fleets

World = tuple[list[tuple[PipelineSpec, object]], datetime]


def per_date_views(plan: Plan, adjacency: Mapping[str, NextDate]) -> list[PipelineView]:
    """``build_views`` as it was: every action and gap listed, every date compressed."""
    views: dict[str, PipelineView] = {}
    groups: dict[tuple[str, str, str], list[date]] = {}
    upstream: dict[UpstreamKey, list[tuple[date, tuple[UpstreamDates, ...]]]] = {}

    def following_of(pid: str) -> NextDate:
        return adjacency.get(pid, next_day)

    paused = plan.paused_ids()
    for action in plan.actions:
        if action.kind == "poll":
            detail = f"run {action.run_id}"
        elif action.kind == "retry":
            detail = f"attempt {action.attempt}"
        elif action.kind == "backfill" and action.request_id:
            detail = f"request {action.request_id}, priority {action.priority}"
            if action.reason:
                detail += f": {action.reason}"
        elif action.kind == "backfill":
            detail = f"priority {action.priority}"
        elif action.kind == "refresh":
            detail = "outdated: an upstream date re-ran or the version changed"
        elif action.kind == "notify":
            detail = str(action.event)
        else:
            detail = ""
        if action.pipeline_id in paused and action.kind in PAUSED_KINDS:
            detail = f"{detail}; paused" if detail else "paused"
        groups.setdefault((action.pipeline_id, action.kind, detail), []).extend(action.dates)
    for waiting in plan.waiting:
        if waiting.reason == "upstream":
            names = tuple(u.pipeline_id for u in waiting.upstream)
            story = (waiting.pipeline_id, waiting.refresh, names)
            upstream.setdefault(story, []).extend((d, waiting.upstream) for d in waiting.dates)
            continue
        when = instant(waiting.next_retry_at) if waiting.next_retry_at else "later"
        detail = f"attempt {waiting.attempt} due {when}"
        groups.setdefault((waiting.pipeline_id, "waiting", detail), []).extend(waiting.dates)
    for line, days in _upstream_lines(upstream, following_of).items():
        groups.setdefault(line, []).extend(days)
    for gap in plan.gaps:
        groups.setdefault((gap.pipeline_id, "gap", gap_detail(gap)), []).extend(gap.dates)
    for breach in plan.sla_breaches:
        detail = f"deadline {instant(breach.deadline)}"
        groups.setdefault((breach.pipeline_id, "sla", detail), []).append(breach.date)
    for (pid, kind, detail), dates in groups.items():
        v = views.setdefault(pid, PipelineView(pid))
        shown = format_dates(dates, following_of(pid))
        v.lines.append(Line(kind=kind, dates=shown, count=len(dates), detail=detail))
        v.counts[kind] = v.counts.get(kind, 0) + len(dates)
    for change in plan.config_changes:
        views.setdefault(change.pipeline_id, PipelineView(change.pipeline_id))
    for pause in plan.paused:
        views.setdefault(pause.pipeline_id, PipelineView(pause.pipeline_id)).paused = (
            pause.reason or ""
        )
    for excluded in plan.excluded:
        views.setdefault(
            excluded.pipeline_id, PipelineView(excluded.pipeline_id)
        ).excluded = excluded.dates
    return [views[k] for k in sorted(views)]


def check_ranges(result: Plan, specs: list[PipelineSpec]) -> None:
    """The range form against the per-date form: JSON, views, text and markdown."""
    document = plan_to_dict(result)
    assert plan_problems(document) == []
    assert json.loads(plan_to_json(result)) == document
    expanded = json.loads(plan_to_json_v2(result))
    assert plan_problems(expanded) == []
    assert expand_plan(document) == expanded
    assert plan_from_dict(document) == result
    assert plan_from_dict(expanded) == result
    # the entries' counts agree with what they expand to
    assert sum(e["run_count"] for e in document["actions"]) == len(expanded["actions"])
    assert sum(e["date_count"] for e in document["gaps"]) == result.gap_dates
    adjacency = {spec.id: following(spec.schedule) for spec in specs}
    assert build_views(result, adjacency) == per_date_views(result, adjacency)
    assert build_views(result) == per_date_views(result, {})
    # coverage strips (markdown) from ranges equal those from every date's mark
    by_spans = span_marks_by_pipeline(result)
    by_dates = marks_by_pipeline(result)
    for spec in specs:
        ranged = pipeline_strip(spec, result, spans=by_spans.get(spec.id, []))
        assert ranged == pipeline_strip(spec, result, marks=by_dates.get(spec.id, {}))
    # a plan whose actions and gaps are listed one by one renders the same text
    listed = plan_from_dict(expanded)
    assert render_text(result, adjacency) == render_text(listed, adjacency)
    assert render_markdown(result, adjacency) == render_markdown(listed, adjacency)


@settings(max_examples=150, deadline=None)
@given(worlds())
def test_ranges_tell_the_per_date_plan_of_random_pipelines(world: World) -> None:
    drawn, now = world
    specs = [spec for spec, _ in drawn]
    result = plan(specs, Observed({spec.id: obs for spec, obs in drawn}), now)  # type: ignore[misc]
    check_ranges(result, specs)


def check_fleet(fleet: Fleet) -> None:
    check_ranges(plan(fleet.specs, fleet.observed, fleet.now), fleet.specs)


@settings(max_examples=60, deadline=None)
@given(fleets(SHORT))
def test_ranges_tell_the_per_date_plan_of_dependent_fleets(fleet: Fleet) -> None:
    check_fleet(fleet)


@settings(max_examples=30, deadline=None)
@given(fleets(LONG))
def test_ranges_tell_the_per_date_plan_over_long_histories(fleet: Fleet) -> None:
    check_fleet(fleet)


@settings(max_examples=30, deadline=None)
@given(fleets(SPARSE))
def test_ranges_tell_the_per_date_plan_of_batched_monthly_backlogs(fleet: Fleet) -> None:
    check_fleet(fleet)


def per_date_deltas(base: Plan, head: Plan) -> tuple[DateDelta, ...]:
    """``date_deltas`` as it was: every date of both plans in a dict, compared one by one."""

    def dates_of(plan_: Plan) -> dict[tuple[str, str], dict[date, str | None]]:
        out: dict[tuple[str, str], dict[date, str | None]] = {}
        for action in plan_.actions:
            request = action.request_id if action.kind == "backfill" else None
            found = out.setdefault((action.pipeline_id, action.kind), {})
            for d in action.dates:
                found[d] = request
        for waiting in plan_.waiting:
            key = (waiting.pipeline_id, _waiting_kind(waiting))
            out.setdefault(key, {}).update(dict.fromkeys(waiting.dates))
        for gap in plan_.gaps:
            out.setdefault((gap.pipeline_id, "gap"), {}).update(dict.fromkeys(gap.dates))
        return out

    old, new = dates_of(base), dates_of(head)
    ups = plan_upstreams(head)
    for key, names in plan_upstreams(base).items():
        ups.setdefault(key, set()).update(names)
    to_start: dict[str, set[date]] = {}
    for (pid, kind), planned in old.items():
        if kind in NEW_KINDS:
            to_start.setdefault(pid, set()).update(planned)
    added: dict[tuple[str, str, str | None], list[date]] = {}
    removed: dict[tuple[str, str, str | None], list[date]] = {}
    for pid, kind in set(old) | set(new):
        before, after = old.get((pid, kind), {}), new.get((pid, kind), {})
        for d in after.keys() - before.keys():
            added.setdefault((pid, kind, after[d]), []).append(d)
        for d in before.keys() - after.keys():
            removed.setdefault((pid, kind, before[d]), []).append(d)
    deltas = []
    for key in sorted(set(added) | set(removed), key=_delta_order):
        dates = tuple(sorted(added.get(key, ())))
        had = to_start.get(key[0], set())
        deltas.append(
            DateDelta(
                pipeline_id=key[0],
                kind=key[1],
                request_id=key[2],
                added=dates,
                removed=tuple(sorted(removed.get(key, ()))),
                upstream=tuple(sorted(ups.get(key[:2], ()))),
                known=sum(1 for d in dates if d in had) if key[1] in NEW_KINDS else 0,
            )
        )
    return tuple(deltas)


@settings(max_examples=100, deadline=None)
@given(worlds(), worlds())
def test_comparing_plans_by_ranges_finds_the_per_date_deltas(first: World, second: World) -> None:
    plans, specs = [], {}
    for drawn, now in (first, second):
        specs.update({spec.id: spec for spec, _ in drawn})
        observed = Observed({spec.id: obs for spec, obs in drawn})  # type: ignore[misc]
        plans.append(plan([spec for spec, _ in drawn], observed, now))
    base, head = plans
    deltas = date_deltas(base, head)
    assert deltas == per_date_deltas(base, head)
    # the sentences people read are the same, dates compressed from ranges or one by one
    adjacency = {pid: following(spec.schedule) for pid, spec in specs.items()}
    ranged = PlanComparison((), deltas, ())
    listed = PlanComparison((), per_date_deltas(base, head), ())
    assert ranged.new_dates == listed.new_dates
    assert render_compare_text(ranged, "base", adjacency) == render_compare_text(
        listed, "base", adjacency
    )
    assert render_compare_markdown(ranged, "base", adjacency) == render_compare_markdown(
        listed, "base", adjacency
    )
