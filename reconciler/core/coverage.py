"""What the state says about a pipeline's dates, in a compact form the planner reads.

Covered dates are merged ranges, so reading them costs the number of holes, not the
length of history. Only dates that need a decision (failed, in flight) are listed
one by one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from reconciler.core.intervals import Coverage, DateRange


@dataclass(frozen=True, slots=True)
class InFlight:
    """The newest attempt of a date has started and not finished."""

    run_id: str
    attempt: int = 1
    request_id: str | None = None
    started_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """The newest finished attempt of a date failed; ``attempt`` counts from 1."""

    attempt: int
    ended_at: datetime
    request_id: str | None = None
    run_id: str = ""


@dataclass(frozen=True, slots=True)
class PipelineObserved:
    """One pipeline's recorded history, reduced to what planning needs.

    ``covered``: dates whose newest finished attempt succeeded (merged ranges).
    ``failed``: dates whose newest finished attempt failed.
    ``in_flight``: dates with an unfinished attempt (polled, never triggered again).
    ``request_done``: per backfill request id, the dates already run for it.
    ``sla_since``: when SLA tracking began (the pipeline's first sync); deadlines
    before it are history, not breaches.
    ``sla_recorded``: dates whose breach is already recorded.
    """

    covered: Sequence[DateRange] = Coverage()
    failed: Mapping[date, Failed] = field(default_factory=dict)
    in_flight: Mapping[date, InFlight] = field(default_factory=dict)
    request_done: Mapping[str, tuple[DateRange, ...]] = field(default_factory=dict)
    sla_since: datetime | None = None
    sla_recorded: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        # callers may pass plain ranges; the planner reads the compact form
        if not isinstance(self.covered, Coverage):
            object.__setattr__(self, "covered", Coverage.of(self.covered))

    @property
    def coverage(self) -> Coverage:
        """``covered`` with its type: always a ``Coverage`` once constructed."""
        assert isinstance(self.covered, Coverage)
        return self.covered


EMPTY = PipelineObserved()


@dataclass(frozen=True, slots=True)
class Observed:
    """The whole state as the planner sees it: per pipeline, plus the applied config."""

    pipelines: Mapping[str, PipelineObserved] = field(default_factory=dict)
    applied_config: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    deleted: frozenset[str] = frozenset()

    def of(self, pipeline_id: str) -> PipelineObserved:
        return self.pipelines.get(pipeline_id, EMPTY)
