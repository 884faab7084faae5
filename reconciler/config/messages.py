"""Pydantic validation errors rewritten for the person fixing the YAML: expected, found, where."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel

from reconciler.config.models import PLATFORM_MODELS, LocalPipeline
from reconciler.config.value_types import (
    EMAIL_PATTERN,
    ENV_NAME_PATTERN,
    HHMM_PATTERN,
    ONE_LINE_PATTERN,
    PIPELINE_ID_PATTERN,
    REQUEST_ID_PATTERN,
    WEEKDAYS,
)

Path = tuple[str | int, ...]

PATTERN_HELP = {
    PIPELINE_ID_PATTERN: "an id of lowercase letters, digits and _ that starts with a letter "
    "(at most 64 characters)",
    HHMM_PATTERN: "a time of day as HH:MM (00:00 to 23:59)",
    EMAIL_PATTERN: "an email address",
    ENV_NAME_PATTERN: "the name of an environment variable (letters, digits and _), not its value",
    ONE_LINE_PATTERN: "one line of text without control characters (no newlines or tabs)",
    REQUEST_ID_PATTERN: "an id of letters, digits, '.', '_' and '-' (at most 128 characters)",
}
# What a value should have been, by pydantic error type.
EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "date_type": "a date as YYYY-MM-DD",
    "date_parsing": "a date as YYYY-MM-DD",
    "date_from_datetime_parsing": "a date as YYYY-MM-DD",
    "date_from_datetime_inexact": "a date without a time of day",
    "string_too_short": "non-empty text",
}
# ``ValueError("days[2]: ...")`` from a model validator names a field below the model.
_RELATIVE = re.compile(
    r"^(?:Value error, )?((?:[a-z_]+|\[\d+\])(?:\.[a-z_]+|\[\d+\])*): (.*)$", re.DOTALL
)
_STEP = re.compile(r"[a-z_]+|\[(\d+)\]")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # a bound that is a date


def found(value: Any) -> str:
    """A value as the error shows it: short, in YAML's words, never a whole mapping."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "nothing (null)"
    elif isinstance(value, dict):
        text = "a mapping" if value else "an empty mapping"
    elif isinstance(value, list | tuple | set):
        text = "a list" if value else "an empty list"
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def expected(error: Any) -> str | None:
    """What the value should have been, for errors about one value's type or range."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in EXPECTED:
        return EXPECTED[kind]
    if kind == "greater_than_equal":
        if _ISO_DATE.match(str(ctx.get("ge"))):
            return f"a date from {ctx['ge']} on"
        return f"a number >= {ctx.get('ge')}"
    if kind == "less_than_equal":
        if _ISO_DATE.match(str(ctx.get("le"))):
            return f"a date up to {ctx['le']}"
        return f"a number <= {ctx.get('le')}"
    if kind == "greater_than":
        return f"a number > {ctx.get('gt')}"
    if kind == "less_than":
        return f"a number < {ctx.get('lt')}"
    if kind == "too_short":
        count = ctx.get("min_length")
        return f"at least {count} item{'s' if count != 1 else ''}"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} items"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    if kind == "literal_error":
        return str(ctx.get("expected", "one of the allowed values"))
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return PATTERN_HELP.get(pattern, f"text matching {pattern}")
    return None


def key_expected(loc: Sequence[str | int]) -> str:
    """What a mapping key should look like (``parameters`` keys are the only checked ones)."""
    if loc[-3:-2] == ("parameters",):
        return "a parameter name of letters, digits and _ that does not start with a digit"
    return "a text key"


def days_expected(raw: Any) -> str:
    """What ``schedule.days`` holds, for the schedule's type."""
    schedule = raw.get("schedule") if isinstance(raw, dict) else None
    kind = schedule.get("type") if isinstance(schedule, dict) else None
    weekdays = ", ".join(WEEKDAYS)
    if kind == "weekly":
        return f"a weekday ({weekdays})"
    if kind == "monthly":
        return "a day of the month: 1..31, or -1..-31 counting back from the month's end"
    return f"a weekday ({weekdays}) or a day of the month (1..31, -1..-31)"


def relative_field(message: str) -> tuple[Path, str]:
    """Split ``"days[2]: text"`` into ``(("days", 2), "text")``; no prefix gives ``()``."""
    match = _RELATIVE.match(message)
    if match is None:
        return (), message.removeprefix("Value error, ")
    steps: list[str | int] = [
        int(step.group(1)) if step.group(1) else step.group(0)
        for step in _STEP.finditer(match.group(1))
    ]
    return tuple(steps), match.group(2)


def model_at(raw: Any, loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class a document path points into, to suggest the keys it knows."""
    if not isinstance(raw, dict):
        return None
    model: Any = PLATFORM_MODELS.get(str(raw.get("platform")), LocalPipeline)
    value: Any = raw
    for item in loc:
        if isinstance(item, int) or model is None:
            value = value[item] if isinstance(value, list) and isinstance(item, int) else None
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == item), None)
        value = value.get(item) if isinstance(value, dict) else None
        if field is None:
            # a union tag in the location: the next model is chosen by that tag
            continue
        model = _unwrap_model(field.annotation, value)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap_model(annotation: Any, value: Any) -> Any:
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if origin in (list, dict, typing.Union, types.UnionType):
            model = _unwrap_model(arg, value)
            if model is not None:
                tag = value.get("channel") if isinstance(value, dict) else None
                if tag is None or model.model_fields.get("channel") is None:
                    return model
                default = model.model_fields["channel"].annotation
                if tag in typing.get_args(default):
                    return model
        elif typing.get_origin(arg) is typing.Annotated:
            model = _unwrap_model(typing.get_args(arg)[0], value)
            if model is not None:
                return model
    if origin is typing.Annotated:
        return _unwrap_model(typing.get_args(annotation)[0], value)
    return None


def unknown_key(raw: Any, loc: Sequence[str | int]) -> str:
    """``unknown key 'retyr'; did you mean 'retry'?`` with the keys that are allowed there."""
    name = str(loc[-1])
    model = model_at(raw, loc[:-1])
    if model is None:
        return f"unknown key {name!r}"
    known = sorted(f.alias or n for n, f in model.model_fields.items())
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {name!r}{hint} (expected one of: {', '.join(known)})"
