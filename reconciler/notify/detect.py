"""Events found by looking at a plan: dates out of retries, backfill requests complete.

Both are noticed again on every pass until their notification is recorded, so a
pass that stopped half-way, or a config change (fewer retries), is caught up with.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from reconciler.core.batches import run_row_id
from reconciler.core.calendar import next_scheduled, scheduled_between
from reconciler.core.coverage import Observed, PipelineObserved
from reconciler.core.intervals import complement
from reconciler.core.plan import Plan
from reconciler.core.planner import due_window
from reconciler.core.spec import BackfillRequest, PipelineSpec
from reconciler.notify.channels import wants
from reconciler.notify.events import complete_notes, failure_notes
from reconciler.state import event_reads, notification_rows
from reconciler.state.connection import Connection
from reconciler.state.notification_rows import NewNotification

if TYPE_CHECKING:
    from reconciler.config.models import AnyPipeline


def _exhausted(
    conn: Connection, plan: Plan, observed: Observed, pipelines: Mapping[str, AnyPipeline]
) -> list[NewNotification]:
    candidates: list[tuple[AnyPipeline, date, str, int, str | None]] = []
    for gap in plan.gaps:
        pipeline = pipelines.get(gap.pipeline_id)
        if gap.reason != "retries_exhausted" or pipeline is None or not wants(pipeline, "failure"):
            continue
        obs = observed.of(gap.pipeline_id)
        for day in gap.dates:
            failed = obs.failed.get(day)
            if failed is not None and failed.run_id:
                run_id = run_row_id(failed.run_id, day)
                candidates.append((pipeline, day, run_id, failed.attempt, failed.request_id))
    if not candidates:
        return []
    # errors are read only for what is not notified yet
    drafts = [failure_notes(p, d, r, a, None, q) for p, d, r, a, q in candidates]
    ids = [n.notification_id for group in drafts for n in group]
    seen = notification_rows.known(conn, ids)
    fresh = [
        c
        for c, g in zip(candidates, drafts, strict=True)
        if any(n.notification_id not in seen for n in g)
    ]
    errors = event_reads.run_errors(conn, [c[2] for c in fresh])
    out: list[NewNotification] = []
    for pipeline, day, run_id, attempts, request_id in fresh:
        out += failure_notes(pipeline, day, run_id, attempts, errors.get(run_id), request_id)
    return out


def request_complete(
    spec: PipelineSpec, obs: PipelineObserved, plan: Plan, request: BackfillRequest
) -> bool:
    """Every date of ``request`` is due, was run for it, and nothing of it is pending."""
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
    for action in plan.actions:
        if action.pipeline_id == spec.id and action.request_id == request.id:
            return False
    for waiting in plan.waiting:
        if waiting.pipeline_id == spec.id:
            for day in waiting.dates:
                failed = obs.failed.get(day)
                if failed is not None and failed.request_id == request.id:
                    return False
    return True


def _complete(
    conn: Connection,
    plan: Plan,
    observed: Observed,
    pipelines: Mapping[str, AnyPipeline],
    specs: Mapping[str, PipelineSpec],
) -> list[NewNotification]:
    out: list[NewNotification] = []
    for pid, spec in specs.items():
        pipeline = pipelines.get(pid)
        if pipeline is None or not spec.requests or not wants(pipeline, "backfill_complete"):
            continue
        obs = observed.of(pid)
        for request in spec.requests:
            drafts = complete_notes(pipeline, request.id, {})
            ids = {n.notification_id for n in drafts}
            if ids <= notification_rows.known(conn, list(ids)):
                continue
            if request_complete(spec, obs, plan, request):
                digest = event_reads.request_digest(conn, pid, request.id)
                digest |= {
                    "from": request.start.isoformat(),
                    "to": request.end.isoformat(),
                    "reason": request.reason,
                    "priority": request.priority,
                }
                out += complete_notes(pipeline, request.id, digest)
    return out


def plan_notes(
    conn: Connection,
    plan: Plan,
    observed: Observed,
    pipelines: Mapping[str, AnyPipeline],
    specs: Mapping[str, PipelineSpec],
) -> list[NewNotification]:
    """``failure`` for dates out of retries, ``backfill_complete`` for finished requests."""
    return _exhausted(conn, plan, observed, pipelines) + _complete(
        conn, plan, observed, pipelines, specs
    )
