"""Whole-pipeline checks pydantic cannot express: templates and literal secrets."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

from reconciler.config.cycles import circles
from reconciler.config.models import AnyPipeline, HttpTrigger
from reconciler.config.secret_shapes import SECRET_KEYS, SECRET_PATTERNS
from reconciler.config.templates import placeholders, unknown_placeholders

Path = tuple[str | int, ...]

# One search per string instead of one per pattern: the group that matched says which.
_SECRET_SCAN = re.compile("|".join(f"({pattern})" for pattern, _, _ in SECRET_PATTERNS))


# For a quick look at a whole file: a literal piece of every SECRET_PATTERNS match (in
# lower case), and any secret-named key as a word (``url`` but not ``url_env``).
SECRET_ANCHORS = (
    "dapi",
    "xox",
    "hooks.slack.com",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "private key",
    "akia",
    "bearer",
    "token=",
    "api_key=",
    "apikey=",
    "sig=",
    "signature=",
)
_SECRET_WORDS = "|".join([*map(re.escape, SECRET_KEYS), "url"])
_SECRET_WORD = re.compile(rf"(?<![a-z0-9_])(?:{_SECRET_WORDS})(?![a-z0-9_])")


def may_hold_secrets(text: str) -> bool:
    """False when ``secret_problems`` cannot find anything in a file with this text.

    A cheap look at the raw text, a tenth of the cost of walking the data: no
    secret-named word, no piece of a secret-shaped value, and no backslash (an escape in
    a quoted scalar could spell either).
    """
    if "\\" in text:
        return True
    low = text.lower()
    return any(anchor in low for anchor in SECRET_ANCHORS) or bool(_SECRET_WORD.search(low))


def _walk(value: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    """Every value below ``value`` (itself included), depth first, with its path."""
    stack = [(path, value)]
    while stack:
        here, item = stack.pop()
        yield here, item
        if isinstance(item, dict):
            stack.extend(((*here, str(k)), v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend(((*here, i), v) for i, v in reversed(list(enumerate(item))))


def _use_env(instead: str) -> str:
    return f"put the value in an environment variable and give its name with {instead!r}"


def secret_problems(raw: Any) -> list[tuple[Path, str]]:
    """Literal secrets in a raw document: secret-named keys, and values shaped like secrets."""
    problems: list[tuple[Path, str]] = []
    for path, value in _walk(raw, ()):
        key = path[-1] if path else None
        if isinstance(key, str) and key.lower() in SECRET_KEYS and value is not None:
            message = "secrets are never written in YAML: " + _use_env(SECRET_KEYS[key.lower()])
            problems.append((path, message))
        elif key == "url" and len(path) >= 3 and path[0] == "notifications" and value is not None:
            problems.append((path, "a notification URL is a secret: " + _use_env("url_env")))
        elif isinstance(value, str):
            found = _SECRET_SCAN.search(value)
            if found is not None and found.lastindex is not None:
                _, what, instead = SECRET_PATTERNS[found.lastindex - 1]
                message = f"this looks like {what}, and secrets are never written in YAML: "
                problems.append((path, message + _use_env(instead)))
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
        reads = enumerate(check.reads)
        fields += [(("quality", "checks", i, "reads", j), r, (), True) for j, r in reads]
    for name, value in pipeline.parameters.items():
        fields.append((("parameters", name), value, (), True))
    problems: list[tuple[Path, str]] = list(_parameter_cycles(pipeline.parameters))
    for path, template, extra, allow_params in fields:
        for message in unknown_placeholders(
            template, params, extra=extra, allow_params=allow_params
        ):
            problems.append((path, message))
    problems += _unbindable(pipeline, {p for p, _ in problems})
    return problems


def _unbindable(pipeline: AnyPipeline, reported: set[Path]) -> Iterator[tuple[Path, str]]:
    """Check SQL whose placeholders cannot all become bound parameters (``"{x}"``).

    A DuckDB check's bound SQL must also parse: a placeholder used as a name
    (``from {param.table}``) is a parameter where a name must be, which only the parser
    sees, and it is better said here than when the check runs.
    """
    from collections import defaultdict

    from reconciler.config.sql_binding import TemplateError, bind

    for i, check in enumerate(pipeline.quality.checks):
        path: Path = ("quality", "checks", i, "sql")
        if path in reported:
            continue
        try:
            bound = bind(check.sql, defaultdict(str), check.engine)
        except TemplateError as exc:
            yield path, str(exc)
            continue
        if check.engine != "duckdb":
            continue
        import duckdb

        try:
            _sql_parser().extract_statements(bound.sql)
        except duckdb.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            why = "a placeholder stands for a value, never for a table, column or other name"
            yield (
                path,
                f"the SQL does not parse once its placeholders are parameters ({first}); {why}",
            )


_parsers = threading.local()


def _sql_parser() -> Any:
    """This thread's parsing-only DuckDB: an empty in-memory database that cannot touch any
    file, made once (connecting costs ~25 ms, parsing a check ~0.03 ms: a fleet with
    checks in every file would otherwise spend seconds connecting)."""
    parser = getattr(_parsers, "duckdb", None)
    if parser is None:
        import duckdb

        parser = _parsers.duckdb = duckdb.connect(
            ":memory:", config={"enable_external_access": False}
        )
    return parser


def _parameter_cycles(parameters: dict[str, str]) -> Iterator[tuple[Path, str]]:
    """Parameters may use each other (``{param.base}/x``) but never in a circle.

    Linear in the parameters and their references: the circles are the strongly
    connected components of the reference graph (``cycles.circles``), so a file with
    thousands of parameters, or references that fan out, validates in an instant.
    """
    refs: dict[str, list[str]] = {}
    for name, value in parameters.items():
        try:
            names = placeholders(value)
        except ValueError:
            continue
        used = (n[len("param.") :] for n in names if n.startswith("param."))
        refs[name] = sorted({n for n in used if n in parameters})
    for name, cycle in circles(list(parameters), refs):
        yield ("parameters", name), f"parameters refer to each other in a circle: {cycle}"


def raw_template_problems(raw: dict[str, Any]) -> list[tuple[Path, str]]:
    """``template_problems`` for a document that failed validation elsewhere.

    Reads the templated fields straight from the parsed YAML (skipping any that are
    not text), so one run reports a bad placeholder beside a bad schedule instead of
    after it is fixed.
    """
    params_raw = raw.get("parameters")
    params = (
        {str(k): v for k, v in params_raw.items() if isinstance(v, str)}
        if isinstance(params_raw, dict)
        else {}
    )
    names = params_raw.keys() if isinstance(params_raw, dict) else ()
    fields: list[tuple[Path, str, tuple[str, ...]]] = []
    trigger = raw.get("trigger")
    if isinstance(trigger, dict):
        for key in ("command", "steps"):
            items = trigger.get(key)
            if isinstance(items, list):
                fields += [
                    (("trigger", key, i), v, ()) for i, v in enumerate(items) if isinstance(v, str)
                ]
        if raw.get("platform") == "http":
            if isinstance(trigger.get("url"), str):
                fields.append((("trigger", "url"), trigger["url"], ()))
            if isinstance(trigger.get("status_url"), str):
                fields.append(
                    (("trigger", "status_url"), trigger["status_url"], ("platform_run_id",))
                )
            if isinstance(trigger.get("body"), dict):
                for path, value in _walk(trigger["body"], ("trigger", "body")):
                    if isinstance(value, str):
                        fields.append((path, value, ()))
    quality = raw.get("quality")
    checks = quality.get("checks") if isinstance(quality, dict) else None
    if isinstance(checks, list):
        for i, check in enumerate(checks):
            if isinstance(check, dict) and isinstance(check.get("sql"), str):
                fields.append((("quality", "checks", i, "sql"), check["sql"], ()))
    fields += [(("parameters", name), value, ()) for name, value in params.items()]
    problems: list[tuple[Path, str]] = list(_parameter_cycles(params))
    for path, template, extra in fields:
        for message in unknown_placeholders(template, names, extra=extra, allow_params=True):
            problems.append((path, message))
    return problems
