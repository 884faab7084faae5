"""One pipeline whose planning fails never stops the others: it is left out and named."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reconciler.core.coverage import Observed
from reconciler.core.fleet import plan_fleet, unplannable_lines
from reconciler.core.planner import plan
from reconciler.core.spec import PipelineSpec, Schedule

NOW = datetime(2026, 1, 10, 12, tzinfo=UTC)


def spec(pid: str) -> PipelineSpec:
    return PipelineSpec(id=pid, schedule=Schedule(type="daily", start=date(2026, 1, 1)))


def broken(pid: str) -> PipelineSpec:
    """A spec no validation would let through (the kind of surprise the net is for)."""
    bad = spec(pid)
    object.__setattr__(bad.schedule, "every", 0)
    return bad


def test_a_pipeline_that_breaks_the_planner_is_left_out_and_the_rest_planned() -> None:
    fleet = [spec("a"), broken("b"), spec("c")]
    with pytest.raises(ValueError):
        plan(fleet, Observed(), NOW)  # what used to stop every pipeline of the pass
    result = plan_fleet(fleet, Observed(), NOW)
    assert set(result.unplannable) == {"b"}
    assert result.unplannable["b"].startswith("ValueError: ")
    assert {a.pipeline_id for a in result.plan.actions} == {"a", "c"}
    assert result.plan == plan([spec("a"), spec("c")], Observed(), NOW)
    (line,) = unplannable_lines(result.unplannable)
    assert line.startswith("error: pipeline b could not be planned")


def test_a_healthy_fleet_is_planned_once_and_names_nobody() -> None:
    fleet = [spec("a"), spec("c")]
    result = plan_fleet(fleet, Observed(), NOW)
    assert result.unplannable == {}
    assert result.plan == plan(fleet, Observed(), NOW)
