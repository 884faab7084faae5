"""JSON Schema of a pipeline file, in the draft-07 dialect editors understand.

Pydantic emits draft 2020-12 with ``$defs``; yaml-language-server documents draft-07,
so definitions move to ``definitions`` and the schema declares draft-07. The models use
no 2020-only keywords (no ``prefixItems``, ``$dynamicRef`` or ``unevaluated*``); a test
checks the result against the draft-07 metaschema.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.config.models import PIPELINE_ADAPTER

SCHEMA_ID = "https://github.com/backfill-reconciler/reconciler/schemas/pipeline.schema.json"
SCHEMA_FILE = "pipeline.schema.json"


def _strip_discriminator(node: Any) -> Any:
    """Drop the OpenAPI ``discriminator`` keyword: draft-07 does not know it."""
    if isinstance(node, dict):
        return {k: _strip_discriminator(v) for k, v in node.items() if k != "discriminator"}
    if isinstance(node, list):
        return [_strip_discriminator(v) for v in node]
    return node


def pipeline_schema() -> dict[str, Any]:
    """The schema as a dict."""
    body = PIPELINE_ADAPTER.json_schema(
        ref_template="#/definitions/{model}", by_alias=True, mode="validation"
    )
    definitions = body.pop("$defs", {})
    schema: dict[str, Any] = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "Backfill reconciler pipeline",
        "description": 'One pipeline of pipelines.d/ (see the README\'s "Pipeline files").',
    }
    schema.update(body)
    schema["definitions"] = definitions
    return dict(_strip_discriminator(schema))


def pipeline_schema_text() -> str:
    """The schema as committed to ``schemas/``: stable key order, trailing newline."""
    return json.dumps(pipeline_schema(), indent=2, sort_keys=False) + "\n"
