"""The events of a pass's runs, logged as they are recorded (``reconciler.log_events``):
a run's end and duration, its quality checks, the retry it leaves due, SLA breaches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from reconciler import log_events as events
from reconciler.core.batches import Batch, Outcome
from reconciler.core.check_results import CheckResult

log = logging.getLogger("reconciler.runs")


def _dates(batch: Batch) -> list[str]:
    return [d.isoformat() for d in batch.dates]


def run_started(batch: Batch) -> None:
    events.emit(
        log, events.RUN_STARTED, f"run started: {batch.pipeline_id} {_dates(batch)[0]}"
        + (f" (+{len(batch.dates) - 1} dates)" if len(batch.dates) > 1 else ""),
        pipeline=batch.pipeline_id, platform=batch.platform, dates=_dates(batch),
        batch_id=batch.batch_id, run_id=batch.platform_run_id, attempt=batch.attempt,
    )  # fmt: skip


def run_ended(
    batch: Batch, outcome: Outcome, checks: Sequence[CheckResult], final_failure: bool
) -> None:
    """The run's end, its checks, and the retry it leaves due when it failed and may
    try again."""
    status = "succeeded" if outcome.success else "canceled" if outcome.canceled else "failed"
    first = batch.dates[0].isoformat()
    common: dict[str, Any] = {
        "pipeline": batch.pipeline_id,
        "platform": batch.platform,
        "dates": _dates(batch),
        "batch_id": batch.batch_id,
        "run_id": outcome.platform_run_id or batch.platform_run_id,
        "attempt": batch.attempt,
    }
    duration = (
        round((outcome.ended_at - batch.started_at).total_seconds(), 3)
        if batch.started_at
        else None
    )
    for check in checks:
        events.emit(
            log, events.QUALITY_RESULT, check.summary(), check=check.name,
            status="passed" if check.passed else "failed", **common,
        )  # fmt: skip
    events.emit(
        log, events.RUN_ENDED, f"run {status}: {batch.pipeline_id} {first}"
        + (f": {outcome.error}" if outcome.error else ""),
        status=status, duration_seconds=duration, **common,
    )  # fmt: skip
    if status == "failed" and not final_failure:
        events.emit(
            log, events.RETRY_SCHEDULED, f"retry due: {batch.pipeline_id} {first}",
            **common,
        )  # fmt: skip


def sla_breached(pipeline_id: str, breaches: Sequence[tuple[date, datetime]]) -> None:
    for day, deadline in breaches:
        events.emit(
            log, events.SLA_BREACH, f"SLA breach: {pipeline_id} {day.isoformat()} "
            f"(due by {deadline.isoformat(timespec='seconds')})",
            pipeline=pipeline_id, dates=[day.isoformat()],
        )  # fmt: skip
