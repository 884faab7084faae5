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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RECORD_SEP, UNIT_SEP = "\x1e", "\x1f"  # ASCII RS and US: never in ids
_Details = tuple[Sequence[int], Sequence[str | None], Sequence[str]]


def epoch_us(instant: datetime) -> int:
    """Microseconds since 1970 (UTC) of an aware instant."""
    return (instant - _EPOCH) // timedelta(microseconds=1)


class FailedDates(Mapping[date, Failed]):
    """One pipeline's failed dates as columns, sorted by date; ``Failed`` built on demand.

    An imported history with 1% failures is 3.7 * 10^5 failed dates for 10k pipelines:
    the planner sorts them into retries and exhausted gaps with C-level passes over the
    ordinals and attempts, and builds a ``Failed`` only for a date it retries.
    ``ended_us``: when each attempt ended, in microseconds since 1970 UTC.
    """

    __slots__ = ("_details", "_packed", "attempts", "ordinals")

    def __init__(
        self,
        ordinals: Sequence[int] = (),
        attempts: Sequence[int] = (),
        ended_us: Sequence[int] = (),
        request_ids: Sequence[str | None] = (),
        run_ids: Sequence[str] = (),
    ) -> None:
        # kept as given (a store's lists), not copied: read-only by convention
        self.ordinals = ordinals
        self.attempts = attempts
        self._details: _Details | None = (ended_us, request_ids, run_ids)
        self._packed = ""
        n = len(ordinals)
        if len(attempts) != n or len(ended_us) != n:
            raise ValueError("FailedDates columns differ in length")
        if len(request_ids) != n or len(run_ids) != n:
            raise ValueError("FailedDates columns differ in length")

    @classmethod
    def packed(cls, ordinals: Sequence[int], attempts: Sequence[int], details: str) -> FailedDates:
        """With each date's end time, request id and run id packed in one text,
        ``ended_us US request_id US run_id`` per date joined by RS (a store's
        ``string_agg``): split only when a ``Failed`` is built. Most failed dates of a
        long history are only counted, and 10^5 id strings cost more than the rest."""
        out = cls()
        out.ordinals, out.attempts = ordinals, attempts
        out._details, out._packed = None, details
        if len(attempts) != len(ordinals):
            raise ValueError("FailedDates columns differ in length")
        return out

    def _unpacked(self) -> _Details:
        if self._details is None:
            records = [item.split(UNIT_SEP, 2) for item in self._packed.split(RECORD_SEP)]
            if len(records) != len(self.ordinals) or any(len(r) != 3 for r in records):
                raise ValueError("FailedDates: packed details do not match the dates")
            self._details = (
                [int(e) for e, _, _ in records],
                [r or None for _, r, _ in records],
                [b for _, _, b in records],
            )
        return self._details

    @property
    def ended_us(self) -> Sequence[int]:
        return self._unpacked()[0]

    @property
    def request_ids(self) -> Sequence[str | None]:
        return self._unpacked()[1]

    @property
    def run_ids(self) -> Sequence[str]:
        return self._unpacked()[2]

    @classmethod
    def of(cls, failed: Mapping[date, Failed]) -> FailedDates:
        if isinstance(failed, FailedDates):
            return failed
        items = sorted(failed.items())
        return cls(
            [d.toordinal() for d, _ in items],
            [f.attempt for _, f in items],
            [epoch_us(f.ended_at) for _, f in items],
            [f.request_id for _, f in items],
            [f.run_id for _, f in items],
        )

    def _index(self, day: object) -> int:
        if not isinstance(day, date):
            return -1
        o = day.toordinal()
        i = bisect_left(self.ordinals, o)
        return i if i < len(self.ordinals) and self.ordinals[i] == o else -1

    def at(self, i: int) -> Failed:
        """The ``i``-th failed date's attempt."""
        ended_us, request_ids, run_ids = self._unpacked()
        ended = _EPOCH + timedelta(microseconds=ended_us[i])
        return Failed(self.attempts[i], ended, request_ids[i], run_ids[i])

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
    failed: Mapping[date, Failed] = NO_FAILURES
    in_flight: Mapping[date, InFlight] = field(default_factory=dict)
    request_done: Mapping[str, tuple[DateRange, ...]] = field(default_factory=dict)
    sla_since: datetime | None = None
    sla_recorded: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        # callers may pass plain ranges; the planner reads the compact form
        if not isinstance(self.covered, Coverage):
            object.__setattr__(self, "covered", Coverage.of(self.covered))
        if not isinstance(self.failed, FailedDates):
            object.__setattr__(self, "failed", FailedDates.of(self.failed))

    @property
    def failures(self) -> FailedDates:
        """``failed`` with its type: always ``FailedDates`` once constructed."""
        assert isinstance(self.failed, FailedDates)
        return self.failed

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
