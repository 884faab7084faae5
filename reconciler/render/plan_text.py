"""A plan as terminal text, grouped by pipeline, with Terraform-like symbols."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click

from reconciler.core.plan import Plan
from reconciler.render.dates import NextDate, instant
from reconciler.render.plan_view import SYMBOLS, build_views, summary_line

COLOURS = {
    "poll": "cyan",
    "retry": "yellow",
    "run": "green",
    "backfill": "green",
    "refresh": "blue",
    "notify": "magenta",
    "waiting": "yellow",
    "gap": "red",
    "sla": "red",
    "create": "green",
    "update": "yellow",
    "delete": "red",
}
LABELS = {"sla": "SLA breach"}


def _value(value: Any) -> str:
    return json.dumps(value, default=str)


def render_text(
    plan: Plan, adjacency: Mapping[str, NextDate] | None = None, colour: bool = False
) -> str:
    """The plan for a terminal; ``colour`` adds ANSI styles."""

    def style(text: str, kind: str, bold: bool = False) -> str:
        return click.style(text, fg=COLOURS.get(kind), bold=bold) if colour else text

    out = [f"Reconciler plan at {instant(plan.now)}", ""]
    if plan.config_changes:
        out.append("Config changes:")
        for change in plan.config_changes:
            symbol = {"create": "+", "update": "~", "delete": "-"}[change.change]
            note = {
                "create": "create",
                "update": "update",
                "delete": "delete; stops it, keeps its history",
            }[change.change]
            out.append(style(f"  {symbol} {change.pipeline_id} ({note})", change.change))
            for name, (old, new) in change.fields.items():
                out.append(f"      {name}: {_value(old)} -> {_value(new)}")
        out.append("")
    for view in build_views(plan, adjacency):
        if not view.shown:
            continue
        out.append(style(view.heading(), "", bold=True))
        if view.excluded:
            out.append(f"  - {'excluded':<10} {view.excluded_note()}")
        for line in view.lines:
            label = LABELS.get(line.kind, line.kind)
            text = f"  {SYMBOLS[line.kind]} {label:<10} {line.dates}"
            if line.detail:
                text += f"  [{line.detail}]"
            out.append(style(text, line.kind))
        out.append("")
    out.append(style(summary_line(plan), "", bold=True))
    return "\n".join(out) + "\n"
