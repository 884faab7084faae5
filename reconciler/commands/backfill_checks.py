"""What ``reconciler backfill`` refuses before it queues a request, and the id it picks.

A request is only worth queueing if a later plan runs it: its id must not be a declared
request's (a request's progress is kept by id, so the plan would take it for that one,
often already done), and its range must hold scheduled dates of the pipeline.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, timedelta

from reconciler.config.loading import LoadedPipeline
from reconciler.core.calendar import count_between, last_due_day
from reconciler.core.outdated import REFRESH_PREFIX
from reconciler.core.spec import Schedule


def declared_id_problem(pipeline: LoadedPipeline, request_id: str) -> str | None:
    """``file:line:col: ...`` when the pipeline's file declares a request with this id,
    or why the id is not a user's to take."""
    if request_id.startswith(REFRESH_PREFIX):
        return (
            f"--id {request_id!r} starts with {REFRESH_PREFIX!r}, which the reconciler keeps "
            "for its own refreshes of outdated dates; choose another id"
        )
    for index, request in enumerate(pipeline.spec.requests):
        if request.id == request_id:
            mark = pipeline.source.locate(("backfill", "requests", index, "id"))
            return (
                f"{pipeline.file}:{mark.line}:{mark.col}: backfill.requests[{index}].id: "
                f"{request_id!r} is a request declared in this file; give --id another id "
                "(or edit the declared request to re-run it)"
            )
    return None


def range_problem(schedule: Schedule, pipeline_id: str, start: date, end: date) -> str | None:
    """Why no plan would ever run a date of ``start..end``, or None."""
    span = f"{start}..{end}"
    if end < schedule.start:
        return (
            f"{span} is before {pipeline_id}'s schedule.start {schedule.start}: "
            "no date of it would ever run"
        )
    if schedule.end is not None and start > schedule.end:
        return (
            f"{span} is after {pipeline_id}'s schedule.end {schedule.end}: "
            "no date of it would ever run"
        )
    if scheduled_count(schedule, start, end) == 0:
        return f"{span} holds no scheduled date of {pipeline_id}: nothing would run"
    return None


def scheduled_count(schedule: Schedule, start: date, end: date) -> int:
    """Scheduled dates of ``start..end`` (inside the schedule's own start and end)."""
    first = max(start, schedule.start)
    last = min(end, schedule.end) if schedule.end is not None else end
    return count_between(schedule, first, last) if first <= last else 0


def not_due_yet(schedule: Schedule, start: date, end: date, now: datetime) -> int:
    """Scheduled dates of ``start..end`` that are not due at ``now`` (run as they come due)."""
    latest = last_due_day(schedule, now)
    if latest is None or latest < start:
        return scheduled_count(schedule, start, end)
    if latest >= end:
        return 0
    return scheduled_count(schedule, latest + timedelta(days=1), end)


def generated_id(now: datetime, taken: Container[str]) -> str:
    """``adhoc-<UTC second>``, then ``-2``, ``-3``... when two requests share the second
    (or a pinned ``--now``): the user never typed it, so it must never collide."""
    base = f"adhoc-{now:%Y%m%dT%H%M%S}"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
