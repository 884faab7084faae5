"""Which notifications an event makes: one per subscribed channel, keyed for deduplication.

The subject of each (what "date or run" it is about) decides what counts as the same
notification: ``failure`` and ``success`` are about a run of a date (a later re-run
that fails again is news), ``sla_breach`` about a date, ``quality_failure`` about a date
within one retry chain (a retry failing the same check is not news; a new backfill
request is), ``backfill_complete`` about a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from reconciler.core.batches import Batch, Outcome, run_row_id
from reconciler.core.check_results import CheckResult
from reconciler.core.spec import RetryPolicy
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
        NewNotification(pipeline.id, event, channel, subject, run_id, run_date, details or {})
        for channel in subscribed(pipeline, event)
    ]


def exhausted(policy: RetryPolicy, attempt: int) -> bool:
    """No retry follows a failure of ``attempt`` (docs/planning.md, retries)."""
    return not policy.enabled or attempt - 1 >= policy.max_retries


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


def outcome_notes(
    pipeline: AnyPipeline,
    policy: RetryPolicy,
    batch: Batch,
    outcome: Outcome,
    checks: Sequence[CheckResult],
) -> list[NewNotification]:
    """``success``, ``quality_failure`` and final ``failure`` of one finished run."""
    out: list[NewNotification] = []
    failing = check_details(checks)
    final_failure = not outcome.success and exhausted(policy, batch.attempt)
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
        if final_failure:
            details = {
                "error": outcome.error,
                "attempts": batch.attempt,
                "request_id": batch.request_id,
            }
            out += notes(pipeline, "failure", row, run_id=row, run_date=day, details=details)
    return out


def breach_notes(pipeline: AnyPipeline, day: date, deadline: datetime) -> list[NewNotification]:
    details = {"deadline": deadline.isoformat(), "timezone": pipeline.schedule.timezone}
    return notes(pipeline, "sla_breach", day.isoformat(), run_date=day, details=details)


def failure_notes(
    pipeline: AnyPipeline,
    day: date,
    run_id: str,
    attempts: int,
    error: str | None,
    request_id: str | None,
) -> list[NewNotification]:
    details = {"error": error, "attempts": attempts, "request_id": request_id}
    return notes(pipeline, "failure", run_id, run_id=run_id, run_date=day, details=details)


def complete_notes(
    pipeline: AnyPipeline, request_id: str, digest: dict[str, Any]
) -> list[NewNotification]:
    details = {"request_id": request_id, **digest}
    return notes(pipeline, "backfill_complete", f"request:{request_id}", details=details)
