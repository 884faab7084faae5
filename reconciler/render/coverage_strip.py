"""A pipeline's coverage as one short line of block characters, for plan comments.

The strip has at most ``width`` cells over the pipeline's due dates, oldest first; a
cell stands for a run of consecutive scheduled dates and shows the worst of them, so a
single missing date is never averaged away. It is built from the plan alone: every
due date the plan does not mention is covered (docs/planning.md gives each uncovered due date
exactly one entry).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

from reconciler.core.calendar import count_between, is_scheduled, next_scheduled, progression
from reconciler.core.date_states import DateState
from reconciler.core.pipeline_decisions import due_window
from reconciler.core.plan import Plan
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


def marks_by_pipeline(plan: Plan) -> dict[str, dict[date, DateState]]:
    """What the plan says of each pipeline's uncovered (or re-run) dates, as date states.

    One pass over the plan: a plan can hold 10^5 actions over 10^4 pipelines.
    """
    out: dict[str, dict[date, DateState]] = {}
    for action in plan.actions:
        state: DateState
        if action.kind == "poll":
            state = "in_flight"
        elif action.kind == "retry" or (action.kind == "backfill" and action.request_id):
            # a requested backfill may re-run covered dates: under way, not missing
            state = "retrying"
        elif action.kind == "refresh":
            state = "outdated"
        elif action.kind in ("run", "backfill"):
            state = "gap"
        else:
            continue
        out.setdefault(action.pipeline_id, {}).update(dict.fromkeys(action.dates, state))
    for waiting in plan.waiting:
        if waiting.reason != "upstream":
            state = "retrying"
        else:  # covered dates to refresh after their upstream, or dates held back by it
            state = "outdated" if waiting.refresh else "blocked"
        out.setdefault(waiting.pipeline_id, {}).update(dict.fromkeys(waiting.dates, state))
    for gap in plan.gaps:
        if gap.reason == "retries_exhausted":
            state = "failed"
        else:
            state = "blocked" if gap.reason == "upstream_gap" else "gap"
        out.setdefault(gap.pipeline_id, {}).update(dict.fromkeys(gap.dates, state))
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
) -> str | None:
    """A markdown line: the strip over the due dates, their range and a legend (None if none).

    ``marks``: the pipeline's entry of ``marks_by_pipeline`` when the caller has it.
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
    found = plan_marks(plan, spec.id) if marks is None else marks
    cells = strip(total, {index(d): m for d, m in found.items() if first <= d <= latest}, width)
    per = f"{total / len(cells):.1f}".rstrip("0").rstrip(".") if cells else "0"
    scale = "1 date per cell" if per == "1" else f"~{per} dates per cell"
    shown = [text for state, text in MORE_LEGEND.items() if SYMBOLS[state] in cells]
    legend = ", ".join([LEGEND, *shown])
    return f"Coverage `{cells}` {first} → {latest} ({total} due, {scale}; {legend})"


def strips_for(specs: Sequence[PipelineSpec], plan: Plan) -> Callable[[str], str | None]:
    """Strips by pipeline id, each computed when a renderer asks for it."""
    by_id = {spec.id: spec for spec in specs}
    index: dict[str, dict[date, DateState]] = {}

    def strip_of(pipeline_id: str) -> str | None:
        spec = by_id.get(pipeline_id)
        if spec is None:
            return None
        if not index:
            index.update(marks_by_pipeline(plan) or {"": {}})
        return pipeline_strip(spec, plan, marks=index.get(pipeline_id, {}))

    return strip_of
