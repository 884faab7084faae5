"""Turn validated models into the planner's plain data, and into flat fields for diffs."""

from __future__ import annotations

from datetime import time
from typing import Any

from reconciler.config.models import WEEKDAYS, AnyPipeline
from reconciler.core.config_diff import flatten
from reconciler.core.durations import parse_retry_schedule
from reconciler.core.spec import (
    BackfillRequest,
    Dependency,
    Exclusion,
    PipelineSpec,
    Schedule,
)


def _time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def to_spec(model: AnyPipeline) -> PipelineSpec:
    """The planner's view of one pipeline."""
    sched = model.schedule
    days = tuple(sorted({WEEKDAYS.index(d) if isinstance(d, str) else d for d in sched.days}))
    schedule = Schedule(
        type=sched.type,
        start=sched.start,
        every=sched.every,
        days=days,
        end=sched.end,
        offset=sched.offset,
        at=_time(sched.at),
        timezone=sched.timezone,
    )
    retry = parse_retry_schedule(
        model.retry.schedule, max_retries=model.retry.max_retries, enabled=model.retry.enabled
    )
    requests = tuple(
        BackfillRequest(
            id=r.id,
            start=r.from_,
            end=r.to,
            priority=r.priority if r.priority is not None else model.backfill.priority,
            reason=r.reason,
        )
        for r in model.backfill.requests
    )
    return PipelineSpec(
        id=model.id,
        schedule=schedule,
        retry=retry,
        multi_date=model.batch.multi_date,
        max_dates=model.batch.max_dates,
        auto_backfill=model.backfill.auto,
        priority=model.backfill.priority,
        order=model.backfill.order,
        max_active_runs=model.backfill.max_active_runs,
        requests=requests,
        sla_time=_time(model.sla.time) if model.sla is not None else None,
        sla_notify=model.sla.notify if model.sla is not None else False,
        depends_on=tuple(
            Dependency(pipeline=d.pipeline, dates=d.dates, offset=d.offset)
            for d in model.depends_on
        ),
        version=None if model.version is None else str(model.version),
        refresh_on_upstream_change=model.backfill.refresh_on_upstream_change,
        refresh_on_version_change=model.backfill.refresh_on_version_change,
        exclude=tuple(
            Exclusion(first=e.first, last=e.last, reason=e.reason) for e in model.exclude
        ),
        paused=model.pause,
        pause_reason=model.pause_reason or "",
    )


# Keys added after states were first written, left out of the flat config while they
# hold their defaults: a state synced before they existed then sees no change.
_ADDED_DEFAULTS: dict[str, Any] = {
    "depends_on": [],
    "version": None,
    "backfill.refresh_on_upstream_change": True,
    "backfill.refresh_on_version_change": False,
    "pause": False,
    "pause_reason": None,
    "exclude": [],
    "trigger.cancel_url": None,
}
# keys of a backfill request left out while they hold their defaults (same reason)
_ADDED_REQUEST_DEFAULTS: dict[str, Any] = {"cancel_running": False}


def flat_config(model: AnyPipeline) -> dict[str, Any]:
    """Every key of the pipeline (defaults included, but see ``_ADDED_DEFAULTS``) as
    ``{"retry.max_retries": 2}``."""
    data = model.model_dump(mode="json", by_alias=True)
    if data.get("name") is None:
        data["name"] = model.id
    flat = flatten(data)
    for key, default in _ADDED_DEFAULTS.items():
        if key in flat and flat[key] == default:
            del flat[key]
    for request in flat.get("backfill.requests") or ():
        for key, default in _ADDED_REQUEST_DEFAULTS.items():
            if request.get(key) == default:
                del request[key]
    return flat
