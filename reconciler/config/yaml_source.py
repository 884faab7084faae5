"""YAML parsing that keeps where every value came from, with YAML 1.2 scalar rules.

PyYAML follows YAML 1.1, where ``on``/``no`` are booleans and ``02:00`` is the integer
120. Pipeline files use ``on:`` as a key and ``at: 02:00`` as a time, so the resolver
here only knows the YAML 1.2 core forms: ``true``/``false``, decimal ints and floats,
``null`` and ISO dates. Duplicate keys are reported instead of silently overwritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml

try:  # the C parser is 5-10x faster; fall back quietly where libyaml is missing
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

Path = tuple[str | int, ...]


class _Loader(_BaseLoader):
    """SafeLoader with YAML 1.2 implicit types and located date errors."""


_Loader.yaml_implicit_resolvers = {}
_IMPLICIT: list[tuple[str, str, str]] = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?[0-9]+$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
        r"|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    (
        "tag:yaml.org,2002:timestamp",
        r"^(?:[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
        r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
        r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?)$",
        "0123456789",
    ),
]
for _tag, _pattern, _first in _IMPLICIT:
    _Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
# An empty scalar (``end:``) is null; PyYAML looks such scalars up under "".
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])


def _construct_timestamp(loader: Any, node: yaml.ScalarNode) -> date | datetime:
    try:
        value: date | datetime = yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
        ) from exc
    return value


def _construct_int(loader: Any, node: yaml.ScalarNode) -> int:
    return int(str(node.value).replace("_", ""))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


@dataclass(frozen=True, slots=True)
class Mark:
    """1-based line and column."""

    line: int
    col: int


@dataclass(slots=True)
class SourceMap:
    """Where each value (and each mapping key) of a document starts."""

    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)

    def locate(self, path: Path) -> Mark:
        """The best position for ``path``: the value, else its key, else the nearest parent."""
        probe = tuple(path)
        while probe:
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Mark(1, 1))

    def resolve(self, loc: tuple[str | int, ...]) -> Path:
        """Map a validation error location onto a real document path.

        Validation locations carry extra items (union tags such as ``local``) that do
        not exist in the document; they are skipped.
        """
        path: Path = ()
        for item in loc:
            candidate = (*path, item)
            if candidate in self.values:
                path = candidate
        return path


@dataclass(frozen=True, slots=True)
class YamlIssue:
    """A problem found while parsing, before any validation."""

    line: int
    col: int
    message: str
    path: Path = ()


@dataclass(slots=True)
class Document:
    """A parsed file: its data, its source map and anything odd found while parsing."""

    data: Any
    source: SourceMap
    issues: list[YamlIssue]


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def _index(node: yaml.Node, path: Path, source: SourceMap, issues: list[YamlIssue]) -> None:
    source.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, Mark] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                first = seen[key]
                issues.append(
                    YamlIssue(
                        _mark(key_node).line,
                        _mark(key_node).col,
                        f"duplicate key {key!r} (first defined at line {first.line})",
                        (*path, key),
                    )
                )
                continue
            seen[key] = _mark(key_node)
            source.keys[(*path, key)] = _mark(key_node)
            _index(value_node, (*path, key), source, issues)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), source, issues)


def parse_yaml(text: str) -> Document:
    """Parse one YAML document; raises ``yaml.YAMLError`` (with a mark) on bad syntax."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        source = SourceMap()
        issues: list[YamlIssue] = []
        if node is None:
            return Document(None, source, issues)
        _index(node, (), source, issues)
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    return Document(data, source, issues)
