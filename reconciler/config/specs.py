"""Turn validated models into the planner's plain data, and into flat fields for diffs."""

from __future__ import annotations

from datetime import time
from typing import Any

from reconciler.config.models import WEEKDAYS, AnyPipeline
from reconciler.core.config_diff import flatten
from reconciler.core.durations import parse_retry_schedule
from reconciler.core.spec import BackfillRequest, PipelineSpec, Schedule


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
    )


def flat_config(model: AnyPipeline) -> dict[str, Any]:
    """Every key of the pipeline (defaults included) as ``{"retry.max_retries": 2}``."""
    data = model.model_dump(mode="json", by_alias=True)
    if data.get("name") is None:
        data["name"] = model.id
    return flatten(data)
