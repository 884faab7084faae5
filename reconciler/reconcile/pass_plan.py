"""The plan a pass works from: the state of some pipelines read and planned at ``now``, once
per round (``apply --wait`` with dependencies plans again as runs end)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from reconciler.config.loading import LoadedPipeline
from reconciler.core.coverage import Observed
from reconciler.core.fleet import plan_fleet
from reconciler.core.plan import Plan
from reconciler.core.spec import BackfillRequest, PipelineSpec, with_adhoc
from reconciler.reconcile.planning import retried
from reconciler.state.pg_outage import retrying
from reconciler.state.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    """The pass's one plan and what it was made from."""

    plan: Plan
    observed: Observed
    run_specs: Mapping[str, PipelineSpec]  # with ad-hoc requests
    unplannable: Mapping[str, str]


def plan_now(store: Store, pipelines: Mapping[str, LoadedPipeline], now: datetime) -> Planned:
    """Read the state of ``pipelines`` and plan them at ``now`` (a pipeline whose planning
    fails is left out and named)."""
    limits = retried(pipelines.values(), notifying=True)

    def read() -> tuple[Observed, dict[str, tuple[BackfillRequest, ...]]]:
        with store.read() as session:
            return session.plan_inputs(list(pipelines), limits)

    observed, extra = retrying(read)
    specs = {s.id: s for s in with_adhoc([p.spec for p in pipelines.values()], extra)}
    fleet = plan_fleet(list(specs.values()), observed, now)
    return Planned(
        plan=fleet.plan, observed=observed, run_specs=specs, unplannable=fleet.unplannable
    )
