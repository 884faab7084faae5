"""Planning a fleet so that one pipeline whose planning fails never stops the others.

Validation bounds every number and date, so no valid file is known to break the planner;
this is the net under what validation did not foresee (or a planner bug). The whole fleet
is planned at once, as always; only when that raises is each pipeline planned alone to
find the ones that fail. Those are left out of the plan and named, with the error, so
that ``plan`` and ``apply`` report them and exit 1 while the rest of the fleet goes on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.core.coverage import Observed
from reconciler.core.plan import Plan
from reconciler.core.planner import plan
from reconciler.core.spec import PipelineSpec


@dataclass(frozen=True, slots=True)
class FleetPlan:
    """The plan of every pipeline that could be planned, and why the others could not."""

    plan: Plan
    unplannable: Mapping[str, str] = field(default_factory=dict)


def plan_fleet(
    specs: Sequence[PipelineSpec],
    observed: Observed,
    now: datetime,
    desired_config: Mapping[str, Mapping[str, Any]] | None = None,
    context: Sequence[PipelineSpec] = (),
) -> FleetPlan:
    """``context``: upstreams decided for what they make available, not planned."""
    try:
        return FleetPlan(plan(specs, observed, now, desired_config, context))
    except Exception:  # (any failure: the point is to find whose it is)
        broken: dict[str, str] = {}
        for spec in specs:
            try:
                plan([spec], observed, now)
            except Exception as exc:
                broken[spec.id] = f"{type(exc).__name__}: {exc}"
        if not broken:
            raise  # not one pipeline's doing: a real error of the whole pass
    good = [s for s in specs if s.id not in broken]
    return FleetPlan(plan(good, observed, now, desired_config, context), broken)


def unplannable_lines(unplannable: Mapping[str, str]) -> list[str]:
    """One line per pipeline left out, for stderr."""
    return [
        f"error: pipeline {pid} could not be planned and was left out of this pass "
        f"(the rest of the fleet went on): {why}"
        for pid, why in sorted(unplannable.items())
    ]
