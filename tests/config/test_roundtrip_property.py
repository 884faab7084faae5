"""Property: a valid pipeline dumped to YAML (as PyYAML writes it) loads back unchanged."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from pipeline_strategies import pipelines

from reconciler.config.models import PIPELINE_ADAPTER
from reconciler.config.validation import validate_document
from reconciler.config.yaml_source import parse_yaml


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pipelines())
def test_model_dump_load_round_trip(raw: dict[str, Any]) -> None:
    # the generated data is a valid file as the loader sees it ...
    first, problems = validate_document("generated.yaml", parse_yaml(yaml.safe_dump(raw)))
    assert problems == []
    assert first == PIPELINE_ADAPTER.validate_python(raw)
    # ... and its model, dumped the way a tool would write it, reads back as the same model
    data = first.model_dump(mode="json", by_alias=True, exclude_none=True)
    text = yaml.safe_dump(data)
    second, problems = validate_document("dumped.yaml", parse_yaml(text))
    assert problems == [], text
    assert second == first
    assert second.model_dump() == first.model_dump()
