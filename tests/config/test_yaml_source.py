"""The YAML reader: YAML 1.2 scalars, positions, duplicate keys, aliases and hostile input."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import yaml

from reconciler.config import yaml_source
from reconciler.config.yaml_source import MAX_DEPTH, Mark, parse_yaml


@pytest.mark.parametrize(
    "text, value",
    [
        # YAML 1.1 booleans and sexagesimal numbers are plain text here
        ("on", "on"),
        ("off", "off"),
        ("yes", "yes"),
        ("No", "No"),
        ("y", "y"),
        ("02:00", "02:00"),
        ("1:30:00", "1:30:00"),
        # forms a YAML 1.1 emitter leaves unquoted stay text, so safe_dump output reads back
        ("08", "08"),
        ("0089", "0089"),
        ("1e5", "1e5"),
        ("1.5e3", "1.5e3"),
        ("-.5", "-.5"),
        ("2026-1-5", "2026-1-5"),
        ("0x1F", "0x1F"),
        ("1_000", "1_000"),
        ("<<", "<<"),
        ("=", "="),
        # the YAML 1.2 core forms
        ("true", True),
        ("False", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("0", 0),
        ("-17", -17),
        ("+3", 3),
        ("007", 7),
        ("1.5", 1.5),
        ("1.5e+3", 1500.0),
        ("2026-01-31", date(2026, 1, 31)),
        ("2026-01-31 10:15:00", datetime(2026, 1, 31, 10, 15)),
        # explicit tags still work
        ("!!int 0x10", 16),
        ("!!str 5", "5"),
        ("!!float 1", 1.0),
        ('"on"', "on"),
    ],
)
def test_scalars(text: str, value: object) -> None:
    for positions in (True, False):
        doc = parse_yaml(f"key: {text}\n", positions=positions)
        assert doc.data == {"key": value}
        assert type(doc.data["key"]) is type(value)


def test_on_key_and_unquoted_time() -> None:
    doc = parse_yaml("at: 02:00\nnotifications:\n  - channel: stdout\n    on: [failure]\n")
    assert doc.data == {"at": "02:00", "notifications": [{"channel": "stdout", "on": ["failure"]}]}
    assert doc.source.values[("notifications", 0, "on", 0)] == Mark(4, 10)
    assert doc.source.keys[("notifications", 0, "on")] == Mark(4, 5)


def test_positions_of_values_and_keys() -> None:
    text = "# header\nid: orders\nschedule:\n  type: daily\n  days: [mon, tue]\n"
    doc = parse_yaml(text)
    assert doc.source.values[("id",)] == Mark(2, 5)
    assert doc.source.keys[("id",)] == Mark(2, 1)
    assert doc.source.values[("schedule",)] == Mark(4, 3)
    assert doc.source.values[("schedule", "days", 1)] == Mark(5, 15)
    # an unknown path falls back to its nearest located parent
    assert doc.source.locate(("schedule", "days", 7)) == Mark(5, 9)
    assert doc.source.locate(("nope",)) == Mark(2, 1)


def test_plain_scalar_texts_are_kept() -> None:
    doc = parse_yaml("a: 1.10\nb: '1.10'\nc: 007\nd: 2026-01-01\ne: text\n")
    assert doc.source.texts == {("a",): "1.10", ("c",): "007", ("d",): "2026-01-01"}


def test_duplicate_keys_keep_the_first_value_and_are_reported() -> None:
    doc = parse_yaml("a: 1\nb:\n  c: 2\n  c: 3\na: 4\n")
    assert doc.data == {"a": 1, "b": {"c": 2}}
    assert [(i.line, i.col, i.path) for i in doc.issues] == [
        (4, 3, ("b", "c")),
        (5, 1, ("a",)),
    ]
    assert doc.issues[0].message == "duplicate key 'c' (first defined at line 3)"


def test_quick_parse_has_no_positions_but_flags_duplicates() -> None:
    doc = parse_yaml("a: 1\nparameters:\n  v: 1.10\n  deep: {x: 2}\na: 2\n", positions=False)
    assert doc.data == {"a": 1, "parameters": {"v": 1.1, "deep": {"x": 2}}}
    assert doc.source.values == {}
    assert doc.source.texts == {("a",): "1", ("parameters", "v"): "1.10"}  # two levels, no more
    assert not doc.positioned
    assert [i.message for i in doc.issues] == ["duplicate key 'a'"]


def test_aliases_are_shared_not_copied() -> None:
    doc = parse_yaml("base: &n {channel: stdout}\nnotifications: [*n, *n]\n")
    assert doc.data["notifications"] == [{"channel": "stdout"}] * 2
    assert doc.data["notifications"][0] is doc.data["base"]
    # the alias points at the anchored value
    assert doc.source.values[("notifications", 1)] == Mark(1, 7)


@pytest.mark.parametrize("positions", [True, False])
def test_alias_bomb_is_refused_quickly(positions: bool) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    # 10^9 values if expanded: refused by counting, before anything is built (how long
    # that takes is benchmarks/validate_bench.py's business, not a test's)
    with pytest.raises(yaml.YAMLError, match="aliases expand to more than"):
        parse_yaml("\n".join(lines) + "\n", positions=positions)


def test_aliases_below_the_limit_are_fine() -> None:
    text = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    assert parse_yaml(text, positions=False).data == parse_yaml(text).data


@pytest.mark.parametrize("positions", [True, False])
def test_recursive_alias_is_refused(positions: bool) -> None:
    with pytest.raises(yaml.YAMLError, match="contains it"):
        parse_yaml("a: &a [1, *a]\n", positions=positions)
    with pytest.raises(yaml.YAMLError, match="contains it"):
        parse_yaml("a: &a {b: *a}\n", positions=positions)


@pytest.mark.parametrize("positions", [True, False])
def test_deep_nesting_is_refused_without_recursion_error(positions: bool) -> None:
    depth = MAX_DEPTH + 5
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + f"{'  ' * depth}v\n"
    with pytest.raises(yaml.YAMLError, match="nested more than"):
        parse_yaml(text, positions=positions)
    with pytest.raises(yaml.YAMLError):
        parse_yaml("[" * 5000 + "]" * 5000)


@pytest.mark.parametrize(
    "text, message",
    [
        ("a: 2026-02-30\n", "'2026-02-30' is not a valid date"),
        ("a: 2026-13-01\n", "is not a valid date"),
        ("a: !!timestamp soon\n", "'soon' is not a valid date"),
        ("a: !!int abc\n", "cannot be read as tag:yaml.org,2002:int"),
        ("a: !!float abc\n", "cannot be read"),
        (f"a: !!int {'9' * 5000}\n", "cannot be read"),
        ("a: !!str [x]\n", "expected a scalar node"),
        ("a: !custom x\n", "could not determine a constructor"),
        ("[a]: 1\n", "a key must be a plain value"),
        ("a: *nowhere\n", "found undefined alias"),
    ],
)
def test_bad_values_raise_located_yaml_errors(text: str, message: str) -> None:
    with pytest.raises(yaml.MarkedYAMLError, match=message) as info:
        parse_yaml(text)
    assert info.value.problem_mark is not None


def test_non_string_keys_are_kept_and_located() -> None:
    doc = parse_yaml("1: one\nfalse: no\n2026-01-01: d\n")
    assert doc.data == {1: "one", False: "no", date(2026, 1, 1): "d"}
    assert doc.source.values[(1,)] == Mark(1, 4)
    assert doc.source.values[("False",)] == Mark(2, 8)
    assert doc.source.values[("2026-01-01",)] == Mark(3, 13)


def test_empty_document() -> None:
    doc = parse_yaml("# only a comment\n")
    assert doc.data is None
    assert doc.issues == []


def test_safe_dump_output_reads_back() -> None:
    data = {
        "strings": ["on", "yes", "08", "1e5", "1.5e3", "02:00", "2026-1-5", "-.5", "null", "~"],
        "numbers": [0, -3, 1.25, 1e100],
        "flags": [True, False, None],
        "dates": [date(2026, 2, 28), datetime(2026, 2, 28, 6, 30)],
    }
    assert parse_yaml(yaml.safe_dump(data)).data == data


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
def test_the_c_parser_is_used() -> None:
    assert issubclass(yaml_source._Loader, yaml.CSafeLoader)
