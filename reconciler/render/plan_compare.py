"""A plan comparison (``plan --compare-to``) as sentences for people: text and markdown.

Each date delta becomes one sentence a reviewer can act on, such as
"+365 backfill dates for orders_daily because schedule.start moved from 2024-01-01
to 2023-01-01", followed by the dates themselves, compressed into runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from reconciler.core.day_sets import DaySet
from reconciler.core.plan_diff import DateDelta, PlanComparison, RequestChange
from reconciler.core.spec import BackfillRequest
from reconciler.render.annotations import escape_data, escape_property
from reconciler.render.dates import NextDate, format_dates, format_spans, next_day

# per kind, the fields whose change can move its dates in or out of the plan; others
# (names, triggers, notifications) are listed as config changes, never given as reasons
DATE_FIELDS = {
    "run": ("schedule.",),
    "backfill": ("schedule.", "backfill.auto"),
    "retry": ("retry.", "schedule."),
    "waiting": ("retry.", "schedule."),
    "refresh": ("version", "refresh_on_", "depends_on"),
    "waiting_upstream": ("schedule.", "depends_on"),
    "refresh_preview": ("depends_on", "refresh_on_"),
    "gap": ("schedule.", "backfill.auto", "retry.", "depends_on"),
    "notify": ("sla.", "schedule."),
    "poll": (),
}
MOVED_FIELDS = ("schedule.start", "schedule.end")
# how each kind is named in sentences ("+7 refresh-after-upstream dates for revenue")
KIND_WORDS = {
    "waiting": "waiting-for-retry",
    "waiting_upstream": "waiting-for-upstream",
    "refresh_preview": "refresh-after-upstream",
}
# why dates of a pipeline whose own config did not change moved: its upstreams did
UPSTREAM_REASONS = {
    "refresh_preview": "once upstream {} re-runs",
    "waiting_upstream": "waiting for upstream {}",
    "gap": "because upstream {} will not run them",
}
HALF = 2  # the comparison may take at most 1/HALF of a markdown budget


@dataclass(frozen=True, slots=True)
class Guard:
    """The ``--max-new-dates`` limit, for renderers to say whether the change passes it."""

    limit: int

    def exceeded(self, comparison: PlanComparison) -> bool:
        return comparison.undeclared_dates > self.limit


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def request_text(request: BackfillRequest) -> str:
    text = f"{request.start.isoformat()}..{request.end.isoformat()}, priority {request.priority}"
    return f"{text} ({request.reason})" if request.reason else text


def _request_reason(change: RequestChange, delta: DateDelta) -> str:
    if change.change == "added":
        return f"from request {change.request_id}, added by this change"
    if change.change == "removed":
        return f"because request {change.request_id} was removed"
    assert change.old is not None and change.new is not None
    return (
        f"because request {change.request_id} changed from "
        f"{request_text(change.old)} to {request_text(change.new)}"
    )


def reason(comparison: PlanComparison, delta: DateDelta) -> str:
    """Why the dates of ``delta`` moved, from the config changes of its pipeline."""
    change = comparison.change_of(delta.pipeline_id)
    if change == "create":
        return "because the pipeline is new"
    if change == "delete":
        return "because the pipeline is deleted"
    if delta.request_id is not None:
        for request in comparison.requests:
            if (request.pipeline_id, request.request_id) == (delta.pipeline_id, delta.request_id):
                return _request_reason(request, delta)
    fields = comparison.changed_fields(delta.pipeline_id)
    parts = []
    relevant = DATE_FIELDS.get(delta.kind, ())
    for name, (old, new) in fields.items():
        if not name.startswith(relevant):
            continue
        verb = "moved" if name in MOVED_FIELDS else "changed"
        parts.append(f"{name} {verb} from {_value(old)} to {_value(new)}")
    if parts:
        return "because " + " and ".join(parts)
    if fields or any(r.pipeline_id == delta.pipeline_id for r in comparison.requests):
        return "because of this pipeline's config change"
    told = UPSTREAM_REASONS.get(delta.kind)
    if told and delta.upstream:
        return told.format(", ".join(delta.upstream))
    return ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One direction of a delta: ``+365 backfill dates for orders_daily`` and why."""

    sign: str  # "+" or "-"
    kind: str  # the plan kind, in words ("waiting-for-retry" for waiting)
    pipeline_id: str
    dates: Sequence[date]  # ascending (a ``DaySet``: ranges)
    why: str  # "because ..." or ""

    @property
    def count(self) -> str:
        """``+365``."""
        return f"{self.sign}{len(self.dates)}"

    @property
    def noun(self) -> str:
        """``backfill dates``."""
        return f"{self.kind} date{'s' if len(self.dates) != 1 else ''}"

    @property
    def head(self) -> str:
        """``+365 backfill dates``."""
        return f"{self.count} {self.noun}"

    @property
    def text(self) -> str:
        """``+365 backfill dates for orders_daily``."""
        return f"{self.head} for {self.pipeline_id}"

    @property
    def told(self) -> str:
        """The sentence and its reason, as one line."""
        return f"{self.text} {self.why}".strip()


