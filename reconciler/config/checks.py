"""Whole-pipeline checks pydantic cannot express: templates and literal secrets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from reconciler.config.models import AnyPipeline, HttpTrigger
from reconciler.config.templates import placeholders, unknown_placeholders

Path = tuple[str | int, ...]

# Keys that must never hold a value in YAML, and the key to use instead.
SECRET_KEYS = {
    "token": "token_env",
    "api_token": "token_env",
    "access_token": "token_env",
    "api_key": "token_env",
    "apikey": "token_env",
    "password": "password_env",
    "passwd": "password_env",
    "secret": "secret_env",
    "headers": "headers_env",
    "webhook_url": "url_env",
}
# Shapes of well-known credentials, wherever they appear.
SECRET_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bdapi[0-9a-f]{32}\b"), "a Databricks token"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (re.compile(r"hooks\.slack\.com/services/"), "a Slack webhook URL"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"), "a GitHub token"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "an AWS access key"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{16,}"), "a bearer token"),
    (
        re.compile(r"(?i)[?&](token|access_token|api_key|apikey|sig|signature)=[^&\s]{8,}"),
        "a credential in a URL query",
    ),
]


def _walk(value: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))


def secret_problems(raw: Any) -> list[tuple[Path, str]]:
    """Literal secrets in a raw document: secret-named keys, and values shaped like secrets."""
    problems: list[tuple[Path, str]] = []
    for path, value in _walk(raw, ()):
        key = path[-1] if path else None
        if isinstance(key, str) and key.lower() in SECRET_KEYS and value is not None:
            instead = SECRET_KEYS[key.lower()]
            problems.append(
                (
                    path,
                    f"secrets are not written in YAML: put the value in an environment "
                    f"variable and name it with {instead!r}",
                )
            )
        elif key == "url" and len(path) >= 3 and path[0] == "notifications" and value is not None:
            problems.append(
                (
                    path,
                    "a notification URL is a secret: put it in an environment variable "
                    "and name it with 'url_env'",
                )
            )
        elif isinstance(value, str):
            for pattern, what in SECRET_PATTERNS:
                if pattern.search(value):
                    problems.append(
                        (
                            path,
                            f"this looks like {what}; secrets come from the environment "
                            "(token_env, url_env, password_env), never from YAML",
                        )
                    )
                    break
    return problems


def template_problems(pipeline: AnyPipeline) -> list[tuple[Path, str]]:
    """Unknown or malformed ``{placeholders}`` in every templated field."""
    params = pipeline.parameters.keys()
    fields: list[tuple[Path, str, tuple[str, ...], bool]] = []
    trigger = pipeline.trigger
    command = getattr(trigger, "command", None)
    if command is not None:
        fields += [(("trigger", "command", i), arg, (), True) for i, arg in enumerate(command)]
    steps = getattr(trigger, "steps", None)
    if steps is not None:
        fields += [(("trigger", "steps", i), step, (), True) for i, step in enumerate(steps)]
    if isinstance(trigger, HttpTrigger):
        fields.append((("trigger", "url"), trigger.url, (), True))
        if trigger.status_url is not None:
            fields.append(
                (("trigger", "status_url"), trigger.status_url, ("platform_run_id",), True)
            )
        if trigger.body is not None:
            for path, value in _walk(trigger.body, ("trigger", "body")):
                if isinstance(value, str):
                    fields.append((path, value, (), True))
    for i, check in enumerate(pipeline.quality.checks):
        fields.append((("quality", "checks", i, "sql"), check.sql, (), True))
    for name, value in pipeline.parameters.items():
        fields.append((("parameters", name), value, (), True))
    problems: list[tuple[Path, str]] = list(_parameter_cycles(pipeline.parameters))
    for path, template, extra, allow_params in fields:
        for message in unknown_placeholders(
            template, params, extra=extra, allow_params=allow_params
        ):
            problems.append((path, message))
    return problems


def _parameter_cycles(parameters: dict[str, str]) -> Iterator[tuple[Path, str]]:
    """Parameters may use each other (``{param.base}/x``) but never in a circle."""
    refs: dict[str, set[str]] = {}
    for name, value in parameters.items():
        try:
            names = placeholders(value)
        except ValueError:
            continue
        refs[name] = {n[len("param.") :] for n in names if n.startswith("param.")} & set(parameters)
    for name in parameters:
        trail = [name]
        stack = [(name, iter(sorted(refs.get(name, ()))))]
        while stack:
            _node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                trail.pop()
                continue
            if child == name:
                cycle = " -> ".join([*trail, child])
                yield ("parameters", name), f"parameters refer to each other in a circle: {cycle}"
                stack.clear()
                break
            if child in trail:
                continue
            trail.append(child)
            stack.append((child, iter(sorted(refs.get(child, ())))))
