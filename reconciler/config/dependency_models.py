"""Pydantic models of a pipeline's ``depends_on`` entries and its ``version``.

What each key means for planning is in docs/configuration.md ("Dependencies"). The
checks here need one file only (an upstream listed twice, a pipeline that depends on
itself); whether an upstream exists and whether dependencies form a cycle need the
whole config directory, and ``fleet_checks`` does them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictInt, WithJsonSchema

from reconciler.config.bounds import MAX_OFFSET_DAYS
from reconciler.config.strict_model import Strict
from reconciler.config.value_types import ONE_LINE_PATTERN, PIPELINE_ID_PATTERN, OneLine

DATES_HELP = (
    "which upstream dates a date D of this pipeline needs, with D' = D + offset: "
    "period (default): the upstream's scheduled dates after the previous date of this "
    "pipeline (plus offset) up to D'; same: D' itself, if the upstream schedules it; "
    "latest: the upstream's latest scheduled date on or before D'"
)
DependencyOffset = Annotated[
    StrictInt,
    Field(
        ge=-MAX_OFFSET_DAYS,
        le=MAX_OFFSET_DAYS,
        description="days added to this pipeline's date before mapping it (-1: the day before)",
    ),
]


class DependencyModel(Strict):
    """One upstream pipeline whose dates must be covered before a date of this one runs."""

    pipeline: str = Field(
        pattern=PIPELINE_ID_PATTERN, description="the id of another pipeline of the directory"
    )
    dates: Literal["period", "same", "latest"] = Field("period", description=DATES_HELP)
    offset: DependencyOffset = 0


def _each_entry_once(value: list[DependencyModel]) -> list[DependencyModel]:
    """An entry repeated word for word is a slip; the same upstream read two ways (its
    period and its latest date, or the same date and the day before) is not."""
    first: dict[tuple[str, str, int], int] = {}
    for index, dependency in enumerate(value):
        key = (dependency.pipeline, dependency.dates, dependency.offset)
        if key in first:
            raise ValueError(
                f"[{index}].pipeline: repeats depends_on[{first[key]}] ({dependency.pipeline!r}, "
                f"dates {dependency.dates}, offset {dependency.offset}); list each entry once"
            )
        first[key] = index
    return value


DependsOn = Annotated[
    list[DependencyModel],
    AfterValidator(_each_entry_once),
    Field(
        description="pipelines whose dates must be covered (and not outdated) before a "
        "date of this one runs; see docs/configuration.md"
    ),
]
# Any YAML text or whole number, kept as written; the planner compares it as text.
Version = Annotated[
    OneLine | StrictInt | None,
    WithJsonSchema(
        {
            "type": ["string", "integer", "null"],
            "pattern": ONE_LINE_PATTERN,
            "description": "the version of what this pipeline computes (text or a whole "
            "number); with backfill.refresh_on_version_change, a change makes every covered "
            "date outdated, so it runs again",
        }
    ),
]


def self_dependency(pipeline_id: str, depends_on: Sequence[DependencyModel]) -> str | None:
    """The error for a pipeline that lists itself as an upstream, or None."""
    for index, dependency in enumerate(depends_on):
        if dependency.pipeline == pipeline_id:
            return f"depends_on[{index}].pipeline: pipeline {pipeline_id!r} cannot depend on itself"
    return None
