"""The schema of a plan's ``compare`` object (``plan --compare-to``), in both versions."""

from __future__ import annotations

from typing import Any

from reconciler.core.plan_diff import DELTA_KINDS


def _object(required: list[str], properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


_REQUEST = {
    "type": ["object", "null"],
    "required": ["from", "to", "priority", "reason"],
    "properties": {
        "from": {"$ref": "#/definitions/date"},
        "to": {"$ref": "#/definitions/date"},
        "priority": {"type": "integer"},
        "reason": {"type": "string"},
    },
    "additionalProperties": False,
}

_COMPARE_SUMMARY_KEYS = ["added", "removed", "new_dates", "declared", "undeclared", "refresh"]
COMPARE = _object(
    ["base", "config_changes", "dates", "requests", "summary"],
    {
        "base": {"type": "string", "description": "the --compare-to directory"},
        "config_changes": {
            "type": "array",
            "items": {"$ref": "#/definitions/config_change"},
            "description": "base config -> this config (backfill.requests: see requests)",
        },
        "dates": {
            "type": "array",
            "items": _object(
                ["pipeline_id", "kind", "request_id", "upstream", "added", "removed", "declared"],
                {
                    "pipeline_id": {"$ref": "#/definitions/pipeline_id"},
                    "kind": {
                        "enum": list(DELTA_KINDS),
                        "description": "waiting: for a retry; waiting_upstream: for upstream "
                        "dates; refresh_preview: covered dates refreshed once their upstream "
                        "dates have re-run",
                    },
                    "request_id": {"type": ["string", "null"]},
                    "upstream": {
                        "type": "array",
                        "items": {"$ref": "#/definitions/pipeline_id"},
                        "description": "the upstream pipelines the dates wait for",
                    },
                    "added": {"type": "array", "items": {"$ref": "#/definitions/date"}},
                    "removed": {"type": "array", "items": {"$ref": "#/definitions/date"}},
                    "declared": {
                        "type": "boolean",
                        "description": "added dates served by a request this change declares",
                    },
                },
                "Dates of one pipeline and kind that the change adds to or removes from the plan.",
            ),
        },
        "requests": {
            "type": "array",
            "items": _object(
                ["pipeline_id", "request_id", "change", "old", "new"],
                {
                    "pipeline_id": {"$ref": "#/definitions/pipeline_id"},
                    "request_id": {"type": "string"},
                    "change": {"enum": ["added", "removed", "changed"]},
                    "old": _REQUEST,
                    "new": _REQUEST,
                },
                "A declared backfill request the change adds, removes or edits.",
            ),
        },
        "summary": _object(
            _COMPARE_SUMMARY_KEYS,
            {key: {"$ref": "#/definitions/count"} for key in _COMPARE_SUMMARY_KEYS},
            "Dates added and removed; new dates to start (refreshes and previewed "
            "refreshes included), declared by a request or not (--max-new-dates counts the "
            "undeclared ones).",
        ),
    },
    "plan --compare-to: what the change does against the base config, same state and now.",
)
