"""The committed JSON Schema: draft-07, current, accepts every real file, rejects bad ones."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft7Validator
from pipeline_strategies import pipelines

from reconciler.config.loading import load_file
from reconciler.config.schema import pipeline_schema_text
from reconciler.config.yaml_source import parse_yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "schemas" / "pipeline.schema.json"
FIXTURES = Path(__file__).parent / "fixtures"
# Keywords that exist only in drafts after 07 (and OpenAPI's discriminator): editors that
# speak draft-07, such as yaml-language-server, would silently ignore them.
NOT_DRAFT_07 = {
    "$defs",
    "$anchor",
    "$dynamicRef",
    "$dynamicAnchor",
    "$recursiveRef",
    "$recursiveAnchor",
    "$vocabulary",
    "prefixItems",
    "unevaluatedItems",
    "unevaluatedProperties",
    "dependentRequired",
    "dependentSchemas",
    "minContains",
    "maxContains",
    "discriminator",
}


def committed_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def validator() -> Draft7Validator:
    return Draft7Validator(committed_schema(), format_checker=Draft7Validator.FORMAT_CHECKER)


def as_json(value: Any) -> Any:
    """YAML data as check-jsonschema sees it: dates become ISO strings."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def schema_errors(path: Path) -> list[str]:
    data = as_json(parse_yaml(path.read_text(encoding="utf-8")).data)
    return [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(data)
    ]


def keywords(node: Any, in_properties: bool = False) -> set[str]:
    """Every keyword used in a schema, leaving out the names of properties."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if not in_properties:
                found.add(key)
            found |= keywords(
                value,
                in_properties=key in ("properties", "patternProperties") and not in_properties,
            )
    elif isinstance(node, list):
        for item in node:
            found |= keywords(item)
    return found


def real_files() -> list[Path]:
    return sorted(
        [
            *ROOT.glob("pipelines.d/*.yaml"),
            *ROOT.glob("examples/pipelines/*.yaml"),
            *FIXTURES.glob("good_*.yaml"),
        ]
    )


BAD = sorted(FIXTURES.glob("bad_*.yaml"))


def test_schema_is_valid_draft_07() -> None:
    schema = committed_schema()
    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_schema_uses_no_later_keywords() -> None:
    used = keywords(committed_schema())
    assert not used & NOT_DRAFT_07
    # every $ref points into definitions, which draft-07 resolves
    refs = [r for r in _refs(committed_schema())]
    assert refs and all(r.startswith("#/definitions/") for r in refs)
    assert {r.removeprefix("#/definitions/") for r in refs} <= set(
        committed_schema()["definitions"]
    )


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == pipeline_schema_text(), (
        "run `reconciler schema --write`"
    )


@pytest.mark.parametrize("path", real_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_real_files_pass_the_schema(path: Path) -> None:
    assert schema_errors(path) == []


def test_demo_and_example_dirs_are_covered() -> None:
    demo = list(ROOT.glob("pipelines.d/*.yaml")) + list(ROOT.glob("examples/pipelines/*.yaml"))
    if not demo:
        pytest.skip("pipelines.d/ and examples/pipelines/ hold no files yet")
    assert set(demo) <= set(real_files())


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_fixtures_fail_both_ways(path: Path) -> None:
    loaded, problems = load_file(path)
    assert loaded is None and problems, "pydantic accepted it"
    assert schema_errors(path), "the JSON Schema accepted it"


def test_there_are_bad_fixtures() -> None:
    assert len(BAD) >= 30


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pipelines())
def test_schema_accepts_whatever_the_models_accept(raw: dict[str, Any]) -> None:
    errors = [e.message for e in validator().iter_errors(as_json(raw))]
    assert errors == []
