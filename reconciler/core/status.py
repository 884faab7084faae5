"""Per-pipeline coverage figures for ``reconciler status``: pure, from spec and state."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime

from reconciler.core.calendar import (
    count_between,
    due_instant,
    next_scheduled,
    prev_scheduled,
    progression,
)
from reconciler.core.coverage import PipelineObserved
from reconciler.core.exclusions import excluded_count, uncovered_excluded
from reconciler.core.intervals import complement
from reconciler.core.pipeline_decisions import due_window
from reconciler.core.plan import Plan
from reconciler.core.spec import PipelineSpec, Schedule


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineStatus:
    """Counts of due dates. ``outdated``: covered dates marked outdated (they will be
    refreshed); ``blocked``: uncovered dates held back for their upstream (waiting for
    upstream dates, or an ``upstream_gap``), among the ``missing`` and ``failed`` ones;
    ``excluded``: uncovered dates of the pipeline's ``exclude`` entries, not in flight
    (neither missing nor failed; a covered excluded date counts as covered);
    ``paused``: the pipeline is paused; ``runs_in_flight``: the runs (batches) those
    in-flight dates belong to."""

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
    outdated: int = 0
    blocked: int = 0
    excluded: int = 0
    paused: bool = False
    runs_in_flight: int = 0

    @property
    def coverage_pct(self) -> float:
        """Covered over the due dates that are not excluded."""
        wanted = self.due - self.excluded
        return 100.0 if wanted <= 0 else 100.0 * self.covered / wanted


def pipeline_status(
    spec: PipelineSpec, obs: PipelineObserved, now: datetime, blocked: int = 0
) -> PipelineStatus:
    """Counts over the due dates; cost follows the number of covered ranges.

    ``blocked``: the pipeline's entry of ``blocked_counts`` (only a plan knows it)."""
    window = due_window(spec.schedule, now)
    s = spec.schedule
    if window is None:
        nxt = s.start if count_between(s, s.start, s.start) else next_scheduled(s, s.start)
        return PipelineStatus(
            pipeline_id=spec.id,
            due=0,
            covered=0,
            in_flight=len(obs.in_flight),
            failed=0,
            missing=0,
            last_covered=None,
            next_date=nxt,
            next_due_at=due_instant(s, nxt) if nxt else None,
            sla_breaches=len(obs.sla_recorded),
            blocked=blocked,
            paused=spec.paused,
            runs_in_flight=_runs(obs),
        )
    first, latest = window
    prog = progression(s)
    if prog is not None and prog[1] == 1:
        covered, last_covered, due, uncovered = _daily_counts(obs, first, latest)
    else:
        covered, last_covered, due, uncovered = _counts(s, obs, first, latest)
    ordinals = obs.failures.ordinals
    lo, hi = first.toordinal(), latest.toordinal()
    failed = bisect_right(ordinals, hi) - bisect_left(ordinals, lo)
    flying = len(obs.in_flight)
    excluded = excluded_failed = 0
    if spec.exclude:
        excluded, excluded_failed = _excluded(spec, obs, first, latest)
    failed -= excluded_failed
    in_window = sum(1 for d in obs.in_flight if first <= d <= latest)
    missing = max(uncovered - failed - excluded - in_window, 0)
    nxt = next_scheduled(s, latest)
    return PipelineStatus(
        pipeline_id=spec.id,
        due=due,
        covered=covered,
        in_flight=flying,
        failed=failed,
        missing=missing,
        last_covered=last_covered,
        next_date=nxt,
        next_due_at=due_instant(s, nxt) if nxt else None,
        sla_breaches=len(obs.sla_recorded),
        outdated=outdated_count(s, obs, first, latest),
        blocked=blocked,
        excluded=excluded,
        paused=spec.paused,
        runs_in_flight=_runs(obs),
    )


def _runs(obs: PipelineObserved) -> int:
    return len({flying.run_id for flying in obs.in_flight.values()})


def _excluded(
    spec: PipelineSpec, obs: PipelineObserved, first: date, latest: date
) -> tuple[int, int]:
    """Uncovered excluded dates of ``[first, latest]`` not in flight, and how many of
    them failed (counted as excluded, not failed)."""
    ranges = uncovered_excluded(spec, obs, first, latest)
    count = excluded_count(spec, ranges)
    ordinals = obs.failures.ordinals
    failed = flying = 0
    for a, b in ranges:
        failed += bisect_right(ordinals, b) - bisect_left(ordinals, a)
        flying += sum(1 for d in obs.in_flight if a <= d.toordinal() <= b)
    return count - flying, failed


def outdated_count(s: Schedule, obs: PipelineObserved, first: date, latest: date) -> int:
    """Covered scheduled dates of ``[first, latest]`` inside the outdated marks, counted
    on ranges (marks times the covered ranges within them)."""
    marks = obs.outdated_marks
    if not marks:
        return 0
    coverage = obs.coverage
    daily = (prog := progression(s)) is not None and prog[1] == 1
    total = 0
    for a, b in marks.within(first.toordinal(), latest.toordinal()):
        if daily:
            total += coverage.days_within(a, b)
            continue
        for lo, hi in coverage.within(a, b):
            total += count_between(s, date.fromordinal(lo), date.fromordinal(hi))
    return total


def blocked_counts(plan: Plan) -> dict[str, int]:
    """Per pipeline, the dates the plan holds back for their upstream: waiting for
    upstream dates (not the covered ones it will refresh) and ``upstream_gap`` gaps."""
    out: dict[str, int] = {}
    for waiting in plan.waiting:
        if waiting.reason == "upstream" and not waiting.refresh:
            out[waiting.pipeline_id] = out.get(waiting.pipeline_id, 0) + len(waiting.dates)
    for group in plan.gap_groups():
        if group.reason == "upstream_gap":
            out[group.pipeline_id] = out.get(group.pipeline_id, 0) + group.date_count
    return out


Counts = tuple[int, date | None, int, int]  # covered, last covered, due, uncovered


def _counts(s: Schedule, obs: PipelineObserved, first: date, latest: date) -> Counts:
    """Scheduled dates of ``[first, latest]``: covered, the last covered, all, uncovered."""
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
    uncovered = sum(count_between(s, a, b) for a, b in complement(obs.covered, first, latest))
    return covered, last_covered, due, uncovered


def _daily_counts(obs: PipelineObserved, first: date, latest: date) -> Counts:
    """``_counts`` when every day is scheduled: sums over the coverage's ordinals (a
    fleet's status over ten years of scattered holes is 10^5 ranges)."""
    coverage = obs.coverage
    lo, hi = first.toordinal(), latest.toordinal()
    uncovered = coverage.uncovered_within(lo, hi)
    k = bisect_right(coverage.starts, hi) - 1
    last_covered = None
    if k >= 0 and coverage.ends[k] >= lo:
        last_covered = date.fromordinal(min(coverage.ends[k], hi))
    due = hi - lo + 1
    return due - uncovered, last_covered, due, uncovered
