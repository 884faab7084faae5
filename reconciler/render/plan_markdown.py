"""A plan as GitHub-flavoured markdown for pull-request comments and job summaries."""

from __future__ import annotations

import json
from collections.abc import Mapping

from reconciler.core.plan import Plan
from reconciler.render.dates import NextDate
from reconciler.render.plan_view import SYMBOLS, build_views, summary_line

MARKER = "<!-- reconciler-plan -->"
LIMIT = 60_000
COLUMNS = ("run", "retry", "backfill", "poll", "gap", "sla")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(
    plan: Plan, adjacency: Mapping[str, NextDate] | None = None, limit: int = LIMIT
) -> str:
    """Summary table plus collapsible details per pipeline, cut to fit under ``limit``."""
    views = build_views(plan, adjacency)
    head = [
        MARKER,
        "### Reconciler plan",
        "",
        f"**{summary_line(plan)}**",
        "",
        f"_Planned at {plan.now.isoformat()}._",
        "",
    ]
    if plan.config_changes:
        head += [
            "#### Config changes",
            "",
            "| pipeline | change | field | old | new |",
            "| --- | --- | --- | --- | --- |",
        ]
        for change in plan.config_changes:
            if not change.fields:
                head.append(f"| `{change.pipeline_id}` | {change.change} | | | |")
            for name, (old, new) in change.fields.items():
                head.append(
                    f"| `{change.pipeline_id}` | {change.change} | `{name}` | "
                    f"`{_cell(json.dumps(old, default=str))}` | "
                    f"`{_cell(json.dumps(new, default=str))}` |"
                )
        head.append("")
    active = [v for v in views if v.lines]
    if active:
        head += [
            "| pipeline | run | retry | backfill | poll | gap | SLA breach |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for v in active:
            cells = " | ".join(str(v.counts.get(c, 0)) for c in COLUMNS)
            head.append(f"| `{v.pipeline_id}` | {cells} |")
        head.append("")
    body: list[str] = []
    for v in active:
        block = [f"<details><summary><code>{v.pipeline_id}</code></summary>", ""]
        for line in v.lines:
            detail = f" — {_cell(line.detail)}" if line.detail else ""
            block.append(f"- {SYMBOLS[line.kind]} **{line.kind}** {line.dates}{detail}")
        block += ["", "</details>", ""]
        body.append("\n".join(block))
    text = "\n".join(head) + "\n"
    omitted: list[str] = []
    for index, details in enumerate(body):
        if len(text) + len(details) > limit - 400:
            omitted = [v.pipeline_id for v in active[index:]]
            break
        text += details + "\n"
    if omitted:
        text += (
            f"\n> **Cut to fit:** details of {len(omitted)} more pipeline(s) were left out "
            f"({', '.join(omitted[:5])}{', ...' if len(omitted) > 5 else ''}); "
            "run `reconciler plan --format json` for the full plan.\n"
        )
    if len(text) > limit:
        cut = text[: limit - 200]
        text = cut[: cut.rfind("\n")] + "\n\n> **Cut to fit:** the plan was truncated.\n"
    return text
