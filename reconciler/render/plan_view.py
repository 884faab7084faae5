"""A plan regrouped per pipeline for people: lines of compressed date runs, shared by renderers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from reconciler.core.plan import Plan
from reconciler.core.plan_records import ActionGroup, Gap, UpstreamDates
from reconciler.render.dates import NextDate, compress, format_spans, instant, next_day
from reconciler.render.waiting_text import gap_detail, spanning, waits_for

SYMBOLS = {
    "poll": "~",
    "retry": "↻",
    "run": "+",
    "backfill": "+",
    "refresh": "±",
    "notify": "✉",
    "waiting": "…",
    "gap": "!",
    "sla": "!",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One row under a pipeline: what, which dates, and the detail that matters."""

    kind: str
    dates: str
    count: int
    detail: str = ""


@dataclass(slots=True)
class PipelineView:
    """``paused``: the pipeline is paused (with its reason, "" for none); ``excluded``:
    due dates its ``exclude`` entries leave out of the plan."""

    pipeline_id: str
    lines: list[Line] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    paused: str | None = None
    excluded: int = 0

    @property
    def shown(self) -> bool:
        return bool(self.lines) or self.paused is not None or self.excluded > 0

    def heading(self) -> str:
        """The pipeline id, and whether it is paused and why."""
        if self.paused is None:
            return self.pipeline_id
        why = f": {self.paused}" if self.paused else ""
        return f"{self.pipeline_id}  (paused{why}; apply starts none of its runs)"

    def excluded_note(self) -> str:
        return _plural(self.excluded, "excluded date") + " left out of the plan"


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


# what a paused pipeline's plan lists but apply does not do
PAUSED_KINDS = frozenset({"run", "retry", "backfill", "refresh", "notify"})
# waiting for the same upstream pipelines, as a refresh or not: (pipeline, refresh, upstreams)
UpstreamKey = tuple[str, bool, tuple[str, ...]]
# runs of waiting dates told together beyond this many: one line, the upstream spanned
UPSTREAM_RUNS = 6


def _upstream_lines(
    found: Mapping[UpstreamKey, list[tuple[date, tuple[UpstreamDates, ...]]]],
    following: Callable[[str], NextDate],
) -> dict[tuple[str, str, str], list[date]]:
    """Dates waiting for upstream dates, a line per run of consecutive dates, each naming
    the upstream dates its run waits for (``waits for upstream orders_daily
    2026-03-01..2026-03-07``); a pipeline waiting in many runs gets one line."""
    out: dict[tuple[str, str, str], list[date]] = {}
    for (pid, refresh, _names), items in found.items():
        items = sorted(items, key=lambda item: item[0])
        nxt = following(pid)
        runs: list[tuple[list[date], list[UpstreamDates]]] = []
        for day, upstream in items:
            if runs and nxt(runs[-1][0][-1]) == day:
                runs[-1][0].append(day)
                runs[-1][1].extend(upstream)
            else:
                runs.append(([day], list(upstream)))
        if len(runs) > UPSTREAM_RUNS:
            runs = [([d for r in runs for d in r[0]], [u for r in runs for u in r[1]])]
        for days, ups in runs:
            detail = waits_for(spanning(ups), refresh)
            out.setdefault((pid, "waiting", detail), []).extend(days)
    return out


def _action_detail(group: ActionGroup, paused: frozenset[str]) -> str:
    kind = group.kind
    if kind == "poll":
        detail = f"run {group.run_id}"
    elif kind == "retry":
        detail = f"attempt {group.attempt}"
    elif kind == "backfill" and group.request_id:
        detail = f"request {group.request_id}, priority {group.priority}"
        if group.reason:
            detail += f": {group.reason}"
    elif kind == "backfill":
        detail = f"priority {group.priority}"
    elif kind == "refresh":
        detail = "outdated: an upstream date re-ran or the version changed"
    elif kind == "notify":
        detail = str(group.event)
    else:
        detail = ""
    if group.pipeline_id in paused and kind in PAUSED_KINDS:
        detail = f"{detail}; paused" if detail else "paused"
    return detail


def _ordinals(dates: Iterable[date]) -> tuple[int, ...]:
    return tuple(d.toordinal() for d in dates)