def sentence(comparison: PlanComparison, delta: DateDelta) -> list[Change]:
    """The added and the removed dates of ``delta``, each as a ``Change`` (if any)."""
    kind = KIND_WORDS.get(delta.kind, delta.kind)
    why = reason(comparison, delta)
    return [
        Change(sign=sign, kind=kind, pipeline_id=delta.pipeline_id, dates=dates, why=why)
        for sign, dates in (("+", delta.added), ("-", delta.removed))
        if dates
    ]


def headline(comparison: PlanComparison) -> str:
    """``+365 / -0 dates; 365 new dates to start, 0 of them declared by a backfill request.``

    Refreshes (due now, or once their upstream dates have re-run) are named: a request on
    one pipeline can refresh years of its dependants."""
    if comparison.is_empty:
        return "No difference: the plan is the same with and without this change."
    refresh = comparison.refresh_dates
    refreshes = f" ({refresh} of them refreshes of covered dates)" if refresh else ""
    return (
        f"+{comparison.added} / -{comparison.removed} dates in the plan; "
        f"{_plural(comparison.new_dates, 'new date')} to start{refreshes}, "
        f"{comparison.declared_dates} of them declared by a backfill request in this change."
    )


def undeclared(comparison: PlanComparison) -> list[DateDelta]:
    """Deltas that add dates to start without a request of this change, largest first."""
    deltas = [d for d in comparison.deltas if d.new and not comparison.declared(d)]
    return sorted(deltas, key=lambda d: -d.new)


def guard_message(comparison: PlanComparison, guard: Guard) -> str:
    """The one-line refusal of ``--max-new-dates``."""
    named = []
    for delta in undeclared(comparison)[:3]:
        named.append(sentence(comparison, replace(delta, removed=()))[0].told)
    return (
        f"this change adds {comparison.undeclared_dates} date(s) to run, more than "
        f"--max-new-dates {guard.limit} ({'; '.join(named)}); declare them as a backfill "
        "request (backfill.requests in the pipeline file) to run them deliberately, "
        "or raise --max-new-dates"
    )


def shown_dates(dates: Sequence[date], following: NextDate) -> str:
    """The dates compressed into runs; a ``DaySet`` by its ranges, not date by date."""
    if isinstance(dates, DaySet):
        return format_spans(dates.spans(), following)
    return format_dates(dates, following)


def _following(adjacency: Mapping[str, NextDate] | None, pid: str) -> NextDate:
    return (adjacency or {}).get(pid, next_day)


