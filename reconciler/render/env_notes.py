"""The plan's note on variables missing from the environment, in text and markdown.

A pipeline whose trigger variable is missing is shown as blocked: its actions stay in the
plan (they are what the config asks for), but ``apply`` starts none of them until the
variable is set. A notification's variable only warns. Names only: never a value.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from reconciler.config.env_secrets import EnvProblem

HEADLINE = "Environment (apply starts no run of a blocked pipeline until its variable is set):"


def _where(problem: EnvProblem) -> str:
    return f"{problem.file}:{problem.line}:{problem.col}"


def env_notes_text(problems: Sequence[EnvProblem]) -> str:
    """``dbx: blocked: environment variable ... (pipelines.d/dbx.yaml:6:3)``, one a line."""
    if not problems:
        return ""
    lines = [f"  {p.pipeline_id}: {p.severity}: {p.message} ({_where(p)})" for p in problems]
    return "\n".join(["", HEADLINE, *lines]) + "\n"


def env_notes_markdown(problems: Sequence[EnvProblem]) -> str:
    """The same as a markdown list under its own heading."""
    if not problems:
        return ""

    def item(p: EnvProblem) -> str:
        text = html.escape(f"{p.severity}: {p.message}", quote=False)
        return f"- **{p.pipeline_id}**: {text} (`{_where(p)}`)"

    return "\n".join(["", f"**{HEADLINE}**", "", *map(item, problems)]) + "\n"
