"""Load pipeline files into models, reporting every problem with file:line:col and field."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from reconciler.config import messages
from reconciler.config.cache import ConfigCache, stat_key
from reconciler.config.checks import (
    may_hold_secrets,
    raw_template_problems,
    secret_problems,
    template_problems,
)
from reconciler.config.models import PIPELINE_ADAPTER, AnyPipeline, LocalPipeline
from reconciler.config.specs import flat_config, to_spec
from reconciler.config.yaml_source import Document, SourceMap, parse_yaml
from reconciler.config.yaml_source import Path as DocPath
from reconciler.core.spec import PipelineSpec
from reconciler.errors import ConfigError, Problem

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, eq=False)
class LoadedPipeline:
    """A valid pipeline and where it came from.

    From the config cache it arrives without its model: the planner needs only ``spec``
    and ``flat``, which the cache keeps, and the model is validated again from ``text``
    the first time something (a trigger, a notification) asks for it.
    """

    id: str
    file: str
    digest: str
    text: str = field(repr=False)
    _model: AnyPipeline | None = field(default=None, repr=False)

    @classmethod
    def of(cls, model: AnyPipeline, file: str, digest: str, text: str) -> LoadedPipeline:
        return cls(model.id, file, digest, text, model)

    @property
    def model(self) -> AnyPipeline:
        if self._model is None:
            doc = parse_yaml(self.text, positions=False)
            model, problems = validate_document(self.file, doc, self.text)
            if model is None:  # the file was valid when cached: it cannot be now
                raise ConfigError(problems)
            object.__setattr__(self, "_model", model)
        assert self._model is not None
        return self._model

    @cached_property
    def spec(self) -> PipelineSpec:
        """The planner's view of the pipeline (without ad-hoc requests from the state)."""
        return to_spec(self.model)

    @cached_property
    def flat(self) -> dict[str, Any]:
        """Flat ``field: value`` config, as stored and diffed."""
        return flat_config(self.model)

    @cached_property
    def config_json(self) -> str:
        """``flat`` as the ``pipelines.config_json`` column holds it: equal text, same config."""
        return json.dumps(self.flat, sort_keys=True)

    @cached_property
    def source(self) -> SourceMap:
        """Where each value is written; parsed again on demand, as valid files rarely need it."""
        return parse_yaml(self.text).source


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
        Problem(file, issue.line, issue.col, issue.message, _dotted(issue.path))
        for issue in doc.issues
    ]
    raw = doc.data
    if not isinstance(raw, dict):
        kind = "an empty file" if raw is None else messages.found(raw)
        message = f"expected a mapping of pipeline keys (id, platform, ...), found {kind}"
        problems.append(_problem(file, doc.source, (), message))
        return None, problems
    raw = _with_parameter_texts(raw, doc.source)
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
    return Problem(file, mark.line, mark.col, message, _dotted(path))


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
        # First without positions: most files are valid, and only problems need them.
        doc = parse_yaml(text, positions=False)
        if not doc.issues:
            model, problems = validate_document(file, doc, text)
            if model is not None:
                return LoadedPipeline.of(model, file, hashlib.sha256(data).hexdigest(), text), []
        doc = parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(file, line, col, f"invalid YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(file, 1, 1, f"invalid YAML: {exc}")]
    model, problems = validate_document(file, doc, text)
    if model is None:
        return None, problems
    return LoadedPipeline.of(model, file, hashlib.sha256(data).hexdigest(), text), problems


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
    with os.scandir(config_dir) as entries:
        names = sorted(e.name for e in entries if e.name.endswith(YAML_SUFFIXES) and e.is_file())
    return [config_dir / name for name in names]


def _cached_file(path: Path, cache: ConfigCache) -> tuple[LoadedPipeline | None, list[Problem]]:
    """``load_file`` answered from the cache when the file is unchanged."""
    try:
        stat = stat_key(path.stat())
    except OSError:
        return load_file(path)
    entry = cache.get(path.name, stat, path)
    if entry is not None:
        hit = LoadedPipeline(entry.pipeline_id, str(path), entry.digest, entry.text)
        hit.__dict__.update(spec=entry.spec, flat=entry.flat, config_json=entry.config_json)
        return hit, []
    pipeline, problems = load_file(path)
    if pipeline is not None and not problems:
        cache.put(path.name, stat, pipeline)
    return pipeline, problems


def load_files(
    paths: Iterable[Path], cache: ConfigCache | None = None
) -> tuple[list[LoadedPipeline], list[Problem]]:
    """Load many files; every problem of every file, plus duplicate ids across files."""
    loaded: list[LoadedPipeline] = []
    problems: list[Problem] = []
    first_file: dict[str, LoadedPipeline] = {}
    for path in paths:
        pipeline, found = load_file(path) if cache is None else _cached_file(path, cache)
        problems += found
        if pipeline is None:
            continue
        earlier = first_file.get(pipeline.id)
        if earlier is not None:
            mark = pipeline.source.locate(("id",))
            first_mark = earlier.source.locate(("id",))
            problems.append(
                Problem(
                    pipeline.file,
                    mark.line,
                    mark.col,
                    f"pipeline id {pipeline.id!r} is already used by {earlier.file}:"
                    f"{first_mark.line}; ids must be unique across files",
                    "id",
                )
            )
            continue
        first_file[pipeline.id] = pipeline
        loaded.append(pipeline)
    return loaded, problems


def load_config(config_dir: Path) -> list[LoadedPipeline]:
    """Every pipeline of a config directory, or ``ConfigError`` listing all problems.

    Unchanged files come from the config cache (``reconciler.config.cache``).
    """
    files = config_files(config_dir)
    cache = ConfigCache.open(config_dir)
    loaded, problems = load_files(files, cache)
    if problems:
        raise ConfigError(problems)
    cache.save()
    return loaded
