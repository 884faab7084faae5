"""The intents of a pass: which of a plan's starting actions this reconciler starts, as
``RunIntent``s with their deterministic batch ids (the others are reported as skipped)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from reconciler.config.loading import LoadedPipeline
from reconciler.core.batches import RunIntent, batch_key, short_id
from reconciler.core.plan import Action
from reconciler.platforms.base import Platform
from reconciler.reconcile.pass_report import STARTING, ApplyReport


def startable(
    actions: Sequence[Action],
    pipelines: Mapping[str, LoadedPipeline],
    platforms: Mapping[str, Platform],
    report: ApplyReport,
    blocked: Collection[str] = frozenset(),
) -> list[RunIntent]:
    """The intents of the plan's starting actions whose platform this reconciler can drive
    and whose pipeline is not paused; the others are reported as skipped. (A paused
    pipeline's runs in flight are still followed: adoption, not this, polls them.) A
    ``blocked`` pipeline (a trigger variable missing: ``report.env_problems`` names it)
    starts nothing: no run is recorded, no attempt used."""
    out: list[RunIntent] = []
    for action in actions:
        if action.kind not in STARTING or action.pipeline_id in blocked:
            continue
        spec = pipelines[action.pipeline_id].spec
        if spec.paused:
            note = f"{action.pipeline_id}: paused" + (
                f" ({spec.pause_reason})" if spec.pause_reason else ""
            )
            if note not in report.skipped:
                report.skipped.append(note)
            continue
        model = pipelines[action.pipeline_id].model
        if model.platform not in platforms:
            note = f"{action.pipeline_id}: platform {model.platform!r} is not available in apply"
            if note not in report.skipped:
                report.skipped.append(note)
            continue
        key = batch_key(action.pipeline_id, action.dates, action.request_id, action.attempt)
        out.append(
            RunIntent(
                batch_id=short_id(key),
                key=key,
                pipeline_id=action.pipeline_id,
                dates=action.dates,
                attempt=action.attempt,
                kind=action.kind,
                request_id=action.request_id,
                priority=action.priority,
                retry_schedule=model.retry.schedule,
                platform=model.platform,
                version=pipelines[action.pipeline_id].spec.version,
            )
        )
    return out
