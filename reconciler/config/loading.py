"""Load pipeline files into models, reporting every problem with file:line:col and field."""

from __future__ import annotations

import difflib
import hashlib
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from reconciler.config.checks import secret_problems, template_problems
from reconciler.config.models import (
    ENV_NAME_PATTERN,
    HHMM_PATTERN,
    PIPELINE_ADAPTER,
    PIPELINE_ID_PATTERN,
    PLATFORM_MODELS,
    AnyPipeline,
)
from reconciler.config.yaml_source import Document, SourceMap, parse_yaml
from reconciler.errors import ConfigError, Problem

YAML_SUFFIXES = (".yaml", ".yml")
PATTERN_HELP = {
    PIPELINE_ID_PATTERN: "an id of lowercase letters, digits and _ that starts with a letter "
    "(at most 64 characters)",
    HHMM_PATTERN: "a time of day as HH:MM (00:00 to 23:59; quote it in YAML)",
    ENV_NAME_PATTERN: "the name of an environment variable (letters, digits and _), not its value",
}
_FIELD_PREFIX = re.compile(r"^(?:Value error, )?([a-z_]+): (.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class LoadedPipeline:
    """A valid pipeline and where it came from."""

    model: AnyPipeline
    file: str
    source: SourceMap
    digest: str

    @property
    def id(self) -> str:
        return self.model.id


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for item in path:
        out += f"[{item}]" if isinstance(item, int) else (f".{item}" if out else item)
    return out


def _found(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _model_at(raw: Any, loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class a validation location points into, to suggest known keys."""
    if not isinstance(raw, dict):
        return None
    model: Any = PLATFORM_MODELS.get(str(raw.get("platform")))
    value: Any = raw
    for item in loc[1:] if loc and loc[0] in PLATFORM_MODELS else loc:
        if isinstance(item, int) or model is None:
            value = value[item] if isinstance(value, list) and isinstance(item, int) else None
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == item), None)
        value = value.get(item) if isinstance(value, dict) else None
        if field is None:
            # a union tag in the location: the next model is chosen by that tag
            continue
        model = _unwrap_model(field.annotation, value)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap_model(annotation: Any, value: Any) -> Any:
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if origin in (list, dict, typing.Union, types.UnionType):
            found = _unwrap_model(arg, value)
            if found is not None:
                tag = value.get("channel") if isinstance(value, dict) else None
                if tag is None or found.model_fields.get("channel") is None:
                    return found
                default = found.model_fields["channel"].annotation
                if tag in typing.get_args(default):
                    return found
        elif typing.get_origin(arg) is typing.Annotated:
            found = _unwrap_model(typing.get_args(arg)[0], value)
            if found is not None:
                return found
    if origin is typing.Annotated:
        return _unwrap_model(typing.get_args(annotation)[0], value)
    return None


def _message(error: Any, raw: Any) -> tuple[tuple[str | int, ...], str]:
    """A person-sized message for one pydantic error, and any field it names."""
    kind = error["type"]
    loc: tuple[str | int, ...] = tuple(error["loc"])
    if kind == "missing":
        return (), "required key is missing"
    if kind == "extra_forbidden":
        model = _model_at(raw, loc[:-1])
        name = str(loc[-1])
        if model is not None:
            known = sorted(f.alias or n for n, f in model.model_fields.items())
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            return (), f"unknown key {name!r}{hint} (expected one of: {', '.join(known)})"
        return (), f"unknown key {name!r}"
    if kind == "union_tag_invalid":
        ctx = error.get("ctx", {})
        tag = str(ctx.get("discriminator", "")).strip("'")
        value = ctx.get("tag", error["input"].get(tag) if isinstance(error["input"], dict) else "")
        return (tag,), f"unknown {tag} {value!r}, expected one of {ctx.get('expected_tags', '')}"
    if kind == "union_tag_not_found":
        tag = error.get("ctx", {}).get("discriminator", "")
        return (), f"missing {tag.strip(chr(39))}"
    if kind == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        expected = PATTERN_HELP.get(pattern, f"text matching {pattern}")
        return (), f"expected {expected}, found {_found(error['input'])}"
    message = str(error["msg"])
    match = _FIELD_PREFIX.match(message)
    if match:
        return (match.group(1),), match.group(2)
    message = message.removeprefix("Value error, ")
    if kind in ("literal_error", "enum"):
        return (), f"{message}, found {_found(error['input'])}"
    if "type" in kind or kind.endswith("_parsing") or kind.startswith("string_pattern"):
        return (), f"{message}, found {_found(error['input'])}"
    return (), message


def _problem(file: str, source: SourceMap, path: tuple[str | int, ...], message: str) -> Problem:
    mark = source.locate(path)
    return Problem(file, mark.line, mark.col, message, _dotted(path))


def validate_document(file: str, doc: Document) -> tuple[AnyPipeline | None, list[Problem]]:
    """Validate one parsed document; all problems, each located."""
    problems = [
        Problem(file, issue.line, issue.col, issue.message, _dotted(issue.path))
        for issue in doc.issues
    ]
    raw = doc.data
    if not isinstance(raw, dict):
        kind = "empty" if raw is None else f"a {type(raw).__name__}"
        problems.append(
            Problem(
                file, 1, 1, f"expected a mapping of pipeline keys (id, platform, ...), found {kind}"
            )
        )
        return None, problems
    secret_paths: set[tuple[str | int, ...]] = set()
    for path, message in secret_problems(raw):
        secret_paths.add(path)
        problems.append(_problem(file, doc.source, path, message))
    try:
        model = PIPELINE_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        for error in exc.errors():
            path = doc.source.resolve(tuple(error["loc"]))
            extra, message = _message(error, raw)
            if error["type"] == "missing" or error["type"] == "union_tag_not_found":
                missing = str(error["loc"][-1]) if error["type"] == "missing" else "platform"
                if error["type"] == "union_tag_not_found":
                    missing = "platform"
                message = f"required key {missing!r} is missing"
                problems.append(_problem(file, doc.source, path, message))
                continue
            if extra and (*path, *extra) in doc.source.values:
                path = (*path, *extra)
            elif extra:
                message = f"{extra[0]}: {message}"
            if error["type"] == "extra_forbidden":
                path = (*path[:-1], str(error["loc"][-1])) if path else path
                full = doc.source.resolve(tuple(error["loc"]))
                if full in secret_paths:
                    continue
                path = full
            problems.append(_problem(file, doc.source, path, message))
        return None, sorted(problems, key=lambda p: (p.line, p.col))
    for path, message in template_problems(model):
        problems.append(_problem(file, doc.source, path, message))
    problems.sort(key=lambda p: (p.line, p.col))
    return (None if problems else model), problems


def load_file(path: Path) -> tuple[LoadedPipeline | None, list[Problem]]:
    """Read, parse and validate one file."""
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem(file, 1, 1, f"cannot read file: {exc.strerror or exc}")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(file, 1, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
    try:
        doc = parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(file, line, col, f"invalid YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(file, 1, 1, f"invalid YAML: {exc}")]
    model, problems = validate_document(file, doc)
    if model is None:
        return None, problems
    digest = hashlib.sha256(data).hexdigest()
    return LoadedPipeline(model, file, doc.source, digest), problems


def config_files(config_dir: Path) -> list[Path]:
    """The pipeline files of a directory, in a stable order."""
    if not config_dir.is_dir():
        raise ConfigError(
            [
                Problem(
                    str(config_dir),
                    1,
                    1,
                    "config directory not found (set --config-dir or RECONCILER_CONFIG_DIR)",
                )
            ]
        )
    return sorted(p for p in config_dir.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())


def load_files(paths: Iterable[Path]) -> tuple[list[LoadedPipeline], list[Problem]]:
    """Load many files; every problem of every file, plus duplicate ids across files."""
    loaded: list[LoadedPipeline] = []
    problems: list[Problem] = []
    first_file: dict[str, LoadedPipeline] = {}
    for path in paths:
        pipeline, found = load_file(path)
        problems += found
        if pipeline is None:
            continue
        earlier = first_file.get(pipeline.id)
        if earlier is not None:
            mark = pipeline.source.locate(("id",))
            problems.append(
                Problem(
                    pipeline.file,
                    mark.line,
                    mark.col,
                    f"pipeline id {pipeline.id!r} is already defined in {earlier.file}",
                    "id",
                )
            )
            continue
        first_file[pipeline.id] = pipeline
        loaded.append(pipeline)
    return loaded, problems


def load_config(config_dir: Path) -> list[LoadedPipeline]:
    """Every pipeline of a config directory, or ``ConfigError`` listing all problems."""
    loaded, problems = load_files(config_files(config_dir))
    if problems:
        raise ConfigError(problems)
    return loaded
