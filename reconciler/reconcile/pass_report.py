"""What a pass did, and what the state holds after it: the closing summary's data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from reconciler.core.plan import Plan

STARTING = ("run", "retry", "backfill", "refresh")  # the action kinds a pass starts


@dataclass(frozen=True, slots=True, kw_only=True)
class AfterPass:
    """What the state holds after the pass, in dates (the closing summary)."""

    gap: int
    waiting: int
    due: int


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
    unplannable: dict[str, str] = field(default_factory=dict)  # id -> why: left out


def after_pass(first: Plan, again: Plan, replanned: set[str]) -> AfterPass:
    """The state after the pass: the new plan of the pipelines planned again, the first
    plan of the others."""
    kept = _dates(first, lambda pid: pid not in replanned)
    new = _dates(again, lambda pid: True)
    return AfterPass(gap=kept[0] + new[0], waiting=kept[1] + new[1], due=kept[2] + new[2])


def _dates(plan: Plan, keep: Callable[[str], bool]) -> tuple[int, int, int]:
    """Gap, waiting and due dates of the pipelines ``keep`` says (counted on the plan's
    groups: ten years of backfills are one group, never listed)."""
    gap = sum(g.date_count for g in plan.gap_groups() if keep(g.pipeline_id))
    waiting = sum(len(w.dates) for w in plan.waiting if keep(w.pipeline_id))
    due = sum(
        g.date_count for g in plan.action_groups() if g.kind in STARTING and keep(g.pipeline_id)
    )
    return gap, waiting, due
