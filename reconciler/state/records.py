"""Plain records the store reads: run-log rows and backfill-queue rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryRow:
    run_id: str
    batch_id: str
    run_date: date
    status: str
    attempt: int
    kind: str
    request_id: str | None
    start_time: datetime | None
    end_time: datetime | None
    error_message: str | None
    sla_met: bool | None
    platform_run_id: str | None = None
    version: str | None = None  # the pipeline's version the run ran with


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityResult:
    """One ``data_quality_log`` row: a check's result on a run."""

    run_id: str
    check_name: str
    passed: bool | None
    error_details: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueRow:
    """One date of a backfill in ``backfill_queue``."""

    backfill_id: str
    pipeline_id: str
    date_to_process: date
    status: str
    retry_attempts: int
    priority: int | None
    request_id: str | None
    batch_id: str | None
