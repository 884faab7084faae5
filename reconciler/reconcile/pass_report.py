"""What a pass did, and what the state holds after it: the closing summary's data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from reconciler.config.env_secrets import EnvProblem
from reconciler.core.plan import Plan

STARTING = ("run", "retry", "backfill", "refresh")  # the action kinds a pass starts


@dataclass(frozen=True, slots=True, kw_only=True)
class AfterPass:
    """What the state holds after the pass, in dates (the closing summary).

    ``waiting``: dates waiting for a retry; ``upstream``: dates waiting for their
    upstream dates (covered dates to refresh after them included); ``due``: dates to
    start, ``refresh`` of them refreshes of outdated dates, ``paused`` of them dates of
    paused pipelines (which no pass starts while they stay paused).
    """

    gap: int
    waiting: int
    due: int
    upstream: int = 0
    refresh: int = 0
    paused: int = 0


@dataclass(slots=True, kw_only=True)
class ApplyReport:
    """What a pass did, for the closing summary and for tests; filled in step by step."""

    plan: Plan | None = None
    after: AfterPass | None = None  # None: no run ended, the state is as the plan saw it
    config_changes: dict[str, str] = field(default_factory=dict)
    started: int = 0
    started_dates: int = 0
    succeeded: int = 0
    failed: int = 0
    adopted: int = 0
    still_running: int = 0
    held_elsewhere: list[str] = field(default_factory=list)  # runs other runners follow
    notifications: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    cancels: list[str] = field(default_factory=list)  # recorded cancels sent (or refused)
    unplannable: dict[str, str] = field(default_factory=dict)  # id -> why: left out
    # variables missing from the environment: a trigger's blocks its pipeline's starts
    env_problems: list[EnvProblem] = field(default_factory=list)


def after_pass(first: Plan, again: Plan, replanned: set[str]) -> AfterPass:
    """The state after the pass: the new plan of the pipelines planned again, the first
    plan of the others."""
    kept = plan_dates(first, lambda pid: pid not in replanned)
    new = plan_dates(again, lambda pid: True)
    return AfterPass(
        gap=kept.gap + new.gap,
        waiting=kept.waiting + new.waiting,
        due=kept.due + new.due,
        upstream=kept.upstream + new.upstream,
        refresh=kept.refresh + new.refresh,
        paused=kept.paused + new.paused,
    )


def plan_dates(plan: Plan, keep: Callable[[str], bool]) -> AfterPass:
    """Gap, waiting and due dates of the pipelines ``keep`` says (counted on the plan's
    groups: ten years of backfills are one group, never listed)."""
    gap = sum(g.date_count for g in plan.gap_groups() if keep(g.pipeline_id))
    waiting = upstream = 0
    for w in plan.waiting:
        if keep(w.pipeline_id):
            if w.reason == "upstream":
                upstream += len(w.dates)
            else:
                waiting += len(w.dates)
    due = refresh = paused = 0
    stopped = plan.paused_ids()
    for g in plan.action_groups():
        if g.kind in STARTING and keep(g.pipeline_id):
            due += g.date_count
            refresh += g.date_count if g.kind == "refresh" else 0
            paused += g.date_count if g.pipeline_id in stopped else 0
    return AfterPass(
        gap=gap, waiting=waiting, due=due, upstream=upstream, refresh=refresh, paused=paused
    )
