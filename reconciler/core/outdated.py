"""Which covered dates of a pipeline need a refresh: those marked outdated since they last
started (an upstream date they read re-ran, or their version changed), and, in a plan
made before a version change is applied, every covered date when the change asks for it.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from datetime import date

from reconciler.core.applied import AppliedConfigs
from reconciler.core.calendar import scheduled_between
from reconciler.core.coverage import PipelineObserved
from reconciler.core.spec import PipelineSpec


def version_pending(spec: PipelineSpec, applied: AppliedConfigs) -> bool:
    """Whether the file changes a version that the state has applied, and the change asks
    for a refresh: the plan then shows every covered date as refreshed (the pass that
    applies the change marks them so)."""
    if not spec.refresh_on_version_change or spec.id not in applied:
        return False
    old = applied[spec.id].get("version")
    return (None if old is None else str(old)) != spec.version


def outdated_days(
    spec: PipelineSpec,
    obs: PipelineObserved,
    window: tuple[date, date],
    busy: Container[date],
    everything: bool,
) -> list[date]:
    """Covered, scheduled dates of ``window`` to refresh, ascending, less the ``busy`` ones
    (in flight, or claimed by a backfill request)."""
    lo, hi = window[0].toordinal(), window[1].toordinal()
    coverage = obs.coverage
    if everything:
        ranges = list(coverage.within(lo, hi))
    else:
        ranges = [
            piece for a, b in obs.outdated_marks.within(lo, hi) for piece in coverage.within(a, b)
        ]
    day = date.fromordinal
    return [
        d
        for a, b in ranges
        for d in scheduled_between(spec.schedule, day(a), day(b))
        if d not in busy
    ]


# request ids that start so are the reconciler's own (refresh rounds): a user's request
# may not take one, or its progress would be read from a refresh's runs
REFRESH_PREFIX = "refresh-"


def refresh_id(spec: PipelineSpec, obs: PipelineObserved, everything: bool) -> str:
    """The request id refresh runs carry: it tells one round of refreshes from the next
    (the same date refreshed again is a new run) and keeps their retries apart."""
    if everything:
        return f"{REFRESH_PREFIX}version-{spec.version}"
    if obs.outdated_since is not None:
        return f"{REFRESH_PREFIX}{obs.outdated_since:%Y%m%dT%H%M%S%f}"
    return f"{REFRESH_PREFIX}marked"


def busy_dates(obs: PipelineObserved, claimed: Mapping[date, object]) -> set[date]:
    """Dates a refresh leaves alone: in flight, or claimed by a backfill request."""
    return set(obs.in_flight) | set(claimed)
