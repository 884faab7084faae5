"""YAML parsing that keeps where every value came from, with YAML 1.2 scalar rules.

PyYAML follows YAML 1.1, where ``on``/``no`` are booleans and ``02:00`` is the integer
120. Pipeline files use ``on:`` as a key and ``at: 02:00`` as a time, so the resolver
here only knows the YAML 1.2 core forms: ``true``/``false``, decimal ints and floats,
``null`` and ISO dates. Each form is also one PyYAML's YAML 1.1 emitter quotes when it
is a string, so a file written by ``yaml.safe_dump`` reads back unchanged (which is why
``08`` and ``1e5`` stay text). Duplicate keys are reported instead of silently
overwritten; aliases are followed once, never expanded without bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import yaml

try:  # the C parser is 5-10x faster; fall back quietly where libyaml is missing
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

Path = tuple[str | int, ...]

STR_TAG = "tag:yaml.org,2002:str"
SEQ_TAG = "tag:yaml.org,2002:seq"
MAP_TAG = "tag:yaml.org,2002:map"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
NULL_TAG = "tag:yaml.org,2002:null"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"

# A billion-laughs file expands a few lines into gigabytes through aliases, and deep
# nesting exhausts the stack; no pipeline needs more than a few hundred values.
MAX_VALUES = 100_000
MAX_DEPTH = 100

_IMPLICIT: list[tuple[str, str, str]] = [
    (BOOL_TAG, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (INT_TAG, r"^[-+]?(?:0|[1-9][0-9]*|0[0-7]+)$", "-+0123456789"),
    (
        FLOAT_TAG,
        r"^(?:[-+]?[0-9]+\.[0-9]*(?:[eE][-+][0-9]+)?|\.[0-9]+(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    (NULL_TAG, r"^(?:~|null|Null|NULL|)$", "~nN"),
    (
        TIMESTAMP_TAG,
        r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}"
        r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
        r"(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$",
        "0123456789",
    ),
]
_BY_FIRST: dict[str, list[tuple[str, re.Pattern[str]]]] = {"": [(NULL_TAG, re.compile(r"^$"))]}
for _tag, _pattern, _first in _IMPLICIT:
    for _char in _first:
        _BY_FIRST.setdefault(_char, []).append((_tag, re.compile(_pattern)))


_DECIMAL = re.compile(r"^[-+]?[0-9]{1,4000}$")


class _Loader(_BaseLoader):
    """The C (or pure) safe loader with the YAML 1.2 resolver above."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        # Called by the parser for every node: a dict lookup instead of PyYAML's scan.
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, regexp in _BY_FIRST.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return STR_TAG
        return SEQ_TAG if kind is yaml.SequenceNode else MAP_TAG

    # Path resolvers are unused; skip PyYAML's bookkeeping for them on every node.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


class Mark(NamedTuple):
    """1-based line and column (a tuple: thousands are made per file)."""

    line: int
    col: int


@dataclass(slots=True)
class SourceMap:
    """Where each value (and each mapping key) of a document starts.

    ``texts`` keeps the source text of plain scalars that did not read as strings
    (``1.10``, ``007``, ``2026-01-01``), for fields that want what was written.
    """

    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)
    texts: dict[Path, str] = field(default_factory=dict)

    def locate(self, path: Path) -> Mark:
        """The best position for ``path``: the value, else the nearest parent."""
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


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlIssue:
    """A problem found while parsing, before any validation."""

    line: int
    col: int
    message: str
    path: Path = ()


@dataclass(slots=True, kw_only=True)
class Document:
    """A parsed file: its data, its source map and anything odd found while parsing.

    ``positioned`` is False when the source map was skipped (``parse_yaml(positions=False)``).
    """

    data: Any
    source: SourceMap
    issues: list[YamlIssue]
    positioned: bool = True


def _error(message: str, node: yaml.Node) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(None, None, message, node.start_mark)


def _timestamp(loader: Any, node: yaml.ScalarNode) -> date | datetime:
    if loader.timestamp_regexp.match(node.value) is None:
        raise _error(f"{node.value!r} is not a valid date", node)
    try:
        value: date | datetime = loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError) as exc:
        raise _error(f"{node.value!r} is not a valid date ({exc})", node) from exc
    return value


