"""Validating one parsed pipeline document: pydantic, then the checks pydantic cannot do,
every problem located at its file, line and column.

Split from ``loading`` so that a pass whose files all come from the config cache never
imports pydantic or the models.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from reconciler.config import messages
from reconciler.config.checks import (
    may_hold_secrets,
    raw_template_problems,
    secret_problems,
    template_problems,
)
from reconciler.config.models import PIPELINE_ADAPTER, AnyPipeline, LocalPipeline
from reconciler.config.secret_shapes import mask
from reconciler.config.yaml_source import Document, SourceMap
from reconciler.config.yaml_source import Path as DocPath
from reconciler.errors import Problem


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for item in path:
        out += f"[{item}]" if isinstance(item, int) else (f".{item}" if out else item)
    return out


class _AnyPlatform(LocalPipeline):
    """Everything but the trigger, for a file whose platform is missing or unknown."""

    platform: Any = None
    trigger: Any


@cache
def _any_platform() -> TypeAdapter[_AnyPlatform]:
    return TypeAdapter(_AnyPlatform)


def _document_loc(loc: tuple[str | int, ...], raw: dict[str, Any], tagged: bool) -> DocPath:
    """A validation location without the tags of tagged unions (``local``, ``slack``).

    Tags are dropped by position, not by name, so a key that happens to be called
    ``local`` still locates correctly.
    """
    if tagged and loc and loc[0] == raw.get("platform"):
        loc = loc[1:]
    if len(loc) > 3 and loc[0] == "notifications" and isinstance(loc[1], int):
        items = raw.get("notifications")
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        if isinstance(item, dict) and loc[2] == item.get("channel"):
            loc = (*loc[:2], *loc[3:])
    return loc


def _with_parameter_texts(raw: dict[str, Any], source: SourceMap) -> dict[str, Any]:
    """Parameters as written: ``version: 1.10`` is the text "1.10", not the number 1.1."""
    params = raw.get("parameters")
    if not isinstance(params, dict):
        return raw
    texts = {
        key: source.texts[("parameters", key)]
        for key, value in params.items()
        if value is not None
        and not isinstance(value, str)
        and isinstance(key, str | int)
        and ("parameters", key) in source.texts
    }
    return {**raw, "parameters": {**params, **texts}} if texts else raw


def _with_version_text(raw: dict[str, Any], source: SourceMap) -> dict[str, Any]:
    """``version`` as written: ``version: 1.10`` is "1.10", ``2024-06-01`` a text too."""
    value = raw.get("version")
    if isinstance(value, float | date) and ("version",) in source.texts:
        return {**raw, "version": source.texts[("version",)]}
    return raw


def _error_problems(
    errors: list[tuple[Any, bool]], raw: dict[str, Any], source: SourceMap, skip: set[DocPath]
) -> list[tuple[DocPath, str, bool]]:
    """Pydantic errors (each with whether it came through the platform union) as
    (document path, message, about the key), one per field."""
    # per path: (what was expected, what was found) for type errors, and the message
    out: dict[DocPath, list[tuple[tuple[str, str] | None, str]]] = {}
    keys: set[DocPath] = set()
    for error, tagged in errors:
        loc = _document_loc(tuple(error["loc"]), raw, tagged)
        kind = error["type"]
        path = source.resolve(loc)
        if kind == "missing":
            # the key is not in the document: name it, and point at its parent
            parent = source.resolve(loc[:-1])
            path = (*parent, loc[-1])
            message = f"required key {str(loc[-1])!r} is missing"
        elif kind == "union_tag_not_found":
            tag = str((error.get("ctx") or {}).get("discriminator", "")).strip("'")
            path = (*path, tag)
            message = f"required key {tag!r} is missing"
        elif kind == "union_tag_invalid":
            ctx = error.get("ctx") or {}
            tag = str(ctx.get("discriminator", "")).strip("'")
            path = (*path, tag)
            value = ctx.get("tag", "")
            message = f"unknown {tag} {value!r}; expected one of {ctx.get('expected_tags', '')}"
        elif kind == "extra_forbidden":
            message = messages.unknown_key(raw, loc)
            keys.add(path)
        elif loc[-1:] == ("[key]",):  # a mapping key, not its value, is wrong
            path = source.resolve(loc[:-1])
            message = f"expected {messages.key_expected(loc)}, found {messages.found(loc[-2])}"
            keys.add(path)
        else:
            what = messages.expected(error)
            if len(path) >= 2 and path[-2] == "days" and path[:1] == ("schedule",):
                what = messages.days_expected(raw)
            if what is not None:
                found = messages.found(error["input"])
                out.setdefault(path, []).append(((what, found), f"expected {what}, found {found}"))
                continue
            relative, message = messages.relative_field(str(error["msg"]))
            if relative:
                full = (*path, *relative)
                path = source.resolve(full)
                if path != full:  # a field that is not written: name it in the text
                    message = f"{_dotted(full[len(path) :])}: {message}"
        out.setdefault(path, []).append((None, message))
    problems: list[tuple[DocPath, str, bool]] = []
    for path, entries in out.items():
        if any(path[: len(s)] == s for s in skip):
            continue  # a literal secret was reported here; never echo it back
        types = [t for t, _ in entries if t is not None]
        if len(types) > 1 and len(types) == len(entries):
            # one value, several union members: one message listing what would do
            wanted = " or ".join(dict.fromkeys(what for what, _ in types))
            problems.append((path, f"expected {wanted}, found {types[0][1]}", False))
        else:
            at_key = path in keys
            problems.extend((path, message, at_key) for _, message in dict.fromkeys(entries))
    return problems


def validate_document(
    file: str, doc: Document, text: str | None = None
) -> tuple[AnyPipeline | None, list[Problem]]:
    """Validate one parsed document; all problems, each located.

    ``text``, the document's source, lets the literal-secret scan skip files that cannot
    hold one.
    """
    problems = [
        Problem(
            file=file,
            line=issue.line,
            col=issue.col,
            message=mask(issue.message),
            field=mask(_dotted(issue.path)),
        )
        for issue in doc.issues
    ]
    raw = doc.data
    if not isinstance(raw, dict):
        kind = "an empty file" if raw is None else messages.found(raw)
        message = f"expected a mapping of pipeline keys (id, platform, ...), found {kind}"
        problems.append(_problem(file, doc.source, (), message))
        return None, problems
    raw = _with_version_text(_with_parameter_texts(raw, doc.source), doc.source)
    secret_paths: set[DocPath] = set()
    for path, message in secret_problems(raw) if text is None or may_hold_secrets(text) else []:
        secret_paths.add(path)
        problems.append(_problem(file, doc.source, path, message))
    model: AnyPipeline | None = None
    try:
        model = PIPELINE_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        errors = [(error, True) for error in exc.errors()]
        if errors[0][0]["type"] in ("union_tag_not_found", "union_tag_invalid"):
            # no platform to pick the trigger by: still check everything else
            try:
                _any_platform().validate_python(raw)
            except ValidationError as rest:
                errors += [(e, False) for e in rest.errors() if e["loc"][:1] != ("platform",)]
        failed_at: set[DocPath] = set()
        for path, message, at_key in _error_problems(errors, raw, doc.source, secret_paths):
            failed_at.add(path)
            problems.append(_problem(file, doc.source, path, message, at_key))
        # every problem in one run: placeholders too, where the field itself is valid
        for path, message in raw_template_problems(raw):
            if path not in failed_at and path not in secret_paths:
                problems.append(_problem(file, doc.source, path, message))
    if model is not None:
        for path, message in template_problems(model):
            problems.append(_problem(file, doc.source, path, message))
    problems.sort(key=lambda p: (p.line, p.col))
    return (None if problems else model), problems


def _problem(
    file: str, source: SourceMap, path: DocPath, message: str, at_key: bool = False
) -> Problem:
    mark = source.keys.get(path) if at_key else None
    mark = mark or source.locate(path)
    # messages quote what the file holds: never a credential (a URL's query, a token)
    return Problem(
        file=file, line=mark.line, col=mark.col, message=mask(message), field=mask(_dotted(path))
    )
