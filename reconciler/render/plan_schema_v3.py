"""The schema of what version 3 of the JSON plan tells by date ranges: actions, waiting
dates and gaps (docs/plan-json.md); ``plan_schema`` holds the rest and version 2."""

from __future__ import annotations

from typing import Any

_RANGES = {
    "type": "array",
    "minItems": 1,
    "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/date"}},
    "description": "spans of consecutive scheduled dates, oldest first: with `every` a "
    "number, each is [first, last] and holds first, first + every days, ..., last; with "
    "`every` null (a schedule without a fixed step), each lists its dates",
}
_EVERY = {
    "type": ["integer", "null"],
    "minimum": 1,
    "description": "days between the consecutive dates of a range (null: ranges list their dates)",
}
_COUNT = {"$ref": "#/definitions/count"}


def _object(required: list[str], properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


ACTION_RANGES = _object(
    [
        "pipeline_id",
        "kind",
        "priority",
        "attempt",
        "request_id",
        "reason",
        "ranges",
        "every",
        "batch",
        "order",
        "turn",
        "run_count",
        "date_count",
    ],
    {
        "pipeline_id": {"$ref": "#/definitions/pipeline_id"},
        "kind": {"enum": ["run", "retry", "backfill", "refresh", "poll", "notify"]},
        "priority": {"type": "integer"},
        "attempt": {"type": "integer", "minimum": 1},
        "request_id": {"type": ["string", "null"]},
        "reason": {"type": ["string", "null"]},
        "run_id": {"type": "string", "description": "poll: the in-flight run it follows"},
        "event": {"type": "string", "description": "notify: what the notification is about"},
        "ranges": _RANGES,
        "every": _EVERY,
        "batch": {
            "type": "integer",
            "minimum": 1,
            "description": "each range is cut into runs of at most this many dates",
        },
        "order": {
            "enum": ["oldest_first", "newest_first"],
            "description": "oldest_first: ranges in order, each cut from its first date; "
            "newest_first: ranges from the last, each cut from its last date",
        },
        "turn": {
            "type": ["integer", "null"],
            "minimum": 0,
            "description": "null: the runs start in the order listed; entries of one turn "
            "make a queue per pipeline, and the queues give one run each in turn",
        },
        "run_count": _COUNT,
        "date_count": _COUNT,
    },
    "Runs of one pipeline that differ only in their dates, in the order apply starts them.",
)

WAITING_RANGES = _object(
    [
        "pipeline_id",
        "ranges",
        "every",
        "reason",
        "next_retry_at",
        "attempt",
        "upstream",
        "refresh",
        "date_count",
    ],
    {
        "pipeline_id": {"$ref": "#/definitions/pipeline_id"},
        "ranges": _RANGES,
        "every": _EVERY,
        "reason": {"enum": ["retry", "upstream"]},
        "next_retry_at": {"oneOf": [{"$ref": "#/definitions/instant"}, {"type": "null"}]},
        "attempt": {"type": "integer", "minimum": 1},
        "upstream": {"type": "array", "items": {"$ref": "#/definitions/upstream"}},
        "refresh": {"type": "boolean"},
        "date_count": _COUNT,
    },
    "Dates waiting for their retry delay or for their upstream dates.",
)

GAP_RANGES = _object(
    ["pipeline_id", "reason", "ranges", "every", "date_count"],
    {
        "pipeline_id": {"$ref": "#/definitions/pipeline_id"},
        "reason": {
            "enum": ["retries_exhausted", "auto_backfill_disabled", "upstream_gap", "canceled"]
        },
        "upstream": {
            "type": "array",
            "items": {"$ref": "#/definitions/upstream"},
            "minItems": 1,
        },
        "ranges": {**_RANGES, "description": "each range is one gap"},
        "every": _EVERY,
        "date_count": _COUNT,
    },
    "Due, uncovered dates the plan will not run, and why: a gap per range.",
)
GAP_RANGES["if"] = {"properties": {"reason": {"const": "upstream_gap"}}}
GAP_RANGES["then"] = {"required": ["upstream"]}
GAP_RANGES["else"] = {"not": {"required": ["upstream"]}}
