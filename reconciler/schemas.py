"""The JSON Schemas the project publishes in ``schemas/``, by file name."""

from __future__ import annotations


def committed_schemas() -> dict[str, str]:
    """File name -> exact text that ``schemas/`` must hold."""
    from reconciler.config.schema import SCHEMA_FILE, pipeline_schema_text
    from reconciler.render import plan_schema

    return {
        SCHEMA_FILE: pipeline_schema_text(),
        plan_schema.SCHEMA_FILE: plan_schema.plan_schema_text(),
    }
