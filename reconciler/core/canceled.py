"""Dates stopped on request: they stay missing until someone asks for them again (pure).

A cancelled run (``reconciler cancel``, or a removed request with ``cancel_running``)
records its dates as ``canceled``. Retrying or auto-backfilling them would undo the
cancel, so the planner lists them as ``canceled`` gaps; a new backfill request over
them, or ``reconciler mark``, makes them plannable again.
"""

from __future__ import annotations

from reconciler.core.coverage import PipelineObserved


def canceled_ordinals(
    obs: PipelineObserved, lo: int, hi: int, origin: int, step: int, taken: set[int]
) -> list[int]:
    """Scheduled, uncovered ordinals in ``[lo, hi]`` whose newest attempt was cancelled
    and that no request claims again: gaps, never backfilled by themselves."""
    out: list[int] = []
    covers = obs.coverage.covers
    for a, b in obs.canceled_days:
        start, end = max(a.toordinal(), lo), min(b.toordinal(), hi)
        start += (origin - start) % step
        out.extend(o for o in range(start, end + 1, step) if o not in taken and not covers(o))
    return out
