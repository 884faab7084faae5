"""The edge where config, state and the pure planner meet: load, observe, plan."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from reconciler.config.loading import LoadedPipeline, load_config
from reconciler.core.calendar import following
from reconciler.core.fleet import plan_fleet
from reconciler.core.plan import Plan
from reconciler.core.plan_diff import PlanComparison, compare_plans
from reconciler.core.spec import BackfillRequest, PipelineSpec, with_adhoc
from reconciler.errors import ConfigError, PlanError
from reconciler.reconcile.pipeline_graph import upstreams_of
from reconciler.render.dates import NextDate
from reconciler.state.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanResult:
    plan: Plan
    pipelines: tuple[LoadedPipeline, ...]
    specs: tuple[PipelineSpec, ...]
    unplannable: Mapping[str, str] = field(default_factory=dict)  # id -> why (left out)

    def adjacency(self) -> dict[str, NextDate]:
        """Per pipeline, the next scheduled date: how renderers compress date runs."""

        return {spec.id: following(spec.schedule) for spec in self.specs}


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


def apply_refusal(result: PlanResult, config_dir: Path, wanted: Sequence[str] = ()) -> str | None:
    """Why ``apply`` (without ``--allow-empty``) would refuse this plan, if it would.

    An empty config dir deletes every pipeline; ``apply`` takes that for a wrong
    ``--config-dir`` and refuses, so the plan says so next to the deletions it shows.
    """
    if result.pipelines or wanted:
        return None
    deletes = sum(1 for c in result.plan.config_changes if c.change == "delete")
    if not deletes:
        return None
    return (
        f"apply will refuse this plan: no pipeline files found in {config_dir}, which would "
        f"delete all {deletes} pipelines; check --config-dir, or pass `apply --allow-empty` "
        "to do it"
    )


def make_plan(
    config_dir: Path, store: Store, now: datetime, wanted: Sequence[str] = ()
) -> PlanResult:
    """Load config, read state, and plan at ``now``."""
    loaded = load_config(config_dir)
    pipelines = select(loaded, wanted, config_dir)
    context = upstreams_of(pipelines, loaded) if wanted else []
    return plan_pipelines(pipelines, store, now, wanted, context)


def retried(pipelines: Iterable[LoadedPipeline], notifying: bool = False) -> dict[str, int]:
    """Per pipeline, the attempt number from which its failures are exhausted: the state
    reads a failed date's end time and ids only below it. With ``notifying``, pipelines
    that notify are left out, so all their details are read (a failure notification
    names an exhausted date's run)."""
    return {p.id: p.spec.retry.attempts for p in pipelines if not (notifying and p.notifies)}


def plan_pipelines(
    pipelines: Sequence[LoadedPipeline],
    store: Store,
    now: datetime,
    wanted: Sequence[str] = (),
    context: Sequence[LoadedPipeline] = (),
) -> PlanResult:
    """Plan loaded pipelines against the state at ``now`` (read in one snapshot, and
    the state released before planning); ``context``: upstreams read and decided for
    what they make available, not planned."""
    specs = tuple(p.spec for p in pipelines)
    ids = [p.id for p in pipelines]
    with store.read() as session:
        observed, extra = session.plan_inputs(
            ids + [p.id for p in context], retried([*pipelines, *context])
        )
    around = with_adhoc([p.spec for p in context], extra) if context else []
    if extra:
        specs = tuple(with_adhoc(specs, extra))
    applied = observed.applied_config
    # the same config_json text is the same config: only the others are diffed
    same = {
        p.id
        for p in pipelines
        if p.id not in observed.deleted and applied.text(p.id) == p.config_json
    }
    if wanted:
        # a filtered plan speaks only of the pipelines asked for
        same |= set(applied) - set(wanted)
    if same:
        observed = replace(observed, applied_config=applied.without(same))
    desired = {p.id: p.flat for p in pipelines if p.id not in same}
    fleet = plan_fleet(specs, observed, now, desired, around)
    return PlanResult(
        plan=fleet.plan, pipelines=tuple(pipelines), specs=specs, unplannable=fleet.unplannable
    )


@dataclass(frozen=True, slots=True)
class Comparison:
    """``plan --compare-to``: the base config's plan and what the change does to it."""

    base: PlanResult
    result: PlanComparison
    label: str

    def adjacency(self, head: PlanResult) -> dict[str, NextDate]:
        """Next-date functions of both sides (a deleted pipeline is only in the base)."""
        return {**self.base.adjacency(), **head.adjacency()}


def load_base(base_dir: Path) -> list[LoadedPipeline] | None:
    """The base config; None for a missing directory (a change that adds the first files)."""
    if not base_dir.exists():
        return None
    try:
        return load_config(base_dir)
    except ConfigError as exc:
        raise PlanError(
            f"--compare-to {base_dir}: the base config is invalid ({len(exc.problems)} "
            f"problem(s), first: {exc.problems[0] if exc.problems else '?'}); fix it on the "
            "base branch, or plan without --compare-to"
        ) from exc


def _declared(pipelines: Sequence[LoadedPipeline]) -> dict[str, tuple[BackfillRequest, ...]]:
    return {p.id: p.spec.requests for p in pipelines}


def compare_to(
    head: PlanResult,
    base_dir: Path,
    store: Store,
    wanted: Sequence[str] = (),
    name: str | None = None,
) -> Comparison:
    """Plan the config in ``base_dir`` against the same state and instant as ``head``."""
    found = load_base(base_dir)
    loaded = found if found is not None else []
    label = name or str(base_dir)
    if found is None:
        label += " (not found: compared with an empty config)"
    if wanted:
        # a pipeline the change adds is not in the base: no error, just nothing to compare
        loaded = [p for p in loaded if p.id in set(wanted)]
    base = plan_pipelines(loaded, store, head.plan.now, wanted)
    result = compare_plans(
        base.plan,
        head.plan,
        {p.id: p.flat for p in base.pipelines},
        {p.id: p.flat for p in head.pipelines},
        _declared(base.pipelines),
        _declared(head.pipelines),
    )
    return Comparison(base, result, label)
