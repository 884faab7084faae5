"""The planner: desired coverage minus observed state, at ``now``, as a ``Plan`` (docs/planning.md).

Each pipeline's dates are decided by ``core.pipeline_decisions``; here they are put in
start order: polls, retries and runs by date, then backfills by priority with the
pipelines taking turns, notifications last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from reconciler.core.availability import Availability
from reconciler.core.calendar import progression
from reconciler.core.compact_actions import ActionList, ActionSource, ListedActions
from reconciler.core.compact_gaps import GapList, GapSource
from reconciler.core.config_diff import diff_configs
from reconciler.core.coverage import Observed
from reconciler.core.exclusions import excluded_count, uncovered_excluded, with_exclusions
from reconciler.core.outdated import version_pending
from reconciler.core.pipeline_decisions import Pieces, due_window, plan_in_window
from reconciler.core.plan import Plan
from reconciler.core.plan_records import (
    ACTION_ORDER,
    Action,
    ConfigChange,
    Excluded,
    Paused,
    SlaBreach,
    Waiting,
)
from reconciler.core.readiness import in_dependency_order, settle
from reconciler.core.spec import PipelineSpec, Schedule

OrderKey = tuple[int, int, int, str]
TURN_KINDS = frozenset({"backfill", "refresh"})  # ordered by priority, pipelines taking turns


def _backfills_in_order(spec: PipelineSpec, pieces: Pieces) -> dict[int, ActionSource]:
    """One pipeline's backfills and refreshes by priority, each in its ``backfill.order``."""
    backfills = [a for a in pieces.actions if a.kind in TURN_KINDS]
    block = pieces.block
    if block is not None and any(a.priority == block.priority for a in backfills):
        # a request (or a refresh) at the pipeline's own priority shares its turn, by
        # date: list the block
        backfills += list(block)
        block = None
    if len(backfills) > 1 and (spec.requests or spec.depends_on or spec.refresh_on_version_change):
        backfills = _in_order(spec, backfills)
    by_priority: dict[int, list[Action]] = {}
    for action in backfills:
        by_priority.setdefault(action.priority, []).append(action)
    out: dict[int, ActionSource] = {p: ListedActions(tuple(a)) for p, a in by_priority.items()}
    if block is not None:
        out[block.priority] = block
    return out


def _in_order(spec: PipelineSpec, backfills: list[Action]) -> list[Action]:
    """Priority first (higher first), then the pipeline's ``backfill.order``."""
    newest_first = spec.order == "newest_first"

    def within(action: Action) -> tuple[int, int]:
        when = -action.dates[-1].toordinal() if newest_first else action.dates[0].toordinal()
        return -action.priority, when

    return sorted(backfills, key=within)


def plan(
    pipelines: Sequence[PipelineSpec],
    observed: Observed,
    now: datetime,
    desired_config: Mapping[str, Mapping[str, Any]] | None = None,
    context: Sequence[PipelineSpec] = (),
) -> Plan:
    """The plan for ``pipelines`` given ``observed`` state, at ``now`` (aware).

    ``context``: upstreams of ``pipelines`` that are not planned themselves (a plan of
    some pipelines only): they are decided, to know what they make available, and left
    out of the plan."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    # Order (docs/planning.md): poll, retry, run by date; then backfills by priority, pipelines
    # taking turns (in id order) each in its own backfill.order; notify last. Buckets
    # instead of one big sort: a plan can hold 10^5 single-date backfills.
    others: list[tuple[OrderKey, Action]] = []
    buckets: dict[int, list[tuple[str, ActionSource]]] = {}
    waiting: list[Waiting] = []
    gaps: list[GapSource] = []
    breaches: list[SlaBreach] = []
    windows: dict[Schedule, tuple[tuple[date, date] | None, tuple[int, int] | None]] = {}
    linked = any(spec.depends_on for spec in pipelines)
    listed = pipelines
    if linked and context:
        planned = {spec.id for spec in pipelines}
        pipelines = [*pipelines, *(s for s in context if s.id not in planned)]
    decided: dict[str, Pieces] = {}
    available: dict[str, Availability] = {}
    users = {dep.pipeline for spec in pipelines for dep in spec.depends_on}
    # upstreams are decided first: what they make available decides what a dependant
    # starts; the plan then lists the pipelines in the order given
    for spec in in_dependency_order(pipelines) if linked else pipelines:
        # fleets share a few schedules: the due window is worked out once for each
        schedule = spec.schedule
        known = windows.get(schedule)
        if known is None:
            known = windows[schedule] = due_window(schedule, now), progression(schedule)
        window, prog = known
        obs = with_exclusions(spec, observed.of(spec.id))
        everything = version_pending(spec, observed.applied_config)
        pieces = decided[spec.id] = plan_in_window(spec, obs, now, window, prog, everything)
        if linked and (spec.depends_on or spec.id in users):
            available[spec.id] = settle(spec, obs, pieces, available)
    paused: list[Paused] = []
    excluded: list[Excluded] = []
    for spec in listed:
        pieces = decided[spec.id]
        if spec.paused:
            paused.append(Paused(spec.id, spec.pause_reason or None))
        if spec.exclude:
            count = _excluded_due(spec, observed, windows[spec.schedule][0])
            if count:
                excluded.append(Excluded(spec.id, count))
        for priority, backfills in _backfills_in_order(spec, pieces).items():
            buckets.setdefault(priority, []).append((spec.id, backfills))
        for action in pieces.actions:
            if action.kind not in TURN_KINDS:
                rank = ACTION_ORDER[action.kind]
                others.append(((rank, 0, action.dates[0].toordinal(), spec.id), action))
        waiting += pieces.waiting
        gaps += pieces.gaps
        breaches += pieces.breaches
    others.sort(key=lambda item: item[0])
    backfill_rank = ACTION_ORDER["backfill"]
    head = [a for key, a in others if key[0] < backfill_rank]
    tail = [a for key, a in others if key[0] > backfill_rank]
    turns = [
        [source for _, source in sorted(buckets[priority], key=lambda x: x[0])]
        for priority in sorted(buckets, reverse=True)
    ]
    changes: tuple[ConfigChange, ...] = ()
    if desired_config is not None:
        changes = diff_configs(desired_config, observed.applied_config, observed.deleted)
    return Plan(
        now=now,
        pipelines=len(listed),
        config_changes=changes,
        actions=ActionList(head, turns, tail),
        waiting=tuple(waiting),
        gaps=GapList(gaps),
        sla_breaches=tuple(breaches),
        paused=tuple(paused),
        excluded=tuple(excluded),
    )


def _excluded_due(spec: PipelineSpec, observed: Observed, window: tuple[date, date] | None) -> int:
    """Due, uncovered excluded dates: what the plan leaves out because of ``exclude``."""
    if window is None:
        return 0
    obs = observed.of(spec.id)
    return excluded_count(spec, uncovered_excluded(spec, obs, *window))
