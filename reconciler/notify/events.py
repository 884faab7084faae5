"""Which notifications a pass event makes: one per subscribed channel, keyed for deduplication.

The subject of each (what "date or run" it is about) decides what counts as the same
notification: ``failure`` and ``success`` are about a run of a date (a later re-run
that fails again is news), ``sla_breach`` about a date, ``quality_failure`` about a date
within one retry chain (a retry failing the same check is not news; a new backfill
request is), ``backfill_complete`` about a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from reconciler.core.batches import run_row_id
from reconciler.core.check_results import CheckResult
from reconciler.core.events import (
    DateOutOfRetries,
    PassEvent,
    RequestCompleted,
    RunEnded,
    SlaBreached,
)
from reconciler.notify.channels import Event, subscribed
from reconciler.state.notification_rows import NewNotification

if TYPE_CHECKING:
    from reconciler.config.models import AnyPipeline


def notes(
    pipeline: AnyPipeline,
    event: Event,
    subject: str,
    *,
    run_id: str | None = None,
    run_date: date | None = None,
    details: dict[str, Any] | None = None,
) -> list[NewNotification]:
    """One notification per channel of ``pipeline`` that wants ``event``."""
    return [
        NewNotification(
            pipeline_id=pipeline.id,
            event=event,
            channel=channel,
            subject=subject,
            run_id=run_id,
            run_date=run_date,
            details=details or {},
        )
        for channel in subscribed(pipeline, event)
    ]


def quality_subject(day: date, request_id: str | None) -> str:
    return day.isoformat() + (f"@{request_id}" if request_id else "")


def check_details(results: Sequence[CheckResult]) -> list[dict[str, Any]]:
    return [
        {
            "name": r.name,
            "engine": r.engine,
            "on_fail": r.on_fail,
            "could_run": r.could_run,
            "details": r.details,
            "summary": r.summary(),
        }
        for r in results
        if not r.passed
    ]


def run_notes(pipeline: AnyPipeline, event: RunEnded) -> list[NewNotification]:
    """``success``, ``quality_failure`` and final ``failure`` of one finished run."""
    batch, outcome = event.batch, event.outcome
    out: list[NewNotification] = []
    failing = check_details(event.checks)
    for day in batch.dates:
        row = run_row_id(batch.batch_id, day)
        if outcome.success:
            details = {"attempt": batch.attempt, "kind": batch.kind, "request_id": batch.request_id}
            out += notes(pipeline, "success", row, run_id=row, run_date=day, details=details)
        if failing:
            details = {
                "checks": failing,
                "attempt": batch.attempt,
                "run_failed": not outcome.success,
                "request_id": batch.request_id,
            }
            subject = quality_subject(day, batch.request_id)
            out += notes(
                pipeline, "quality_failure", subject, run_id=row, run_date=day, details=details
            )
        if event.final_failure:
            details = {
                "error": outcome.error,
                "attempts": batch.attempt,
                "request_id": batch.request_id,
            }
            out += notes(pipeline, "failure", row, run_id=row, run_date=day, details=details)
    return out


def breach_notes(pipeline: AnyPipeline, event: SlaBreached) -> list[NewNotification]:
    if pipeline.pause:  # recorded and listed, not sent: nothing would start to mend it
        return []
    details = {"deadline": event.deadline.isoformat(), "timezone": pipeline.schedule.timezone}
    day = event.date
    return notes(pipeline, "sla_breach", day.isoformat(), run_date=day, details=details)


def retries_notes(pipeline: AnyPipeline, event: DateOutOfRetries) -> list[NewNotification]:
    details = {"error": event.error, "attempts": event.attempts, "request_id": event.request_id}
    run_id = event.run_id
    return notes(pipeline, "failure", run_id, run_id=run_id, run_date=event.date, details=details)


def complete_notes(pipeline: AnyPipeline, event: RequestCompleted) -> list[NewNotification]:
    request = event.request
    details = {
        "request_id": request.id,
        **event.digest,
        "from": request.start.isoformat(),
        "to": request.end.isoformat(),
        "reason": request.reason,
        "priority": request.priority,
    }
    return notes(pipeline, "backfill_complete", f"request:{request.id}", details=details)


def notifications(pipeline: AnyPipeline, event: PassEvent) -> list[NewNotification]:
    """The notifications ``event`` makes for ``pipeline``'s channels (none unsubscribed)."""
    if isinstance(event, RunEnded):
        return run_notes(pipeline, event)
    if isinstance(event, SlaBreached):
        return breach_notes(pipeline, event)
    if isinstance(event, DateOutOfRetries):
        return retries_notes(pipeline, event)
    return complete_notes(pipeline, event)


# the notification events each kind of pass event can make
MAKES: dict[type[PassEvent], tuple[Event, ...]] = {
    RunEnded: ("success", "quality_failure", "failure"),
    SlaBreached: ("sla_breach",),
    DateOutOfRetries: ("failure",),
    RequestCompleted: ("backfill_complete",),
}