class _Builder:
    """Builds Python data from a node tree and records every value's position."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.source = SourceMap()
        self.issues: list[YamlIssue] = []
        # Collections by node id, for aliases: built once, shared, counted expanded.
        self.done: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.open: set[int] = set()  # collections being built, to catch recursive aliases
        self.count = 0

    def build(self, node: yaml.Node, path: Path) -> Any:
        start = node.start_mark
        self.source.values[path] = Mark(start.line + 1, start.column + 1)
        self.count += 1
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        key = id(node)
        if key in self.done:
            return self.again(node)
        self.enter(node, len(path))
        if isinstance(node, yaml.MappingNode) and node.tag == MAP_TAG:
            value: Any = self.mapping(node, path)
        elif isinstance(node, yaml.SequenceNode) and node.tag == SEQ_TAG:
            value = [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        else:
            value = self.other(node)
        return self.leave(node, value)

    def again(self, node: yaml.Node) -> Any:
        """An alias of a collection already built: the same value, counted again."""
        key = id(node)
        self.count += self.sizes[key] - 1
        if self.count > MAX_VALUES:
            raise _error(f"aliases expand to more than {MAX_VALUES} values", node)
        return self.done[key]

    def enter(self, node: yaml.Node, depth: int) -> None:
        key = id(node)
        if key in self.open:
            raise _error("an alias refers to a value that contains it", node)
        if depth >= MAX_DEPTH:
            raise _error(f"values are nested more than {MAX_DEPTH} levels deep", node)
        self.open.add(key)
        self.sizes[key] = self.count

    def leave(self, node: yaml.Node, value: Any) -> Any:
        key = id(node)
        self.open.discard(key)
        self.done[key] = value
        self.sizes[key] = self.count - self.sizes[key] + 1
        return value

    def scalar(self, node: yaml.ScalarNode, path: Path | None) -> Any:
        """A scalar's value; ``path`` is None for mapping keys."""
        tag, text = node.tag, node.value
        if tag == STR_TAG:
            return text
        if path is not None and not node.style:  # plain: '' from libyaml, None from PyYAML
            self.source.texts[path] = text
        if tag == INT_TAG and _DECIMAL.match(text):
            return int(text)
        if tag == BOOL_TAG and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if tag == NULL_TAG:
            return None
        if tag == TIMESTAMP_TAG:
            return _timestamp(self.loader, node)
        return self.other(node)

    def other(self, node: yaml.Node) -> Any:
        """Floats and explicitly tagged values (``!!binary``, ``!!set``) PyYAML knows."""
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # PyYAML's constructors raise anything on odd input
            raise _error(f"{node.value!r} cannot be read as {node.tag}", node) from exc

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        seen: dict[Any, Mark] = {}
        keys = self.source.keys
        for key_node, value_node in node.value:
            if key_node.tag == STR_TAG:
                key = step = key_node.value
            elif isinstance(key_node, yaml.ScalarNode):
                key = self.scalar(key_node, None)
                step = key if isinstance(key, str | int) and not isinstance(key, bool) else str(key)
            else:
                raise _error("a key must be a plain value, not a list or a mapping", key_node)
            start = key_node.start_mark
            key_mark = Mark(start.line + 1, start.column + 1)
            try:
                first = seen.get(key)
            except TypeError as exc:  # an unhashable tagged key such as !!binary
                raise _error("a key must be a plain value", key_node) from exc
            child = (*path, step)
            if first is not None:
                message = f"duplicate key {key_node.value!r} (first defined at line {first.line})"
                self.issues.append(
                    YamlIssue(line=key_mark.line, col=key_mark.col, message=message, path=child)
                )
                continue
            seen[key] = key_mark
            keys[child] = key_mark
            out[key] = self.build(value_node, child)
        return out


class _FastBuilder(_Builder):
    """The same data without positions: most files are valid and never need them.

    A duplicate key is still an issue, but unlocated; whoever reports it parses again
    with positions. Scalar texts are kept for the first two levels of mappings only
    (``parameters.NAME``).
    """

    def build(self, node: yaml.Node, path: Path) -> Any:
        return self.fast(node, 0, ())

    def fast(self, node: yaml.Node, depth: int, path: Path | None) -> Any:
        self.count += 1
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.done:
            return self.again(node)
        self.enter(node, depth)
        if isinstance(node, yaml.MappingNode) and node.tag == MAP_TAG:
            value: Any = {}
            for key_node, value_node in node.value:
                if key_node.tag == STR_TAG:
                    key = key_node.value
                elif isinstance(key_node, yaml.ScalarNode):
                    key = self.scalar(key_node, None)
                else:
                    raise _error("a key must be a plain value, not a list or a mapping", key_node)
                try:
                    seen = key in value
                except TypeError as exc:  # an unhashable tagged key such as !!binary
                    raise _error("a key must be a plain value", key_node) from exc
                if seen:
                    self.issues.append(
                        YamlIssue(line=1, col=1, message=f"duplicate key {key_node.value!r}")
                    )
                    continue
                child = (*path, key) if path is not None and depth < 2 else None
                value[key] = self.fast(value_node, depth + 1, child)
        elif isinstance(node, yaml.SequenceNode) and node.tag == SEQ_TAG:
            value = [self.fast(item, depth + 1, None) for item in node.value]
        else:
            value = self.other(node)
        return self.leave(node, value)


def parse_yaml(text: str, *, positions: bool = True) -> Document:
    """Parse one YAML document; raises ``yaml.YAMLError`` (with a mark) on bad input.

    ``positions=False`` skips the source map (about a third faster): for a first pass
    over files that will most likely turn out valid.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(data=None, source=SourceMap(), issues=[], positioned=positions)
        builder = _Builder(loader) if positions else _FastBuilder(loader)
        data = builder.build(node, ())
    finally:
        loader.dispose()
    return Document(data=data, source=builder.source, issues=builder.issues, positioned=positions)
