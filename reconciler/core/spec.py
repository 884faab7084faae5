"""Plain, frozen descriptions of pipelines as the planner sees them.

Frozen dataclasses: the config cache stores 10^4 of them (MessagePack, decoded by
msgspec into these types).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time
from typing import Literal

ScheduleType = Literal["daily", "weekly", "monthly"]
BackfillOrder = Literal["oldest_first", "newest_first"]
DateMapping = Literal["period", "same", "latest"]


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """When dates exist (type/every/days/start/end) and when each becomes due.

    ``days`` holds weekday indexes (0 = Monday) for weekly schedules and day-of-month
    numbers (1..31, -1..-31) for monthly ones; empty means "the day of ``start``".
    """

    type: ScheduleType
    start: date
    every: int = 1
    days: tuple[int, ...] = ()
    end: date | None = None
    offset: int = 0
    at: time = time(0, 0)
    timezone: str = "UTC"


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Delay before retry k (1-based): fixed, or doubling from ``base`` up to ``cap``."""

    enabled: bool = True
    kind: Literal["fixed", "exponential"] = "fixed"
    base_seconds: int = 300
    cap_seconds: int | None = None
    max_retries: int = 2
    text: str = "every 5 minutes"

    @property
    def attempts(self) -> int:
        """Attempts a date gets in all: a failed attempt below this number is retried."""
        return self.max_retries + 1 if self.enabled else 1

    def delay_seconds(self, k: int) -> int:
        """Seconds after a failed attempt ends before retry ``k`` is due."""
        if k < 1:
            raise ValueError("retry numbers start at 1")
        if self.kind == "fixed":
            return self.base_seconds
        delay: int = self.base_seconds << (k - 1)
        return delay if self.cap_seconds is None else min(delay, self.cap_seconds)


@dataclass(frozen=True, kw_only=True)
class BackfillRequest:
    """A declared or ad-hoc request: re-run the scheduled due dates in [start, end] once."""

    id: str
    start: date
    end: date
    priority: int = 0
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Dependency:
    """One ``depends_on`` entry: the upstream pipeline, how dates map (``core.dependencies``
    says how), and the days added to a downstream date before mapping."""

    pipeline: str
    dates: DateMapping = "period"
    offset: int = 0


@dataclass(frozen=True, kw_only=True)
class Exclusion:
    """Scheduled dates from ``first`` to ``last`` that are never planned, never a gap and
    never an SLA breach (``exclude`` in a pipeline file); a dependant needing one of them
    treats it as not needed."""

    first: date
    last: date
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class PipelineSpec:
    """Everything the planner needs to know about one pipeline."""

    id: str
    schedule: Schedule
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    multi_date: bool = False
    max_dates: int = 31
    auto_backfill: bool = True
    priority: int = 0
    order: BackfillOrder = "oldest_first"
    max_active_runs: int = 4
    requests: tuple[BackfillRequest, ...] = ()
    sla_time: time | None = None
    sla_notify: bool = False
    depends_on: tuple[Dependency, ...] = ()
    version: str | None = None  # any YAML string or integer, as text
    refresh_on_upstream_change: bool = True
    refresh_on_version_change: bool = False
    exclude: tuple[Exclusion, ...] = ()
    paused: bool = False  # planned and shown, but ``apply`` starts nothing for it
    pause_reason: str = ""


def with_adhoc(
    specs: Iterable[PipelineSpec], adhoc: Mapping[str, tuple[BackfillRequest, ...]]
) -> list[PipelineSpec]:
    """The specs with their ad-hoc requests (``reconciler backfill``, kept in the state)
    after the declared ones; a spec without any is returned as it is."""
    return [replace(s, requests=s.requests + adhoc[s.id]) if s.id in adhoc else s for s in specs]