def render_compare_text(
    comparison: PlanComparison,
    base_label: str,
    adjacency: Mapping[str, NextDate] | None = None,
    guard: Guard | None = None,
) -> str:
    """The comparison for a terminal, grouped by pipeline."""
    out = [f"Change against {base_label}: {headline(comparison)}"]
    pids = sorted(
        {c.pipeline_id for c in comparison.config_changes}
        | {d.pipeline_id for d in comparison.deltas}
        | {r.pipeline_id for r in comparison.requests}
    )
    for pid in pids:
        change = comparison.change_of(pid) or "update"
        symbol = {"create": "+", "update": "~", "delete": "-"}[change]
        note = change
        if comparison.change_of(pid) is None and not any(
            r.pipeline_id == pid for r in comparison.requests
        ):
            note = "unchanged: its upstream changes"
        out.append(f"  {symbol} {pid} ({note})")
        for name, (old, new) in comparison.changed_fields(pid).items():
            out.append(
                f"      {name}: {json.dumps(old, default=str)} -> {json.dumps(new, default=str)}"
            )
        for request in comparison.requests:
            if request.pipeline_id == pid:
                shown = request.new or request.old
                assert shown is not None
                out.append(
                    f"      {request.change} request {request.request_id}: {request_text(shown)}"
                )
        following = _following(adjacency, pid)
        for delta in comparison.deltas:
            if delta.pipeline_id != pid:
                continue
            for said in sentence(comparison, delta):
                detail = f" {said.why}" if said.why else ""
                out.append(f"      {said.head}{detail}: {shown_dates(said.dates, following)}")
    if guard is not None and guard.exceeded(comparison):
        out.append(f"  ! guard: {guard_message(comparison, guard)}")
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _md_code(value: Any) -> str:
    text = json.dumps(value, default=str).replace("|", "\\|").replace("\n", " ")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def render_compare_markdown(
    comparison: PlanComparison,
    base_label: str,
    adjacency: Mapping[str, NextDate] | None = None,
    guard: Guard | None = None,
    budget: int = 30_000,
) -> str:
    """Markdown: the headline, a bullet per delta, the changed fields; cut to ``budget``."""
    head = [f"#### What this change does (against `{_md(base_label)}`)", ""]
    head += [f"**{headline(comparison)}**", ""]
    if guard is not None and guard.exceeded(comparison):
        head += [f"> **Mass-backfill guard:** {_md(guard_message(comparison, guard))}", ""]
    bullets = []
    for delta in comparison.deltas:
        following = _following(adjacency, delta.pipeline_id)
        for said in sentence(comparison, delta):
            because = f" {_md(said.why)}" if said.why else ""
            bullets.append(
                f"- **{said.count}** {said.noun} for "
                f"`{said.pipeline_id}`{because} — {shown_dates(said.dates, following)}"
            )
    for request in comparison.requests:
        shown = request.new or request.old
        assert shown is not None
        bullets.append(
            f"- request `{_md(request.request_id)}` of `{request.pipeline_id}` {request.change}: "
            f"{_md(request_text(shown))}"
        )
    rows = []
    for change in comparison.config_changes:
        pid = f"`{change.pipeline_id}`"
        if not change.fields:
            rows.append(f"| {pid} | {change.change} | | | |")
        for name, (old, new) in change.fields.items():
            rows.append(
                f"| {pid} | {change.change} | `{name}` | {_md_code(old)} | {_md_code(new)} |"
            )
    table = ["", "| pipeline | change | field | old (base) | new (this change) |"]
    table.append("| --- | --- | --- | --- | --- |")
    reserve = 300  # room for the closing "left out" note
    used = sum(len(x) + 1 for x in head)
    out = list(head)
    left_out = 0
    for line in bullets:
        if used + len(line) + 1 > budget - reserve:
            left_out += 1
            continue
        out.append(line)
        used += len(line) + 1
    if rows:
        table_used = sum(len(x) + 1 for x in table)
        if used + table_used < budget - reserve:
            out += table
            used += table_used
            for row in rows:
                if used + len(row) + 1 > budget - reserve:
                    left_out += 1
                    continue
                out.append(row)
                used += len(row) + 1
        else:
            left_out += len(rows)
    if left_out:
        out += [
            "",
            f"> **Cut to fit:** left out {left_out} line(s) of the comparison; "
            "the JSON plan has all of it.",
        ]
    return "\n".join(out) + "\n\n"


Where = tuple[str, int, int]  # file, line, col


def guard_annotations(
    comparison: PlanComparison, guard: Guard, where: Mapping[str, Where], limit: int = 10
) -> list[str]:
    """``::error`` workflow commands, one per pipeline delta that trips the guard."""
    out = []
    for delta in undeclared(comparison)[:limit]:
        said = sentence(comparison, replace(delta, removed=()))[0]
        file, line, col = where.get(delta.pipeline_id, ("", 1, 1))
        props = [f"file={escape_property(file)}", f"line={line}", f"col={col}"] if file else []
        props.append(
            f"title={escape_property(f'mass-backfill guard (--max-new-dates {guard.limit})')}"
        )
        if delta.kind in ("refresh", "refresh_preview"):
            advice = (
                "; an upstream change makes them outdated: raise --max-new-dates to let it, "
                "or narrow the upstream's request"
            )
        else:
            advice = (
                "; declare them as a backfill request (backfill.requests) to run them deliberately"
            )
        message = said.told + advice
        out.append(f"::error {','.join(props)}::{escape_data(message)}")
    return out
