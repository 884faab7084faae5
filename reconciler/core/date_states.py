"""Every scheduled date of a pipeline in a window, classified for calendars (pure).

One state per date, decided in this order: an attempt in flight wins (a re-run of a
covered date shows as running); then covered (``outdated`` when an upstream date it read
re-ran after it, or its version changed, so it will be refreshed; otherwise late when its
SLA was missed); then ``excluded`` (never planned: an excluded date keeps its coverage,
and its failure is no news); then the newest attempt ``canceled`` (stopped on request:
missing until a new request or ``mark``); then the newest attempt failed (``retrying``
while the retry policy allows another attempt, ``failed`` once it does not); then, never
attempted, ``blocked`` when the plan holds it back for its upstream dates (waiting for
them, or an ``upstream_gap``), ``gap`` when due and ``not_due`` when not yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from reconciler.core.calendar import scheduled_between
from reconciler.core.coverage import PipelineObserved
from reconciler.core.exclusions import excluded_days
from reconciler.core.intervals import contains
from reconciler.core.pipeline_decisions import due_window
from reconciler.core.plan import Plan
from reconciler.core.spec import PipelineSpec

DateState = Literal[
    "covered",
    "covered_late",
    "outdated",
    "failed",
    "canceled",
    "retrying",
    "in_flight",
    "blocked",
    "gap",
    "excluded",
    "not_due",
]
# legend order: from done, through under way, to missing, then the future
STATES: tuple[DateState, ...] = (
    "covered",
    "covered_late",
    "outdated",
    "in_flight",
    "retrying",
    "failed",
    "canceled",
    "blocked",
    "gap",
    "excluded",
    "not_due",
)
# the states whose dates are covered (the data is there, outdated or not)
COVERED_STATES: frozenset[DateState] = frozenset({"covered", "covered_late", "outdated"})
LABELS: dict[DateState, str] = {
    "covered": "covered",
    "covered_late": "covered late (SLA missed)",
    "outdated": "outdated (to refresh)",
    "in_flight": "in flight",
    "retrying": "retrying",
    "failed": "failed",
    "canceled": "canceled (stopped on request)",
    "blocked": "blocked (waits for upstream)",
    "gap": "gap",
    "excluded": "excluded (never planned)",
    "not_due": "not yet due",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DateDetail:
    """The newest attempt of one date, as the run log has it (for tooltips)."""

    status: str
    attempt: int
    run_id: str
    error: str | None = None
    sla_met: bool | None = None
    platform_run_id: str | None = None


def classify_dates(
    spec: PipelineSpec,
    obs: PipelineObserved,
    now: datetime,
    first: date,
    last: date,
    late: Iterable[date] = (),
    blocked: Iterable[date] = (),
) -> dict[date, DateState]:
    """The state of every scheduled date in ``[first, last]``, ascending.

    ``late``: dates whose successful run missed the SLA deadline (``sla_met = false``,
    or a recorded breach), which only the run log knows. ``blocked``: dates the plan
    holds back for their upstream (``blocked_by_pipeline``), which only the plan knows.
    """
    late_dates = frozenset(late)
    held = frozenset(blocked)
    marks = obs.outdated_marks
    window = due_window(spec.schedule, now)
    latest = window[1] if window is not None else None
    policy = spec.retry
    excluded = excluded_days(spec)
    stopped = obs.canceled_days
    out: dict[date, DateState] = {}
    for d in scheduled_between(spec.schedule, first, last):
        failed = obs.failed.get(d)
        state: DateState
        if d in obs.in_flight:
            state = "in_flight"
        elif contains(obs.covered, d):
            if marks and marks.covers(d.toordinal()):
                state = "outdated"
            else:
                state = "covered_late" if d in late_dates else "covered"
        elif excluded and excluded.covers(d.toordinal()):
            state = "excluded"
        elif stopped and stopped.covers(d.toordinal()):
            state = "canceled"
        elif failed is not None:
            more = policy.enabled and failed.attempt - 1 < policy.max_retries
            state = "retrying" if more else "failed"
        elif d in held:
            state = "blocked"
        elif latest is not None and d <= latest:
            state = "gap"
        else:
            state = "not_due"
        out[d] = state
    return out


def blocked_by_pipeline(plan: Plan) -> dict[str, set[date]]:
    """Per pipeline, the dates the plan holds back for their upstream: waiting for
    upstream dates (not the covered dates it will refresh) and ``upstream_gap`` gaps."""
    out: dict[str, set[date]] = {}
    for waiting in plan.waiting:
        if waiting.reason == "upstream" and not waiting.refresh:
            out.setdefault(waiting.pipeline_id, set()).update(waiting.dates)
    for group in plan.gap_groups():
        if group.reason == "upstream_gap":
            days = out.setdefault(group.pipeline_id, set())
            days.update(date.fromordinal(o) for span in group.spans for o in span)
    return out


def count_states(states: Mapping[date, DateState]) -> dict[DateState, int]:
    """How many dates are in each state, every state present, in legend order."""
    counts: dict[DateState, int] = dict.fromkeys(STATES, 0)
    for state in states.values():
        counts[state] += 1
    return counts
