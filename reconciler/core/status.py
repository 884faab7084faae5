"""Per-pipeline coverage figures for ``reconciler status``: pure, from spec and state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from reconciler.core.calendar import count_between, due_instant, next_scheduled, prev_scheduled
from reconciler.core.coverage import PipelineObserved
from reconciler.core.intervals import complement
from reconciler.core.planner import due_window
from reconciler.core.spec import PipelineSpec


@dataclass(frozen=True, slots=True)
class PipelineStatus:
    pipeline_id: str
    due: int
    covered: int
    in_flight: int
    failed: int
    missing: int
    last_covered: date | None
    next_date: date | None
    next_due_at: datetime | None
    sla_breaches: int

    @property
    def coverage_pct(self) -> float:
        return 100.0 if self.due == 0 else 100.0 * self.covered / self.due


def pipeline_status(spec: PipelineSpec, obs: PipelineObserved, now: datetime) -> PipelineStatus:
    """Counts over the due dates; cost follows the number of covered ranges."""
    window = due_window(spec.schedule, now)
    s = spec.schedule
    if window is None:
        nxt = s.start if count_between(s, s.start, s.start) else next_scheduled(s, s.start)
        return PipelineStatus(
            spec.id,
            0,
            0,
            len(obs.in_flight),
            0,
            0,
            None,
            nxt,
            due_instant(s, nxt) if nxt else None,
            len(obs.sla_recorded),
        )
    first, latest = window
    covered = 0
    last_covered = None
    for start, end in obs.covered:
        lo, hi = max(start, first), min(end, latest)
        if lo <= hi:
            n = count_between(s, lo, hi)
            if n:
                covered += n
                last_covered = hi
    # last_covered must be a scheduled date: step back from the range end if needed
    if last_covered is not None and not count_between(s, last_covered, last_covered):
        last_covered = prev_scheduled(s, last_covered)
    due = count_between(s, first, latest)
    failed = sum(1 for d in obs.failed if first <= d <= latest)
    flying = len(obs.in_flight)
    uncovered = sum(count_between(s, a, b) for a, b in complement(obs.covered, first, latest))
    missing = max(uncovered - failed - sum(1 for d in obs.in_flight if first <= d <= latest), 0)
    nxt = next_scheduled(s, latest)
    return PipelineStatus(
        spec.id,
        due,
        covered,
        flying,
        failed,
        missing,
        last_covered,
        nxt,
        due_instant(s, nxt) if nxt else None,
        len(obs.sla_recorded),
    )
