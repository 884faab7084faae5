"""The JSON plan in both forms, checked against the schema and against each other."""

from __future__ import annotations

import json
from typing import Any

from reconciler.core.plan import Plan
from reconciler.render.plan_expand import expand_plan
from reconciler.render.plan_json_v2 import plan_to_json_v2
from reconciler.render.plan_schema import plan_problems


def expanded_and_checked(
    text: str, plan: Plan, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The version 3 ``text`` expanded to version 2, after checking that both forms are
    valid and that the expansion is exactly what ``--format json-v2`` writes."""
    ranges = json.loads(text)
    assert ranges["format_version"] == 3
    assert plan_problems(ranges) == []
    written = json.loads(plan_to_json_v2(plan, extra))
    assert plan_problems(written) == []
    expanded = expand_plan(ranges)
    assert expanded == written
    return expanded
