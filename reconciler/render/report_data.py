"""What the coverage report shows, as plain data: gathered by ``reconcile.reporting`` from
config and state, drawn by ``render.report_html`` (and free for any other renderer)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from reconciler.core.status import PipelineStatus
from reconciler.render.calendar_grid import PipelineCalendar


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """A failed run (one or more dates of one attempt), newest first in the report."""

    pipeline_id: str
    run_id: str
    dates: str
    count: int
    attempt: int
    ended_at: datetime | None
    error: str
    kind: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Pending:
    """Dates the next pass would backfill or retry, grouped."""

    pipeline_id: str
    kind: str
    dates: str
    count: int
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """Everything the report shows, gathered once at ``now``."""

    now: datetime
    calendars: tuple[PipelineCalendar, ...]
    statuses: tuple[PipelineStatus, ...]
    failures: tuple[Failure, ...] = ()
    pending: tuple[Pending, ...] = ()
    version: str = ""
    schedules: Mapping[str, str] = field(default_factory=dict)  # pipeline id -> schedule type
