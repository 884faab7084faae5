"""The records a plan is made of: actions, gaps, waiting retries, SLA breaches, config changes,
and the grouped views that describe many actions (or gaps) of a pipeline by date ranges."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain
from typing import Any, Literal, NamedTuple

ActionKind = Literal["run", "retry", "backfill", "refresh", "poll", "notify"]
GapReason = Literal["retries_exhausted", "auto_backfill_disabled", "upstream_gap", "canceled"]
WaitReason = Literal["retry", "upstream"]
ChangeKind = Literal["create", "update", "delete"]
# backfills and refreshes share a rank: they are ordered together, by priority
ACTION_ORDER: dict[str, int] = {
    "poll": 0,
    "retry": 1,
    "run": 2,
    "backfill": 3,
    "refresh": 3,
    "notify": 4,
}


class UpstreamDates(NamedTuple):
    """Dates of an upstream pipeline that a downstream date waits for (or lacks): the
    upstream's scheduled dates from ``first`` to ``last``."""

    pipeline_id: str
    first: date
    last: date


class Action(NamedTuple):
    """One unit of work: a run of one or more dates, a poll, or a notification.

    A ``refresh`` re-runs covered dates that are outdated: an upstream date they read
    was re-run after them, or (``refresh_on_version_change``) the version changed.

    ``attempt`` is the attempt number the run will be (1 for a first run);
    ``run_id`` names the run a ``poll`` follows; ``event`` the kind of a ``notify``.
    A NamedTuple rather than a frozen dataclass: equally immutable, and four times
    cheaper to build, which matters when a plan holds 10^5 single-date backfills.
    """

    pipeline_id: str
    kind: ActionKind
    dates: tuple[date, ...]
    priority: int = 0
    attempt: int = 1
    request_id: str | None = None
    reason: str | None = None
    run_id: str | None = None
    event: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionGroup:
    """Actions of one pipeline that differ only in their dates, told by date ranges.

    ``spans`` are stretches of consecutive scheduled dates, each an ascending sequence of
    day ordinals: a ``range`` (with the schedule's step) for a daily-like schedule, so a
    pipeline's 3,652 single-date backfills of ten years are a few spans, not 3,652
    objects. Each span is cut into runs (one action each) of at most ``batch`` dates,
    from its oldest date or, ``newest_first``, from its newest (and the spans are then
    taken newest first). A lone action is a group of one span and one run.
    """

    pipeline_id: str
    kind: ActionKind
    priority: int = 0
    attempt: int = 1
    request_id: str | None = None
    reason: str | None = None
    run_id: str | None = None
    event: str | None = None
    spans: Sequence[Sequence[int]]
    batch: int
    newest_first: bool = False
    run_count: int
    date_count: int

    @classmethod
    def of(cls, action: Action) -> ActionGroup:
        """One action as a group of one run."""
        days = tuple(d.toordinal() for d in action.dates)
        return cls(
            pipeline_id=action.pipeline_id,
            kind=action.kind,
            priority=action.priority,
            attempt=action.attempt,
            request_id=action.request_id,
            reason=action.reason,
            run_id=action.run_id,
            event=action.event,
            spans=(days,),
            batch=max(len(days), 1),
            run_count=1,
            date_count=len(days),
        )

    def first_last(self) -> Iterator[tuple[int, int]]:
        """Each span's first and last day ordinals, oldest span first."""
        return ((span[0], span[-1]) for span in self.spans if span)

    def days(self) -> Iterator[int]:
        """Every date's ordinal in listing order (with ``batch`` 1: one per action)."""
        if self.newest_first:
            return chain.from_iterable(reversed(span) for span in reversed(self.spans))
        return chain.from_iterable(self.spans)

    def runs(self) -> Iterator[Sequence[int]]:
        """Each action's day ordinals (ascending), in listing order."""
        size = self.batch
        if self.newest_first:
            for span in reversed(self.spans):
                for end in range(len(span), 0, -size):
                    yield span[max(end - size, 0) : end]
        else:
            for span in self.spans:
                for start in range(0, len(span), size):
                    yield span[start : start + size]

    def actions(self) -> Iterator[Action]:
        """The group listed as ``Action``s, in listing order."""
        fields = (self.priority, self.attempt, self.request_id, self.reason)
        tail = (*fields, self.run_id, self.event)
        pid, kind, day = self.pipeline_id, self.kind, date.fromordinal
        for run in self.runs():
            yield Action(pid, kind, tuple(map(day, run)), *tail)


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiting:
    """Dates that will run later, and what they wait for.

    ``reason`` ``retry``: failed dates whose next retry (``attempt``) is due at
    ``next_retry_at``. ``upstream``: dates whose inputs are not there yet; ``upstream``
    names the upstream dates they wait for. With ``refresh`` the dates are covered and
    will be refreshed once those upstream dates have re-run (a cascade the plan shows
    before it happens); otherwise they run (as ``attempt``) once their inputs exist.
    """

    pipeline_id: str
    dates: tuple[date, ...]
    next_retry_at: datetime | None = None
    attempt: int = 1
    reason: WaitReason = "retry"
    upstream: tuple[UpstreamDates, ...] = ()
    refresh: bool = False


@dataclass(frozen=True, slots=True)
class Gap:
    """Due dates that nothing will run, and why; for ``upstream_gap``, ``upstream`` names
    the upstream dates that will not run either."""

    pipeline_id: str
    dates: tuple[date, ...]
    reason: GapReason
    upstream: tuple[UpstreamDates, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class GapGroup:
    """Gaps of one pipeline and reason, told by date ranges: each span (ascending day
    ordinals, a ``range`` where the dates follow a step) is one ``Gap``."""

    pipeline_id: str
    reason: GapReason
    spans: Sequence[Sequence[int]]
    date_count: int
    upstream: tuple[UpstreamDates, ...] = ()

    @classmethod
    def of(cls, gap: Gap) -> GapGroup:
        days = tuple(d.toordinal() for d in gap.dates)
        return cls(
            pipeline_id=gap.pipeline_id,
            reason=gap.reason,
            spans=(days,),
            date_count=len(days),
            upstream=gap.upstream,
        )

    @property
    def gap_count(self) -> int:
        return len(self.spans)

    def gaps(self) -> Iterator[Gap]:
        day = date.fromordinal
        for span in self.spans:
            yield Gap(self.pipeline_id, tuple(map(day, span)), self.reason, self.upstream)


@dataclass(frozen=True, slots=True)
class SlaBreach:
    """A date whose SLA deadline passed without a successful run."""

    pipeline_id: str
    date: date
    deadline: datetime


@dataclass(frozen=True, slots=True)
class Paused:
    """A pipeline paused in its file: planned and shown, but ``apply`` starts none of its
    runs (it still polls those in flight) and sends no SLA notification for it."""

    pipeline_id: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Excluded:
    """How many due, uncovered dates of a pipeline its ``exclude`` entries leave out of
    the plan (they would otherwise be planned, waiting or gaps)."""

    pipeline_id: str
    dates: int


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """A pipeline whose YAML differs from the applied config; ``fields``: name -> (old, new)."""

    pipeline_id: str
    change: ChangeKind
    fields: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
