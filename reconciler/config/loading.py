"""Load pipeline files into models, reporting every problem with file:line:col and field."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from reconciler.config.cache import ConfigCache, stat_key
from reconciler.config.file_checks import checked, read_checked
from reconciler.config.fleet_checks import dependency_problems
from reconciler.config.secret_shapes import mask
from reconciler.config.yaml_source import SourceMap, parse_yaml
from reconciler.core.spec import PipelineSpec
from reconciler.errors import ConfigError, Problem

if TYPE_CHECKING:
    from reconciler.config.models import AnyPipeline

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, eq=False, kw_only=True)
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
    # from the config cache: ``spec``, ``config_json`` and ``notifies`` come with it
    cached: bool = field(default=False, repr=False)

    @classmethod
    def of(cls, model: AnyPipeline, file: str, digest: str, text: str) -> LoadedPipeline:
        return cls(id=model.id, file=file, digest=digest, text=text, _model=model)

    @property
    def model(self) -> AnyPipeline:
        if self._model is None:
            from reconciler.config.validation import validate_document

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
        from reconciler.config.specs import to_spec

        return to_spec(self.model)

    @cached_property
    def flat(self) -> dict[str, Any]:
        """Flat ``field: value`` config, as stored and diffed."""
        if self._model is None and self.cached:
            # the stored text parsed is the same mapping (JSON values, keys sorted)
            parsed: dict[str, Any] = json.loads(self.config_json)
            return parsed
        from reconciler.config.specs import flat_config

        return flat_config(self.model)

    @cached_property
    def notifies(self) -> bool:
        """Whether the pipeline has notification channels (known without its model)."""
        return bool(self.flat.get("notifications"))

    @cached_property
    def config_json(self) -> str:
        """``flat`` as the ``pipelines.config_json`` column holds it: equal text, same config."""
        return json.dumps(self.flat, sort_keys=True)

    @cached_property
    def source(self) -> SourceMap:
        """Where each value is written; parsed again on demand, as valid files rarely need it."""
        return parse_yaml(self.text).source


def load_file(path: Path) -> tuple[LoadedPipeline | None, list[Problem]]:
    """Read, parse and validate one file."""
    from reconciler.config.validation import validate_document

    file = str(path)
    read = read_checked(path)
    if isinstance(read, Problem):
        return None, [read]
    data, _ = read
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [
            Problem(
                file=file,
                line=1,
                col=1,
                message=f"not UTF-8 text ({exc.reason} at byte {exc.start})",
            )
        ]
    try:
        # First without positions: most files are valid, and only problems need them.
        doc = parse_yaml(text, positions=False)
        if not doc.issues:
            model, problems = validate_document(file, doc, text)
            if model is not None:
                return LoadedPipeline.of(model, file, hashlib.sha256(data).hexdigest(), text), []
        doc = parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        return None, [yaml_problem(file, text, exc)]
    except yaml.YAMLError as exc:
        return None, [Problem(file=file, line=1, col=1, message=mask(f"invalid YAML: {exc}"))]
    model, problems = validate_document(file, doc, text)
    if model is None:
        return None, problems
    return LoadedPipeline.of(model, file, hashlib.sha256(data).hexdigest(), text), problems


def yaml_problem(file: str, text: str, exc: yaml.MarkedYAMLError) -> Problem:
    """A YAML syntax error at its line and column, naming a tab when a tab is the cause.

    libyaml says only "found character that cannot start any token" for a tab, which
    is invisible in most editors: the message says it is a tab, and where.
    """
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    what = exc.problem or exc.context or "invalid YAML"
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    indent = here[: len(here) - len(here.lstrip(" \t"))]
    at = here[col - 1 : col]
    if at == "\t" or "\t" in indent:
        tab = col if at == "\t" else indent.index("\t") + 1
        return Problem(
            file=file,
            line=line,
            col=tab,
            message=f"invalid YAML: a tab character at line {line}, column {tab}; "
            "YAML does not allow tabs for indentation, use spaces",
        )
    if "cannot start any token" in what and at and at.isprintable():
        what = f"found character {at!r} that cannot start any token"
    return Problem(file=file, line=line, col=col, message=mask(f"invalid YAML: {what}"))


def config_files(config_dir: Path) -> list[Path]:
    """The pipeline files of a directory, in a stable order."""
    if not config_dir.is_dir():
        raise ConfigError(
            [
                Problem(
                    file=str(config_dir),
                    line=1,
                    col=1,
                    message="config directory not found "
                    "(set --config-dir or RECONCILER_CONFIG_DIR)",
                )
            ]
        )
    with os.scandir(config_dir) as entries:
        # every entry with a YAML name, whatever it is: ``load_file`` refuses links out
        # of the directory, directories, FIFOs and devices with a problem each
        names = sorted(e.name for e in entries if e.name.endswith(YAML_SUFFIXES))
    return [config_dir / name for name in names]


def _cached_file(path: Path, cache: ConfigCache) -> tuple[LoadedPipeline | None, list[Problem]]:
    """``load_file`` answered from the cache when the file is unchanged."""
    found = checked(path)
    if isinstance(found, Problem):
        return None, [found]
    target, status = found
    stat = stat_key(status)
    entry = cache.get(path.name, stat, target)
    if entry is not None:
        hit = LoadedPipeline(
            id=entry.pipeline_id, file=str(path), digest=entry.digest, text=entry.text, cached=True
        )
        hit.__dict__.update(spec=entry.spec, config_json=entry.config_json, notifies=entry.notifies)
        return hit, []
    pipeline, problems = load_file(path)
    if pipeline is not None and not problems:
        cache.put(path.name, stat, pipeline)
    return pipeline, problems


def load_files(
    paths: Iterable[Path], cache: ConfigCache | None = None, *, where: str | None = None
) -> tuple[list[LoadedPipeline], list[Problem]]:
    """Load many files; every problem of every file, plus duplicate ids across files.

    With ``where`` (the directory, as messages name it) the files are a whole fleet, and
    the dependencies between them are checked too (``fleet_checks``): then every
    ``depends_on`` of the pipelines returned without problems names one of them, and
    none depend on each other in a cycle.
    """
    loaded: list[LoadedPipeline] = []
    problems: list[Problem] = []
    first_file: dict[str, LoadedPipeline] = {}
    failed = 0
    for path in paths:
        pipeline, found = load_file(path) if cache is None else _cached_file(path, cache)
        problems += found
        if pipeline is None:
            failed += 1
            continue
        earlier = first_file.get(pipeline.id)
        if earlier is not None:
            mark = pipeline.source.locate(("id",))
            first_mark = earlier.source.locate(("id",))
            problems.append(
                Problem(
                    file=pipeline.file,
                    line=mark.line,
                    col=mark.col,
                    message=f"pipeline id {pipeline.id!r} is already used by {earlier.file}:"
                    f"{first_mark.line}; ids must be unique across files",
                    field="id",
                )
            )
            continue
        first_file[pipeline.id] = pipeline
        loaded.append(pipeline)
    if where is not None:
        problems += dependency_problems(loaded, where, complete=failed == 0)
    return loaded, problems


def load_some_files(
    paths: Sequence[Path], config_dir: Path
) -> tuple[list[LoadedPipeline], list[Problem]]:
    """``load_files`` for some files of a fleet (``validate FILES``): their upstreams
    may be defined in ``config_dir``, whose other files are read (from the cache) only
    when some upstream is not among the files given, and never reported on."""
    loaded, problems = load_files(paths)
    ids = {p.id for p in loaded}
    wanted = any(d.pipeline not in ids for p in loaded for d in p.spec.depends_on)
    context: list[LoadedPipeline] = []
    if wanted and config_dir.is_dir():
        given = {path.resolve() for path in paths}
        others = [f for f in config_files(config_dir) if f.resolve() not in given]
        found = load_files(others, ConfigCache.open(config_dir))[0]
        context = [p for p in found if p.id not in ids]
    where = f"{config_dir} or the files given" if wanted else "the files given"
    return loaded, problems + dependency_problems(
        loaded, where, context=context, complete=not problems
    )


def load_config(config_dir: Path) -> list[LoadedPipeline]:
    """Every pipeline of a config directory, or ``ConfigError`` listing all problems.

    Unchanged files come from the config cache (``reconciler.config.cache``).
    """
    files = config_files(config_dir)
    cache = ConfigCache.open(config_dir)
    loaded, problems = load_files(files, cache, where=str(config_dir))
    if problems:
        raise ConfigError(problems)
    cache.save()
    return loaded
