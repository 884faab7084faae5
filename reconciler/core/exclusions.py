"""Excluded dates (``exclude`` in a pipeline file): never planned, never a gap, never an
SLA breach, and available to dependants (docs/planning.md).

The planner sees them as covered: its decisions walk holes in coverage, so adding the
excluded ranges to the coverage hides them from runs, backfills, retries, gaps and SLA
checks at the cost of a merge, and a dependant reading an excluded upstream date finds
it available (the upstream will never produce it, by design). Their outdated marks are
dropped, so a covered excluded date is never refreshed either; a backfill request skips
them (``excluded_days``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from reconciler.core.calendar import count_between
from reconciler.core.coverage import PipelineObserved
from reconciler.core.intervals import DayRanges
from reconciler.core.spec import PipelineSpec

NOTHING = DayRanges()


def excluded_days(spec: PipelineSpec) -> DayRanges:
    """The pipeline's excluded ranges, merged (calendar days; only scheduled ones matter)."""
    if not spec.exclude:
        return NOTHING
    return DayRanges.of((e.first, e.last) for e in spec.exclude)


def with_exclusions(spec: PipelineSpec, obs: PipelineObserved) -> PipelineObserved:
    """``obs`` as the planner reads it: excluded dates covered, and never outdated."""
    if not spec.exclude:
        return obs
    excluded = excluded_days(spec)
    covered = DayRanges.of([*obs.coverage, *excluded])
    day = date.fromordinal
    outdated = [
        (day(lo), day(hi))
        for a, b in obs.outdated_marks.within(1, date.max.toordinal())
        for lo, hi in excluded.holes(a, b)
    ]
    return replace(obs, covered=covered, outdated=DayRanges.of(outdated))


def uncovered_excluded(
    spec: PipelineSpec, obs: PipelineObserved, first: date, last: date
) -> list[tuple[int, int]]:
    """Ordinal ranges of ``[first, last]`` that are excluded and not covered (covered
    excluded dates keep their coverage)."""
    out: list[tuple[int, int]] = []
    for a, b in excluded_days(spec).within(first.toordinal(), last.toordinal()):
        out += obs.coverage.holes(a, b)
    return out


def excluded_count(spec: PipelineSpec, ranges: list[tuple[int, int]]) -> int:
    """Scheduled dates in ordinal ``ranges``."""
    day = date.fromordinal
    return sum(count_between(spec.schedule, day(a), day(b)) for a, b in ranges)
