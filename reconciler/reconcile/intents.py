"""The intents of a pass: which of a plan's starting actions this reconciler starts, as
``RunIntent``s with their deterministic batch ids (the others are reported as skipped).

The intents are made lazily, in the plan's start order, as the executor takes them: a
fleet that has never run plans millions of backfills, and listing them all (each with
its hash) before the first run starts would cost minutes and gigabytes. Which pipelines
start anything (and the skipped notes) is decided up front, from the plan's groups.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from reconciler.config.loading import LoadedPipeline
from reconciler.core.batches import RunIntent, batch_key, short_id
from reconciler.core.plan import Action, ActionGroup, ActionList, Plan
from reconciler.platforms.base import Platform
from reconciler.reconcile.pass_report import STARTING, ApplyReport


@dataclass(frozen=True, slots=True)
class PassIntents:
    """A plan's intents, made as they are read (in start order), and how many there are."""

    stream: Iterator[RunIntent]
    total: int


def pass_intents(
    plan: Plan,
    pipelines: Mapping[str, LoadedPipeline],
    platforms: Mapping[str, Platform],
    report: ApplyReport,
    blocked: Collection[str] = frozenset(),
) -> PassIntents:
    """``startable`` for a whole plan, with the count of its intents (from its groups)."""
    starting = starting_pipelines(plan.action_groups(), pipelines, platforms, report, blocked)
    total = starting_runs(plan.action_groups(), starting)
    return PassIntents(intents_of(plan.actions, starting, pipelines), total)


def startable(
    actions: ActionList | Sequence[Action],
    pipelines: Mapping[str, LoadedPipeline],
    platforms: Mapping[str, Platform],
    report: ApplyReport,
    blocked: Collection[str] = frozenset(),
) -> Iterator[RunIntent]:
    """The intents of the plan's starting actions whose platform this reconciler can drive
    and whose pipeline is not paused, made as they are read; the others are reported as
    skipped (at once, before any intent is read). (A paused pipeline's runs in flight are
    still followed: adoption, not this, polls them.) A ``blocked`` pipeline (a trigger
    variable missing: ``report.env_problems`` names it) starts nothing: no run is
    recorded, no attempt used."""
    starting = starting_pipelines(_groups(actions), pipelines, platforms, report, blocked)
    return intents_of(actions, starting, pipelines)


def _groups(actions: ActionList | Sequence[Action]) -> Iterable[ActionGroup]:
    if isinstance(actions, ActionList):
        return actions.groups()
    return map(ActionGroup.of, actions)


def starting_pipelines(
    groups: Iterable[ActionGroup],
    pipelines: Mapping[str, LoadedPipeline],
    platforms: Mapping[str, Platform],
    report: ApplyReport,
    blocked: Collection[str] = frozenset(),
) -> frozenset[str]:
    """The pipelines with a starting action this pass may start; a paused pipeline or one
    whose platform is not available here is noted in ``report.skipped`` (once)."""
    out: set[str] = set()
    for group in groups:
        pid = group.pipeline_id
        if group.kind not in STARTING or pid in blocked or pid in out:
            continue
        spec = pipelines[pid].spec
        if spec.paused:
            note = f"{pid}: paused" + (f" ({spec.pause_reason})" if spec.pause_reason else "")
        elif pipelines[pid].model.platform not in platforms:
            platform = pipelines[pid].model.platform
            note = f"{pid}: platform {platform!r} is not available in apply"
        else:
            out.add(pid)
            continue
        if note not in report.skipped:
            report.skipped.append(note)
    return frozenset(out)


def intents_of(
    actions: Iterable[Action], starting: Collection[str], pipelines: Mapping[str, LoadedPipeline]
) -> Iterator[RunIntent]:
    """The ``RunIntent`` of each starting action of the ``starting`` pipelines, in order."""
    for action in actions:
        if action.kind not in STARTING or action.pipeline_id not in starting:
            continue
        loaded = pipelines[action.pipeline_id]
        key = batch_key(action.pipeline_id, action.dates, action.request_id, action.attempt)
        yield RunIntent(
            batch_id=short_id(key),
            key=key,
            pipeline_id=action.pipeline_id,
            dates=action.dates,
            attempt=action.attempt,
            kind=action.kind,
            request_id=action.request_id,
            priority=action.priority,
            retry_schedule=loaded.model.retry.schedule,
            platform=loaded.model.platform,
            version=loaded.spec.version,
        )


def starting_runs(groups: Iterable[ActionGroup], starting: Collection[str]) -> int:
    """How many runs the ``starting`` pipelines' starting actions are (for progress)."""
    return sum(g.run_count for g in groups if g.kind in STARTING and g.pipeline_id in starting)
