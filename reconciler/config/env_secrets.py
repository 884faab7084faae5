"""The environment variables a pipeline names (``trigger.token_env``, each notification's
``url_env``...) and which of them are missing: checked before a pass starts anything.

A trigger's variable missing or empty blocks the pipeline: every start would fail the
same way, using up an attempt for something only the environment can fix. A
notification's variable only warns: runs go on, and the outbox tries such a
notification again in later passes (up to its attempt limit), so it is sent if the
variable is set in time. Only names are read from the config and only presence from
the environment: a value is never kept, so it cannot be printed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.errors import Problem
from reconciler.line_safety import safe_line

if TYPE_CHECKING:
    from reconciler.config.loading import LoadedPipeline

# what each variable should hold, for the message (the same words the adapters use)
TRIGGER_SECRETS: dict[tuple[str, str], str] = {
    ("databricks", "token_env"): "a Databricks token",
    ("dbt", "token_env"): "a dbt Cloud API token",
    ("snowflake", "token_env"): "a Snowflake token",
    ("http", "headers_env"): "a JSON object of headers",
}
NOTIFICATION_SECRETS: dict[tuple[str, str], str] = {
    ("slack", "url_env"): "a Slack webhook URL",
    ("webhook", "url_env"): "a webhook URL",
    ("webhook", "secret_env"): "a webhook signing secret",
    ("email", "username_env"): "an SMTP user name",
    ("email", "password_env"): "an SMTP password",
}


def unset_message(name: str, what: str) -> str:
    """The one wording of a missing variable, shared by the preflight and the adapters."""
    return f"environment variable {name} is not set (it should hold {what})"


def is_set(env: Mapping[str, str], name: str) -> bool:
    """Whether ``name`` holds something other than blanks."""
    return bool(env.get(name, "").strip())


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvNeed:
    """One variable a pipeline's config names, and where (a document path)."""

    path: tuple[str | int, ...]
    variable: str
    what: str
    blocking: bool  # a trigger's: nothing can start without it

    @property
    def field(self) -> str:
        out = ""
        for item in self.path:
            out += f"[{item}]" if isinstance(item, int) else (f".{item}" if out else item)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvProblem:
    """A variable a pipeline needs that is missing or empty, located at its key."""

    pipeline_id: str
    file: str
    line: int
    col: int
    field: str
    variable: str
    message: str
    blocking: bool

    @property
    def severity(self) -> str:
        return "blocked" if self.blocking else "warning"

    @property
    def consequence(self) -> str:
        if self.blocking:
            return "its runs are not started until it is set"
        return "its notifications are not sent until it is set"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        return safe_line(f"{where}: pipeline {self.pipeline_id}: {self.field}: {self.message}")

    def as_problem(self) -> Problem:
        """The same, as a config problem (for annotations)."""
        return Problem(
            file=self.file,
            line=self.line,
            col=self.col,
            field=self.field,
            message=f"pipeline {self.pipeline_id}: {self.message}",
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "pipeline_id": self.pipeline_id,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "field": self.field,
            "variable": self.variable,
            "message": self.message,
        }


def env_needs(flat: Mapping[str, Any]) -> list[EnvNeed]:
    """The variables named by a pipeline's flat config (``LoadedPipeline.flat``: known
    without validating the model again), its trigger's first."""
    platform = str(flat.get("platform", ""))
    needs = [
        EnvNeed(path=("trigger", key), variable=name, what=what, blocking=True)
        for (kind, key), what in TRIGGER_SECRETS.items()
        if kind == platform and isinstance(name := flat.get(f"trigger.{key}"), str)
    ]
    channels = flat.get("notifications") or []
    for index, channel in enumerate(channels):
        if not isinstance(channel, Mapping):
            continue
        for (kind, key), what in NOTIFICATION_SECRETS.items():
            name = channel.get(key)
            if kind == channel.get("channel") and isinstance(name, str):
                path = ("notifications", index, key)
                needs.append(EnvNeed(path=path, variable=name, what=what, blocking=False))
    return needs


def env_problems(pipelines: Iterable[LoadedPipeline], env: Mapping[str, str]) -> list[EnvProblem]:
    """Every variable the pipelines name that ``env`` lacks (or holds only blanks), in
    pipeline order, each at the position of its key (of the section, for a default)."""
    out: list[EnvProblem] = []
    for pipeline in pipelines:
        missing = [n for n in env_needs(pipeline.flat) if not is_set(env, n.variable)]
        if not missing:
            continue
        source = pipeline.source  # parsed again only for a pipeline with a problem
        for need in missing:
            # the key, or for a default not written (``token_env``) its section's key
            found = (source.keys.get(need.path[:n]) for n in range(len(need.path), 0, -1))
            mark = next((m for m in found if m is not None), None) or source.locate(need.path)
            out.append(
                EnvProblem(
                    pipeline_id=pipeline.id,
                    file=pipeline.file,
                    line=mark.line,
                    col=mark.col,
                    field=need.field,
                    variable=need.variable,
                    message=unset_message(need.variable, need.what),
                    blocking=need.blocking,
                )
            )
    return out


def blocked_pipelines(problems: Iterable[EnvProblem]) -> frozenset[str]:
    """The pipelines that cannot start: a trigger variable is missing."""
    return frozenset(p.pipeline_id for p in problems if p.blocking)
