"""When a backfill request is complete: decided from the plan, the observed state and
the spec alone, with the planner's own due window and calendar (docs/planning.md)."""

from __future__ import annotations

from reconciler.core.calendar import next_scheduled, scheduled_between
from reconciler.core.coverage import PipelineObserved
from reconciler.core.intervals import complement
from reconciler.core.pipeline_decisions import due_window
from reconciler.core.plan import Plan
from reconciler.core.spec import BackfillRequest, PipelineSpec


def request_complete(
    spec: PipelineSpec, obs: PipelineObserved, plan: Plan, request: BackfillRequest
) -> bool:
    """Every date of ``request`` is due, was run for it, and nothing of it is pending.

    Pending means: a planned action serves the request, or one of its failed dates waits
    for a retry. A request with dates still to come (after the due window) is not
    complete, nor is one without any scheduled date due yet.
    """
    window = due_window(spec.schedule, plan.now)
    if window is None:
        return False
    first, latest = window
    lo, hi = max(request.start, first), min(request.end, latest)
    if lo > hi or not scheduled_between(spec.schedule, lo, hi):
        return False
    later = next_scheduled(spec.schedule, latest)
    if later is not None and later <= request.end:
        return False  # more of its dates are still to come
    done = obs.request_done.get(request.id, ())
    for a, b in complement(done, lo, hi):
        if scheduled_between(spec.schedule, a, b):
            return False
    # by groups: a fleet that has not run yet lists 3,652 backfills per pipeline
    for group in plan.action_groups():
        if group.pipeline_id == spec.id and group.request_id == request.id:
            return False
    for waiting in plan.waiting:
        if waiting.pipeline_id == spec.id:
            for day in waiting.dates:
                failed = obs.failed.get(day)
                if failed is not None and failed.request_id == request.id:
                    return False
    return True
