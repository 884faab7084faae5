"""JSON Schema (draft-07) of ``plan --format json`` (version 3, by date ranges) and of
``--format json-v2`` (version 2, expanded), published as ``schemas/plan.schema.json``.

Written by hand from docs/plan-json.md, plus the keys the renderer adds: ``run_id`` (the
run a ``poll`` follows), ``event`` (what a ``notify`` is about), and three optional
top-level keys: ``compare`` (``plan --compare-to``), ``problems`` (environment
variables the pipelines name that are missing) and ``fingerprint`` (plans saved with
``plan --out``, checked by ``apply --plan``). Objects forbid unknown keys so the
schema and the renderer cannot drift apart silently: a test validates every plan the
test suite renders.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.render.plan_schema_compare import COMPARE as _COMPARE
from reconciler.render.plan_schema_v3 import ACTION_RANGES, GAP_RANGES, WAITING_RANGES

SCHEMA_FILE = "plan.schema.json"
SCHEMA_ID = "https://github.com/backfill-reconciler/reconciler/schemas/plan.schema.json"

_PIPELINE_ID = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}
_DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "format": "date"}
_INSTANT = {
    "type": "string",
    "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?"
    "(Z|[+-][0-9]{2}:[0-9]{2})$",
    "format": "date-time",
    "description": "ISO-8601 instant with its UTC offset",
}
_COUNT = {"type": "integer", "minimum": 0}


def _dates(description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"$ref": "#/definitions/date"},
        "minItems": 1,
        "description": description,
    }


def _object(required: list[str], properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


_ACTION = _object(
    ["pipeline_id", "kind", "dates", "priority", "attempt", "request_id", "reason"],
    {
        "pipeline_id": {"$ref": "#/definitions/pipeline_id"},
        "kind": {"enum": ["run", "retry", "backfill", "refresh", "poll", "notify"]},
        "dates": _dates("consecutive scheduled dates of one run (one date unless multi_date)"),
        "priority": {"type": "integer"},
        "attempt": {
            "type": "integer",
            "minimum": 1,
            "description": "the attempt number the run will be (1 for a first run)",
        },
        "request_id": {
            "type": ["string", "null"],
            "description": "the backfill request this run serves, if any (a refresh: its "
            "own id, refresh-...)",
        },
        "reason": {"type": ["string", "null"], "description": "the backfill request's reason"},
        "run_id": {"type": "string", "description": "poll: the in-flight run it follows"},
        "event": {"type": "string", "description": "notify: what the notification is about"},
    },
    "Version 2: one unit of work, in the order apply starts them.",
)

_CONFIG_CHANGE = _object(
    ["pipeline_id", "change", "fields"],
    {
        "pipeline_id": {"$ref": "#/definitions/pipeline_id"},
        "change": {"enum": ["create", "update", "delete"]},
        "fields": {
            "type": "object",
            "description": "changed dotted field -> [old, new] (update only)",
            "additionalProperties": {"type": "array", "minItems": 2, "maxItems": 2},
        },
    },
    "A pipeline whose YAML differs from the last applied config.",
)

_UPSTREAM = _object(
    ["pipeline_id", "first", "last"],
    {
        "pipeline_id": {"$ref": "#/definitions/pipeline_id"},
        "first": {"$ref": "#/definitions/date"},
        "last": {"$ref": "#/definitions/date"},
    },
    "Scheduled dates of an upstream pipeline, from first to last.",
)

_WAITING = _object(
    ["pipeline_id", "dates", "reason", "next_retry_at", "attempt", "upstream", "refresh"],
    {
        "pipeline_id": {"$ref": "#/definitions/pipeline_id"},
        "dates": _dates("dates that will run later"),
        "reason": {
            "enum": ["retry", "upstream"],
            "description": "retry: failed dates whose retry delay runs; upstream: dates "
            "whose upstream dates are not available yet",
        },
        "next_retry_at": {
            "oneOf": [{"$ref": "#/definitions/instant"}, {"type": "null"}],
            "description": "when the retry is due (null when waiting for upstream dates)",
        },
        "attempt": {"type": "integer", "minimum": 1, "description": "attempt the run will be"},
        "upstream": {
            "type": "array",
            "items": {"$ref": "#/definitions/upstream"},
            "description": "the upstream dates waited for (empty for a retry)",
        },
        "refresh": {
            "type": "boolean",
            "description": "covered dates that will be refreshed once the upstream dates "
            "have re-run (the cascade a backfill causes, shown before it runs)",
        },
    },
    "Dates waiting for their retry delay or for their upstream dates.",
)

_GAP = _object(
    ["pipeline_id", "dates", "reason"],
    {
        "pipeline_id": {"$ref": "#/definitions/pipeline_id"},
        "dates": _dates("due dates nothing will run"),
        "reason": {
            "enum": ["retries_exhausted", "auto_backfill_disabled", "upstream_gap", "canceled"]
        },
        "upstream": {
            "type": "array",
            "items": {"$ref": "#/definitions/upstream"},
            "minItems": 1,
            "description": "upstream_gap only: the upstream dates that will not run either",
        },
    },
    "Due, uncovered dates the plan will not run, and why.",
)
# an upstream_gap names its upstream dates; no other gap has any
_GAP["if"] = {"properties": {"reason": {"const": "upstream_gap"}}}
_GAP["then"] = {"required": ["upstream"]}
_GAP["else"] = {"not": {"required": ["upstream"]}}

_SLA_BREACH = _object(
    ["pipeline_id", "date", "deadline"],
    {
        "pipeline_id": {"$ref": "#/definitions/pipeline_id"},
        "date": {"$ref": "#/definitions/date"},
        "deadline": {"$ref": "#/definitions/instant"},
    },
    "A date whose SLA deadline passed without a successful run.",
)

_PAUSED = _object(
    ["pipeline_id", "reason"],
    {
        "pipeline_id": {"$ref": "#/definitions/pipeline_id"},
        "reason": {"type": ["string", "null"], "description": "pause_reason, if given"},
    },
    "A paused pipeline: its actions are listed, but apply starts none of them (it still "
    "polls runs in flight) and sends no SLA notification for it.",
)

_EXCLUDED = _object(
    ["pipeline_id", "dates"],
    {
        "pipeline_id": {"$ref": "#/definitions/pipeline_id"},
        "dates": {
            "type": "integer",
            "minimum": 1,
            "description": "due, uncovered dates left out of the plan by exclude",
        },
    },
    "A pipeline with excluded dates: they appear in no action, gap or breach.",
)

_SUMMARY_KEYS = ["pipelines", "run", "retry", "backfill", "refresh", "poll", "waiting", "gap"]
_SUMMARY = _object(
    _SUMMARY_KEYS,
    {key: {"$ref": "#/definitions/count"} for key in _SUMMARY_KEYS},
    "Number of pipelines planned, and of dates per kind (waiting: for a retry or upstream).",
)


_FINGERPRINT = {
    "type": "object",
    "description": "plan --out: what apply --plan checks before it runs (config file "
    "digests, state table checksums); its inner layout may change between versions",
    "required": ["config", "state"],
    "properties": {
        "reconciler_version": {"type": "string"},
        "pipelines_filter": {"type": "array", "items": {"type": "string"}},
        "config": {"type": "object", "additionalProperties": {"type": "string"}},
        "state": {"type": "object"},
    },
}


_PROBLEM = {
    "type": "object",
    "description": "an environment variable a pipeline names that is missing or empty: "
    "`blocked` (a trigger's: apply starts none of the pipeline's actions) or `warning` "
    "(a notification's: runs go on, its notifications fail until it is set); the "
    "variable's name, never a value",
    "required": [
        "pipeline_id",
        "severity",
        "file",
        "line",
        "col",
        "field",
        "variable",
        "message",
    ],
    "properties": {
        "pipeline_id": {"$ref": "#/definitions/pipeline_id"},
        "severity": {"enum": ["blocked", "warning"]},
        "file": {"type": "string"},
        "line": {"type": "integer", "minimum": 1},
        "col": {"type": "integer", "minimum": 1},
        "field": {"type": "string", "description": "e.g. trigger.token_env"},
        "variable": {"type": "string"},
        "message": {"type": "string"},
    },
    "additionalProperties": False,
}


def _list(ref: str) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": f"#/definitions/{ref}"}}


PLAN_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": SCHEMA_ID,
    "title": "Backfill reconciler plan",
    "description": "The output of `reconciler plan --format json` (docs/plan-json.md).",
    "type": "object",
    "required": [
        "format_version",
        "now",
        "config_changes",
        "actions",
        "waiting",
        "gaps",
        "sla_breaches",
        "summary",
    ],
    "properties": {
        "format_version": {
            "enum": [3, 2],
            "description": "3: `plan --format json`, by date ranges; 2: `--format json-v2`, "
            "one object per run",
        },
        "now": {"$ref": "#/definitions/instant"},
        "config_changes": _list("config_change"),
        "actions": {"type": "array"},
        "waiting": {"type": "array"},
        "gaps": {"type": "array"},
        "sla_breaches": _list("sla_breach"),
        "paused": {**_list("paused"), "description": "present when a pipeline is paused"},
        "excluded": {
            **_list("excluded"),
            "description": "present when a pipeline has due excluded dates",
        },
        "summary": {"$ref": "#/definitions/summary"},
        "compare": {"$ref": "#/definitions/compare"},
        "problems": {**_list("problem"), "minItems": 1},
        "fingerprint": {"$ref": "#/definitions/fingerprint"},
    },
    "additionalProperties": False,
    "if": {"properties": {"format_version": {"const": 3}}},
    "then": {
        "properties": {
            "actions": _list("action_ranges"),
            "waiting": _list("waiting_ranges"),
            "gaps": _list("gap_ranges"),
        }
    },
    "else": {
        "properties": {
            "actions": _list("action"),
            "waiting": _list("waiting"),
            "gaps": _list("gap"),
        }
    },
    "definitions": {
        "pipeline_id": _PIPELINE_ID,
        "action_ranges": ACTION_RANGES,
        "waiting_ranges": WAITING_RANGES,
        "gap_ranges": GAP_RANGES,
        "date": _DATE,
        "instant": _INSTANT,
        "count": _COUNT,
        "config_change": _CONFIG_CHANGE,
        "action": _ACTION,
        "upstream": _UPSTREAM,
        "waiting": _WAITING,
        "gap": _GAP,
        "sla_breach": _SLA_BREACH,
        "paused": _PAUSED,
        "excluded": _EXCLUDED,
        "summary": _SUMMARY,
        "compare": _COMPARE,
        "fingerprint": _FINGERPRINT,
        "problem": _PROBLEM,
    },
}


def plan_schema_text() -> str:
    """The schema as committed to ``schemas/``: stable key order, trailing newline."""
    return json.dumps(PLAN_SCHEMA, indent=2) + "\n"


def plan_problems(document: Any) -> list[str]:
    """Where ``document`` breaks the plan schema, as ``path: message`` lines (empty: valid)."""
    from jsonschema import Draft7Validator

    validator = Draft7Validator(PLAN_SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]