def build_views(plan: Plan, adjacency: Mapping[str, NextDate] | None = None) -> list[PipelineView]:
    """Group the plan's entries by pipeline; each group's dates compressed into runs.

    Actions and gaps are read as groups told by date ranges, so a pipeline's ten years
    of backfills cost what its few ranges cost, not what its 3,652 dates would.
    """
    views: dict[str, PipelineView] = {}
    lines: dict[tuple[str, str, str], _Spans] = {}
    upstream: dict[UpstreamKey, list[tuple[date, tuple[UpstreamDates, ...]]]] = {}

    def following(pid: str) -> NextDate:
        return (adjacency or {}).get(pid, next_day)

    def view(pid: str) -> PipelineView:
        return views.setdefault(pid, PipelineView(pid))

    def add(key: tuple[str, str, str], spans: Iterable[Sequence[int]], count: int) -> None:
        found = lines.get(key)
        if found is None:
            found = lines[key] = _Spans()
        found.spans.extend(spans)
        found.count += count

    paused = plan.paused_ids()
    for group in plan.action_groups():
        key = (group.pipeline_id, group.kind, _action_detail(group, paused))
        add(key, group.spans, group.date_count)
    for waiting in plan.waiting:
        if waiting.reason == "upstream":
            names = tuple(u.pipeline_id for u in waiting.upstream)
            story = (waiting.pipeline_id, waiting.refresh, names)
            upstream.setdefault(story, []).extend((d, waiting.upstream) for d in waiting.dates)
            continue
        when = instant(waiting.next_retry_at) if waiting.next_retry_at else "later"
        detail = f"attempt {waiting.attempt} due {when}"
        add(
            (waiting.pipeline_id, "waiting", detail),
            (_ordinals(waiting.dates),),
            len(waiting.dates),
        )
    for line, days in _upstream_lines(upstream, following).items():
        add(line, (_ordinals(days),), len(days))
    for gaps in plan.gap_groups():
        detail = gap_detail(Gap(gaps.pipeline_id, (), gaps.reason, gaps.upstream))
        add((gaps.pipeline_id, "gap", detail), gaps.spans, gaps.date_count)
    for breach in plan.sla_breaches:
        detail = f"deadline {instant(breach.deadline)}"
        add((breach.pipeline_id, "sla", detail), ((breach.date.toordinal(),),), 1)
    for (pid, kind, detail), found in lines.items():
        v = view(pid)
        shown = format_spans(found.spans, following(pid))
        v.lines.append(Line(kind=kind, dates=shown, count=found.count, detail=detail))
        v.counts[kind] = v.counts.get(kind, 0) + found.count
    for change in plan.config_changes:
        view(change.pipeline_id)
    for pause in plan.paused:
        view(pause.pipeline_id).paused = pause.reason or ""
    for excluded in plan.excluded:
        view(excluded.pipeline_id).excluded = excluded.dates
    return [views[k] for k in sorted(views)]


@dataclass(slots=True)
class _Spans:
    """The dates of one line, as the spans they came in, and how many they are."""

    spans: list[Sequence[int]] = field(default_factory=list)
    count: int = 0


def summary_line(plan: Plan) -> str:
    """``Plan: 1 run, 30 backfill dates, 2 retries, 3 gaps, 1 SLA breach.``"""
    s = plan.summary
    if not plan.has_changes and not plan.gaps and not plan.sla_breaches and not plan.waiting:
        return "No changes. Coverage is complete and nothing is due."
    parts = [
        _plural(s["run"], "run"),
        _plural(s["backfill"], "backfill date"),
        _plural(s["retry"], "retry", "retries"),
    ]
    if s["refresh"]:
        parts.append(_plural(s["refresh"], "refresh date"))
    if s["poll"]:
        parts.append(_plural(s["poll"], "poll"))
    parts.append(_plural(s["gap"], "gap"))
    parts.append(_plural(len(plan.sla_breaches), "SLA breach", "SLA breaches"))
    # notifications start last, never in a turn of backfills: the turns need not be read
    listed = (plan.actions.head, plan.actions.tail)
    notify = sum(g.run_count for s in listed for g in s.groups() if g.kind == "notify")
    if notify:
        parts.append(_plural(notify, "notification"))
    retrying = upstream = previewed = 0
    for w in plan.waiting:
        if w.reason != "upstream":
            retrying += len(w.dates)
        elif w.refresh:
            previewed += len(w.dates)
        else:
            upstream += len(w.dates)
    if retrying:
        parts.append(f"{retrying} waiting for a retry")
    if upstream:
        parts.append(f"{upstream} waiting for upstream dates")
    if previewed:
        parts.append(f"{previewed} to refresh after their upstream re-runs")
    if plan.paused:
        parts.append(_plural(len(plan.paused), "paused pipeline"))
    excluded = sum(e.dates for e in plan.excluded)
    if excluded:
        parts.append(_plural(excluded, "excluded date"))
    text = "Plan: " + ", ".join(parts)
    if plan.config_changes:
        kinds = [c.change for c in plan.config_changes]
        text += (
            f"; config: {kinds.count('create')} to create, {kinds.count('update')} to update, "
            f"{kinds.count('delete')} to delete"
        )
    return text + "."


def run_count(dates: list[date], following: Callable[[date], date | None] = next_day) -> int:
    """How many compressed runs ``dates`` make (used to size output)."""
    return len(compress(dates, following))
