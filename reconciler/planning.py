"""The edge where config, state and the pure planner meet: load, observe, plan."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reconciler.config.loading import LoadedPipeline, load_config
from reconciler.config.specs import flat_config, to_spec
from reconciler.core.calendar import next_scheduled
from reconciler.core.plan import Plan
from reconciler.core.planner import plan
from reconciler.core.spec import PipelineSpec
from reconciler.errors import PlanError
from reconciler.render.dates import NextDate
from reconciler.state.reading import StateReader


@dataclass(frozen=True, slots=True)
class PlanResult:
    plan: Plan
    pipelines: tuple[LoadedPipeline, ...]
    specs: tuple[PipelineSpec, ...]

    def adjacency(self) -> dict[str, NextDate]:
        """Per pipeline, the next scheduled date: how renderers compress date runs."""

        def following(spec: PipelineSpec) -> NextDate:
            return lambda d: next_scheduled(spec.schedule, d)

        return {spec.id: following(spec) for spec in self.specs}


def select(
    pipelines: list[LoadedPipeline], wanted: Sequence[str], config_dir: Path
) -> list[LoadedPipeline]:
    """Keep the ``--pipeline`` ids; an unknown id is an error, not an empty plan."""
    if not wanted:
        return pipelines
    known = {p.id for p in pipelines}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise PlanError(
            f"no pipeline with id {', '.join(map(repr, unknown))} in {config_dir} "
            f"(known: {', '.join(sorted(known)[:10])}{', ...' if len(known) > 10 else ''})"
        )
    return [p for p in pipelines if p.id in set(wanted)]


def make_plan(
    config_dir: Path, reader: StateReader, now: datetime, wanted: Sequence[str] = ()
) -> PlanResult:
    """Load config, read state, and plan at ``now``."""
    pipelines = select(load_config(config_dir), wanted, config_dir)
    specs = tuple(to_spec(p.model) for p in pipelines)
    ids = [p.id for p in pipelines]
    observed = reader.observe(ids)
    extra = reader.requests(ids)
    specs = tuple(dataclasses.replace(s, requests=s.requests + extra.get(s.id, ())) for s in specs)
    desired = {p.id: flat_config(p.model) for p in pipelines}
    if wanted:
        # a filtered plan speaks only of the pipelines asked for
        applied = {k: v for k, v in observed.applied_config.items() if k in set(wanted)}
        observed = type(observed)(observed.pipelines, applied, observed.deleted)
    result = plan(specs, observed, now, desired)
    return PlanResult(result, tuple(pipelines), specs)
