"""What a pipeline makes available to the pipelines that depend on it (``core.readiness``):
its covered dates, less those about to change, and the dates that will never run."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from reconciler.core.coverage import PipelineObserved
from reconciler.core.intervals import DayRanges
from reconciler.core.pipeline_decisions import Pieces
from reconciler.core.spec import PipelineSpec

STARTS = frozenset({"run", "retry", "backfill", "refresh"})
MAX_DAY = date.max.toordinal()


class Availability:
    """What the dependants of a pipeline can rely on, worked out when first asked (a
    pipeline whose dependants start nothing is never asked).

    ``rerun``: covered dates that are about to change (outdated, in flight, planned
    again, or waiting for a refresh); ``gone``: dates that will not run (its gaps).
    Available = covered and not in ``rerun``.
    """

    __slots__ = ("_gone", "_rerun", "obs", "pieces", "spec")

    def __init__(self, spec: PipelineSpec, obs: PipelineObserved, pieces: Pieces) -> None:
        self.spec, self.obs, self.pieces = spec, obs, pieces
        self._rerun: DayRanges | None = None
        self._gone: DayRanges | None = None

    @property
    def rerun(self) -> DayRanges:
        if self._rerun is None:
            coverage = self.obs.coverage
            found: list[tuple[int, int]] = []
            for a, b in self.obs.outdated_marks.within(1, MAX_DAY):
                found += coverage.within(a, b)
            # re-runs only: a date running for the first time is a hole already, and
            # the refresh preview is for covered dates that run again ...
            found += ((o, o) for o in rerun_days(self.obs, self.pieces) if coverage.covers(o))
            # ... or that a request runs (a retry of a failed re-run, say): its success
            # marks the dates that read it, as the pass ledger does
            found += ((o, o) for o in request_days(self.obs, self.pieces))
            self._rerun = ranges(found)
        return self._rerun

    @property
    def gone(self) -> DayRanges:
        if self._gone is None:
            found: list[tuple[int, int]] = []
            for source in self.pieces.gaps:
                for group in source.groups():
                    found += ((span[0], span[-1]) for span in group.spans if span)
            self._gone = ranges(found)
        return self._gone

    def unavailable(self, first: int, last: int) -> list[tuple[int, int]]:
        """Ordinal ranges of ``[first, last]`` that are not available, ascending."""
        pieces = list(self.obs.coverage.holes(first, last))
        pieces += self.rerun.within(first, last)
        return merged(pieces)


def ranges(pieces: list[tuple[int, int]]) -> DayRanges:
    joined = merged(pieces)
    return DayRanges([a for a, _ in joined], [b for _, b in joined])


def merged(pieces: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(pieces):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def rerun_days(obs: PipelineObserved, pieces: Pieces) -> set[int]:
    """Ordinals of this pipeline's dates that already run again or wait to."""
    days = {d.toordinal() for d in obs.in_flight}
    for action in pieces.actions:
        if action.kind in STARTS:
            days.update(d.toordinal() for d in action.dates)
    for waiting in pieces.waiting:
        days.update(d.toordinal() for d in waiting.dates)
    return days


def request_days(obs: PipelineObserved, pieces: Pieces) -> set[int]:
    """Ordinals of this pipeline's dates that run, or wait to run, for a request (a
    backfill request or a refresh): in flight, planned, or waiting for a retry."""
    days = {d.toordinal() for d, flight in obs.in_flight.items() if flight.request_id}
    for action in pieces.actions:
        if action.kind in STARTS and action.request_id is not None:
            days.update(d.toordinal() for d in action.dates)
    failed = obs.failed
    for waiting in pieces.waiting:
        if waiting.reason == "retry":
            days.update(
                d.toordinal() for d in waiting.dates if d in failed and failed[d].request_id
            )
    return days
