"""A pipeline's coverage as one short line of block characters, for plan comments.

The strip has at most ``width`` cells over the pipeline's due dates, oldest first; a
cell stands for a run of consecutive scheduled dates and shows the worst of them, so a
single missing date is never averaged away. It is built from the plan alone: every
due date the plan does not mention is covered (docs/planning.md gives each uncovered due date
exactly one entry).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date

from reconciler.core.calendar import count_between, is_scheduled, next_scheduled, progression
from reconciler.core.date_states import DateState
from reconciler.core.pipeline_decisions import due_window
from reconciler.core.plan import Plan, Waiting
from reconciler.core.spec import PipelineSpec, Schedule

WIDTH = 60
SYMBOLS: dict[DateState, str] = {
    "covered": "█",
    "covered_late": "▓",
    "outdated": "▞",
    "in_flight": "▒",
    "retrying": "▒",
    "failed": "░",
    "canceled": "░",
    "blocked": "╳",
    "gap": "░",
    "excluded": "█",  # (never drawn: the plan does not mention excluded dates)
    "not_due": "·",
}
# which state a cell shows when its dates differ: the one that needs attention most
RANK: dict[DateState, int] = {
    "not_due": 0,
    "excluded": 1,
    "covered": 1,
    "covered_late": 2,
    "outdated": 2,
    "in_flight": 3,
    "retrying": 3,
    "blocked": 3,
    "gap": 4,
    "failed": 4,
    "canceled": 4,
}
LEGEND = "█ covered, ▒ in flight, retrying or re-run, ░ missing"
# added to the legend of a strip that shows them (only fleets with dependencies have any)
MORE_LEGEND: dict[DateState, str] = {
    "outdated": "▞ to refresh",
    "blocked": "╳ waits for upstream",
}


def strip(total: int, marks: Mapping[int, DateState], width: int = WIDTH) -> str:
    """``total`` dates in ``min(total, width)`` cells, each showing its worst date.

    ``marks`` maps the index (0 = oldest) of every date that is not plainly covered
    to its state; unmarked dates are covered.
    """
    if total <= 0:
        return ""
    cells = min(total, width)
    worst: list[DateState] = ["covered"] * cells
    for index, state in marks.items():
        if 0 <= index < total:
            cell = index * cells // total
            if RANK[state] > RANK[worst[cell]]:
                worst[cell] = state
    return "".join(SYMBOLS[s] for s in worst)


SpanMark = tuple[Sequence[int], DateState]  # ascending day ordinals and what they are


def _action_state(kind: str, request_id: str | None) -> DateState | None:
    if kind == "poll":
        return "in_flight"
    if kind == "retry" or (kind == "backfill" and request_id):
        return "retrying"  # a requested backfill may re-run covered dates: under way
    if kind == "refresh":
        return "outdated"
    if kind in ("run", "backfill"):
        return "gap"
    return None


def _waiting_state(waiting: Waiting) -> DateState:
    if waiting.reason != "upstream":
        return "retrying"
    # covered dates to refresh after their upstream, or dates held back by it
    return "outdated" if waiting.refresh else "blocked"


def _gap_state(reason: str) -> DateState:
    if reason == "retries_exhausted":
        return "failed"
    return "blocked" if reason == "upstream_gap" else "gap"


def span_marks_by_pipeline(plan: Plan) -> dict[str, list[SpanMark]]:
    """``marks_by_pipeline`` by date ranges: what the plan says of each pipeline's spans
    of dates, read from its groups without listing a date."""
    out: dict[str, list[SpanMark]] = {}
    for group in plan.action_groups():
        state = _action_state(group.kind, group.request_id)
        if state is not None:
            out.setdefault(group.pipeline_id, []).extend((s, state) for s in group.spans)
    for waiting in plan.waiting:
        days = tuple(d.toordinal() for d in waiting.dates)
        out.setdefault(waiting.pipeline_id, []).append((days, _waiting_state(waiting)))
    for gaps in plan.gap_groups():
        state = _gap_state(gaps.reason)
        out.setdefault(gaps.pipeline_id, []).extend((s, state) for s in gaps.spans)
    return out


IndexRun = tuple[int, int, DateState]  # first and last position among the due dates


def _index_runs(
    spans: Sequence[SpanMark], index: Callable[[date], int], lo: int, hi: int
) -> Iterator[IndexRun]:
    """Each span's dates within ``[lo, hi]`` as runs of positions: a ``range`` of
    consecutive scheduled dates is one run, other spans a date at a time."""
    day = date.fromordinal
    for span, state in spans:
        if isinstance(span, range) and len(span) > 1:
            inside = span[bisect_left(span, lo) : bisect_right(span, hi)]
            if not inside:
                continue
            a, b = index(day(inside[0])), index(day(inside[-1]))
            if b - a == len(inside) - 1:
                yield a, b, state
                continue
            span = inside
        for o in span:
            if lo <= o <= hi:
                at = index(day(o))
                yield at, at, state


def strip_runs(total: int, runs: Iterable[IndexRun], width: int = WIDTH) -> str:
    """``strip`` of runs of positions: each run marks every cell its positions fall in."""
    if total <= 0:
        return ""
    cells = min(total, width)
    worst: list[DateState] = ["covered"] * cells
    for a, b, state in runs:
        a, b = max(a, 0), min(b, total - 1)
        for cell in range(a * cells // total, b * cells // total + 1):
            if RANK[state] > RANK[worst[cell]]:
                worst[cell] = state
    return "".join(SYMBOLS[s] for s in worst)


def marks_by_pipeline(plan: Plan) -> dict[str, dict[date, DateState]]:
    """What the plan says of each pipeline's uncovered (or re-run) dates, as date states.

    One pass over the plan: a plan can hold 10^5 actions over 10^4 pipelines.
    """
    out: dict[str, dict[date, DateState]] = {}
    for pid, marks in span_marks_by_pipeline(plan).items():
        found = out.setdefault(pid, {})
        for span, state in marks:
            found.update(dict.fromkeys(map(date.fromordinal, span), state))
    return out


def plan_marks(plan: Plan, pipeline_id: str) -> dict[date, DateState]:
    """``marks_by_pipeline`` for one pipeline."""
    return marks_by_pipeline(plan).get(pipeline_id, {})


def _indexer(s: Schedule, first: date) -> Callable[[date], int]:
    """Position of a scheduled date among the schedule's dates from ``first`` (0-based)."""
    prog = progression(s)
    if prog is None:
        return lambda d: count_between(s, first, d) - 1
    origin, step = prog
    base = -((origin - first.toordinal()) // step)  # index of the first term >= first
    return lambda d: (d.toordinal() - origin) // step - base


def pipeline_strip(
    spec: PipelineSpec,
    plan: Plan,
    width: int = WIDTH,
    marks: Mapping[date, DateState] | None = None,
    spans: Sequence[SpanMark] | None = None,
) -> str | None:
    """A markdown line: the strip over the due dates, their range and a legend (None if none).

    ``marks``: the pipeline's entry of ``marks_by_pipeline`` when the caller has it;
    ``spans``: its entry of ``span_marks_by_pipeline`` (read by ranges, not dates).
    """
    window = due_window(spec.schedule, plan.now)
    if window is None:
        return None
    start, latest = window
    s = spec.schedule
    # the window opens at schedule.start, which need not be a scheduled date itself
    first = start if is_scheduled(s, start) else next_scheduled(s, start) or start
    total = count_between(s, first, latest)
    index = _indexer(s, first)
    if spans is not None:
        runs = _index_runs(spans, index, first.toordinal(), latest.toordinal())
        cells = strip_runs(total, runs, width)
    else:
        found = plan_marks(plan, spec.id) if marks is None else marks
        at = {index(d): m for d, m in found.items() if first <= d <= latest}
        cells = strip(total, at, width)
    per = f"{total / len(cells):.1f}".rstrip("0").rstrip(".") if cells else "0"
    scale = "1 date per cell" if per == "1" else f"~{per} dates per cell"
    shown = [text for state, text in MORE_LEGEND.items() if SYMBOLS[state] in cells]
    legend = ", ".join([LEGEND, *shown])
    return f"Coverage `{cells}` {first} → {latest} ({total} due, {scale}; {legend})"


def strips_for(specs: Sequence[PipelineSpec], plan: Plan) -> Callable[[str], str | None]:
    """Strips by pipeline id, each computed when a renderer asks for it."""
    by_id = {spec.id: spec for spec in specs}
    index: dict[str, list[SpanMark]] = {}

    def strip_of(pipeline_id: str) -> str | None:
        spec = by_id.get(pipeline_id)
        if spec is None:
            return None
        if not index:
            index.update(span_marks_by_pipeline(plan) or {"": []})
        return pipeline_strip(spec, plan, spans=index.get(pipeline_id, []))

    return strip_of
