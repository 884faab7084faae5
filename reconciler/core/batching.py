"""Cutting a pipeline's dates into runs: consecutive scheduled dates, in batches of at
most ``batch.max_dates`` when the pipeline runs several dates at once."""

from __future__ import annotations

from datetime import date

from reconciler.core.calendar import adjacency
from reconciler.core.spec import PipelineSpec


def batches(spec: PipelineSpec, dates: list[date], newest_first: bool) -> list[tuple[date, ...]]:
    """Consecutive scheduled dates in groups of at most ``max_dates`` (or single dates)."""
    if not spec.multi_date or spec.max_dates == 1:
        ordered = reversed(dates) if newest_first else dates
        return [(d,) for d in ordered]
    runs = runs_of(spec, dates)
    out: list[tuple[date, ...]] = []
    size = spec.max_dates
    for run in reversed(runs) if newest_first else runs:
        if newest_first:
            chunks = [run[max(i - size, 0) : i] for i in range(len(run), 0, -size)]
        else:
            chunks = [run[i : i + size] for i in range(0, len(run), size)]
        out.extend(tuple(chunk) for chunk in chunks)
    return out


def runs_of(spec: PipelineSpec, dates: list[date]) -> list[list[date]]:
    """Split ascending dates into runs of consecutive scheduled dates."""
    follows = adjacency(spec.schedule)
    runs: list[list[date]] = []
    for d in dates:
        if runs and follows(runs[-1][-1], d):
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def group_consecutive(spec: PipelineSpec, dates: list[date]) -> list[tuple[date, ...]]:
    """Runs of consecutive scheduled dates as tuples (for gaps/waiting)."""
    return [tuple(r) for r in runs_of(spec, dates)]
