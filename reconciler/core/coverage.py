"""What the state says about a pipeline's dates, in a compact form the planner reads.

Covered dates are merged ranges, so reading them costs the number of holes, not the
length of history. Only dates that need a decision (failed, in flight) are listed
one by one.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from reconciler.core.applied import AppliedConfigs
from reconciler.core.intervals import DateRange, DayRanges


@dataclass(frozen=True, slots=True, kw_only=True)
class InFlight:
    """The newest attempt of a date has started and not finished."""

    run_id: str
    attempt: int = 1
    request_id: str | None = None
    started_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed:
    """The newest finished attempt of a date failed; ``attempt`` counts from 1.

    ``ended_at`` is None when the state was read without this date's details: its
    retries are exhausted, and only its attempt matters to the planner."""

    attempt: int
    ended_at: datetime | None
    request_id: str | None = None
    run_id: str = ""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_us(instant: datetime) -> int:
    """Microseconds since 1970 (UTC) of an aware instant."""
    return (instant - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureDetails:
    """End time, request id and run id of some failed dates, as columns sorted by date.

    ``ordinals``: the dates (``date.toordinal``); ``ended_us``: when each attempt ended,
    in microseconds since 1970 UTC; ``run_ids``: "" when the attempt had none.
    """

    ordinals: Sequence[int] = ()
    ended_us: Sequence[int] = ()
    request_ids: Sequence[str | None] = ()
    run_ids: Sequence[str] = ()

    def __post_init__(self) -> None:
        n = len(self.ordinals)
        if not len(self.ended_us) == len(self.request_ids) == len(self.run_ids) == n:
            raise ValueError("FailureDetails columns differ in length")


# per pipeline, the attempt number from which its failures are exhausted (its retry
# policy's ``attempts``): a store reads failed dates' details only below it. A pipeline
# not in it, or no mapping at all, gets every failed date's details
Retried = Mapping[str, int] | None


class FailedDates(Mapping[date, Failed]):
    """One pipeline's failed dates as columns, sorted by date; ``Failed`` built on demand.

    An imported history with 1% failures is 3.7 * 10^5 failed dates for 10k pipelines:
    the planner sorts them into retries and exhausted gaps with C-level passes over the
    ordinals and attempts, and builds a ``Failed`` only for a date it retries.
    ``details`` holds the end time and ids of the dates that were read with them: a
    store reads them only for the dates that can still be retried (and for whatever a
    caller asks in full), since 10^5 id strings would cost more than all the rest.
    """

    __slots__ = ("attempts", "details", "ordinals")

    def __init__(
        self,
        ordinals: Sequence[int] = (),
        attempts: Sequence[int] = (),
        details: FailureDetails | None = None,
    ) -> None:
        # kept as given (a store's lists), not copied: read-only by convention
        self.ordinals = ordinals
        self.attempts = attempts
        self.details = details or FailureDetails()
        if len(attempts) != len(ordinals):
            raise ValueError("FailedDates columns differ in length")
        if len(self.details.ordinals) > len(ordinals):
            raise ValueError("FailedDates: more details than failed dates")

    @classmethod
    def of(cls, failed: Mapping[date, Failed]) -> FailedDates:
        if isinstance(failed, FailedDates):
            return failed
        items = sorted(failed.items())
        known = [(d, f, f.ended_at) for d, f in items if f.ended_at is not None]
        details = FailureDetails(
            ordinals=[d.toordinal() for d, _, _ in known],
            ended_us=[epoch_us(e) for _, _, e in known],
            request_ids=[f.request_id for _, f, _ in known],
            run_ids=[f.run_id for _, f, _ in known],
        )
        return cls([d.toordinal() for d, _ in items], [f.attempt for _, f in items], details)

    def _index(self, day: object) -> int:
        if not isinstance(day, date):
            return -1
        o = day.toordinal()
        i = bisect_left(self.ordinals, o)
        return i if i < len(self.ordinals) and self.ordinals[i] == o else -1

    def at(self, i: int) -> Failed:
        """The ``i``-th failed date's attempt, with its details if they were read."""
        o, details = self.ordinals[i], self.details
        j = bisect_left(details.ordinals, o)
        if j == len(details.ordinals) or details.ordinals[j] != o:
            return Failed(attempt=self.attempts[i], ended_at=None)
        return Failed(
            attempt=self.attempts[i],
            ended_at=_EPOCH + timedelta(microseconds=details.ended_us[j]),
            request_id=details.request_ids[j],
            run_id=details.run_ids[j],
        )

    def __getitem__(self, day: date) -> Failed:
        i = self._index(day)
        if i < 0:
            raise KeyError(day)
        return self.at(i)

    def __contains__(self, day: object) -> bool:
        return self._index(day) >= 0

    def __iter__(self) -> Iterator[date]:
        return map(date.fromordinal, self.ordinals)

    def __len__(self) -> int:
        return len(self.ordinals)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self.ordinals))

    def __repr__(self) -> str:
        return f"FailedDates({dict(self.items())!r})"


