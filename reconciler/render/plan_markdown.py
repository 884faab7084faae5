"""A plan as GitHub-flavoured markdown for pull-request comments and job summaries."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.core.plan import Plan
from reconciler.render.dates import NextDate, instant
from reconciler.render.plan_view import SYMBOLS, PipelineView, build_views, summary_line

MARKER = "<!-- reconciler-plan -->"
LIMIT = 60_000  # GitHub refuses comments over 65,536 characters; keep a margin
RESERVE = 1_000  # room kept for the "Cut to fit" note
COLUMNS = ("run", "retry", "backfill", "refresh", "poll", "waiting", "gap", "sla")
LABELS = {"sla": "SLA breach"}


def _text(text: str) -> str:
    """Free text (request reasons come from the YAML) that cannot break the markup."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _code(value: Any) -> str:
    text = json.dumps(value, default=str).replace("|", "\\|").replace("\n", " ")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _config_rows(plan: Plan) -> list[str]:
    rows = []
    for change in plan.config_changes:
        pid = f"`{change.pipeline_id}`"
        if not change.fields:
            rows.append(f"| {pid} | {change.change} | | | |")
        for name, (old, new) in change.fields.items():
            rows.append(f"| {pid} | {change.change} | `{name}` | {_code(old)} | {_code(new)} |")
    return rows


def _details(view: PipelineView, strip: str | None = None) -> str:
    counts = ", ".join(f"{n} {LABELS.get(k, k)}" for k, n in view.counts.items())
    if view.paused is not None:
        counts = f"{counts}; paused" if counts else "paused"
    block = [f"<details><summary><code>{view.pipeline_id}</code> ({counts})</summary>", ""]
    if strip:
        block += [strip, ""]
    if view.paused is not None:
        why = f": {_text(view.paused)}" if view.paused else ""
        block.append(f"- ⏸ **paused**{why} — apply starts none of the runs below")
    if view.excluded:
        block.append(f"- **excluded**: {view.excluded_note()}")
    for line in view.lines:
        detail = f" — {_text(line.detail)}" if line.detail else ""
        block.append(f"- {SYMBOLS[line.kind]} **{line.kind}** {line.dates}{detail}")
    block += ["", "</details>", ""]
    return "\n".join(block) + "\n"


def _take(parts: list[str], used: int, budget: int) -> int:
    """How many of ``parts`` (each with its newline) fit after ``used`` characters."""
    taken = 0
    for part in parts:
        used += len(part) + 1
        if used > budget:
            break
        taken += 1
    return taken


def _names(ids: list[str]) -> str:
    shown = ", ".join(ids[:5])
    return f"{shown}, ..." if len(ids) > 5 else shown


def render_markdown(
    plan: Plan,
    adjacency: Mapping[str, NextDate] | None = None,
    limit: int = LIMIT,
    strip_for: Callable[[str], str | None] | None = None,
) -> str:
    """Summary table plus collapsible details per pipeline, cut to fit under ``limit``.

    Sections fill in order (config changes, the per-pipeline table, the details) while
    they fit; whatever does not is named in a closing "Cut to fit" note. ``strip_for``
    gives a pipeline's coverage strip (``render.coverage_strip.strips_for``), shown at
    the top of its details; it is asked only for the details that fit.
    """
    views = [v for v in build_views(plan, adjacency) if v.shown]
    budget = limit - RESERVE
    lines = [MARKER, "### Reconciler plan", "", f"**{summary_line(plan)}**", ""]
    lines += [f"_Planned at {instant(plan.now)}._", ""]
    left_out: list[str] = []

    def section(header: list[str], rows: list[str], what: str, share: int) -> None:
        used = sum(len(x) + 1 for x in lines)
        taken = _take(rows, used + sum(len(x) + 1 for x in header), share)
        if taken:
            lines.extend([*header, *rows[:taken], ""])
        if taken < len(rows):
            left_out.append(f"{len(rows) - taken} {what}")

    if plan.config_changes:
        header = ["#### Config changes", ""]
        header += ["| pipeline | change | field | old | new |", "| --- | --- | --- | --- | --- |"]
        # config changes may take half the room, so the pipeline table always shows
        share = budget // 2 if views else budget
        section(header, _config_rows(plan), "config change row(s)", share)
    if views:
        header = ["| pipeline | " + " | ".join(LABELS.get(c, c) for c in COLUMNS) + " |"]
        header.append("| --- |" + " ---: |" * len(COLUMNS))
        rows = [
            f"| `{v.pipeline_id}` | " + " | ".join(str(v.counts.get(c, 0)) for c in COLUMNS) + " |"
            for v in views
        ]
        section(header, rows, "row(s) of the pipeline table", budget)
    text = "\n".join(lines) + "\n"
    taken, used = 0, len(text)
    for view in views:
        block = _details(view, strip_for(view.pipeline_id) if strip_for else None)
        used += len(block) + 1
        if used > budget:
            break
        text += block
        taken += 1
    if taken < len(views):
        omitted = [v.pipeline_id for v in views[taken:]]
        left_out.append(f"the details of {len(omitted)} pipeline(s) ({_names(omitted)})")
    if left_out:
        text += (
            f"\n> **Cut to fit:** left out {'; '.join(left_out)}. "
            "Run `reconciler plan --format json` for the full plan.\n"
        )
    if len(text) > limit:  # only if the fixed head alone overflows a tiny limit
        cut = text[: max(limit - 60, 0)]
        text = cut[: cut.rfind("\n") + 1] + "\n> **Cut to fit:** the plan was truncated.\n"
    return text