NO_FAILURES = FailedDates()


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineObserved:
    """One pipeline's recorded history, reduced to what planning needs.

    ``covered``: dates whose newest finished attempt succeeded (merged ranges).
    ``failed``: dates whose newest finished attempt failed.
    ``in_flight``: dates with an unfinished attempt (polled, never triggered again).
    ``request_done``: per backfill request id, the dates already run for it.
    ``sla_since``: when SLA tracking began (the pipeline's first sync); deadlines
    before it are history, not breaches.
    ``sla_recorded``: dates whose breach is already recorded.
    ``outdated``: dates marked outdated since they last started (an upstream date they
    need re-ran successfully, or their version changed), as merged ranges; only the
    covered ones among them are outdated (a mark on a date never run means nothing).
    ``outdated_since``: when the newest mark was written; it names the refresh runs.
    ``canceled``: dates whose newest attempt was cancelled; they are not retried or
    backfilled again until a new request (or ``mark``) asks for them.
    """

    covered: Sequence[DateRange] = DayRanges()
    failed: Mapping[date, Failed] = NO_FAILURES
    in_flight: Mapping[date, InFlight] = field(default_factory=dict)
    request_done: Mapping[str, tuple[DateRange, ...]] = field(default_factory=dict)
    sla_since: datetime | None = None
    sla_recorded: frozenset[date] = frozenset()
    outdated: Sequence[DateRange] = DayRanges()
    outdated_since: datetime | None = None  # when the newest of those marks was written
    canceled: Sequence[DateRange] = DayRanges()  # newest attempt stopped on request

    def __post_init__(self) -> None:
        # callers may pass plain ranges; the planner reads the compact form
        if not isinstance(self.covered, DayRanges):
            object.__setattr__(self, "covered", DayRanges.of(self.covered))
        if not isinstance(self.outdated, DayRanges):
            object.__setattr__(self, "outdated", DayRanges.of(self.outdated))
        if not isinstance(self.canceled, DayRanges):
            object.__setattr__(self, "canceled", DayRanges.of(self.canceled))
        if not isinstance(self.failed, FailedDates):
            object.__setattr__(self, "failed", FailedDates.of(self.failed))

    @property
    def failures(self) -> FailedDates:
        """``failed`` with its type: always ``FailedDates`` once constructed."""
        assert isinstance(self.failed, FailedDates)
        return self.failed

    @property
    def outdated_marks(self) -> DayRanges:
        """``outdated`` with its type: always a ``DayRanges`` once constructed."""
        assert isinstance(self.outdated, DayRanges)
        return self.outdated

    @property
    def canceled_days(self) -> DayRanges:
        """``canceled`` with its type: always a ``DayRanges`` once constructed."""
        assert isinstance(self.canceled, DayRanges)
        return self.canceled

    @property
    def coverage(self) -> DayRanges:
        """``covered`` with its type: always a ``DayRanges`` once constructed."""
        assert isinstance(self.covered, DayRanges)
        return self.covered


EMPTY = PipelineObserved()


@dataclass(frozen=True, slots=True)
class Observed:
    """The whole state as the planner sees it: per pipeline, plus the applied config."""

    pipelines: Mapping[str, PipelineObserved] = field(default_factory=dict)
    applied_config: AppliedConfigs = field(default_factory=lambda: AppliedConfigs({}))
    deleted: frozenset[str] = frozenset()

    def of(self, pipeline_id: str) -> PipelineObserved:
        return self.pipelines.get(pipeline_id, EMPTY)
