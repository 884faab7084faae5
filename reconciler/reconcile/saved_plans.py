"""Saved plans: a fingerprint of config and state written with ``plan --out``, checked by
``apply --plan`` under the apply lock.

A saved plan is applied only while it is still the plan: the config files have the
same digests, the state has the same table checksums, the plan is younger than the
allowed age, and planning again now gives the same actions. Otherwise ``apply --plan``
refuses with ``PlanError``, naming what changed, and the user makes a new plan.
The pass verifies the fingerprints under its lock before it writes anything, plans once,
and refuses unless that plan's actions are the saved ones: what it applies is the plan
that was reviewed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reconciler import __version__
from reconciler.config.loading import LoadedPipeline
from reconciler.core.plan import Plan
from reconciler.core.plan_diff import PlanComparison, date_deltas
from reconciler.errors import PlanError
from reconciler.reconcile.planning import PlanResult
from reconciler.render.dates import instant
from reconciler.render.plan_json import action_entries, plan_from_dict
from reconciler.state.store import Store, open_store

FUTURE_TOLERANCE = timedelta(minutes=1)


def config_fingerprint(pipelines: Sequence[LoadedPipeline]) -> dict[str, str]:
    """File name -> sha256 of its bytes, for every pipeline file of the config."""
    return {Path(p.file).name: p.digest for p in sorted(pipelines, key=lambda p: p.file)}


def state_fingerprint(state: str) -> dict[str, Any]:
    """``{"exists": False}`` for a missing file; else schema version and table checksums."""
    with open_store(state).read() as session:
        return session.fingerprint()


def make_fingerprint(result: PlanResult, state: str, wanted: Sequence[str]) -> dict[str, Any]:
    """What ``apply --plan`` checks: config digests, state checksums, filter, version."""
    return {
        "reconciler_version": __version__,
        "pipelines_filter": sorted(wanted),
        "config": config_fingerprint(result.pipelines),
        "state": state_fingerprint(state),
    }


@dataclass(frozen=True, slots=True)
class SavedPlan:
    plan: Plan
    document: Mapping[str, Any]
    fingerprint: Mapping[str, Any]


def load_saved(path: Path) -> SavedPlan:
    """Read a file written by ``plan --out``; ``PlanError`` for anything else."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanError(f"cannot read the saved plan {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise PlanError(f"{path} is not a saved plan: invalid JSON ({exc.msg})") from exc
    if not isinstance(document, dict):
        raise PlanError(f"{path} is not a saved plan: expected a JSON object")
    fingerprint = document.get("fingerprint")
    if not isinstance(fingerprint, dict):
        raise PlanError(
            f"{path} has no fingerprint, so it cannot be checked against the current config "
            "and state; save plans with `reconciler plan --out FILE`"
        )
    try:
        plan = plan_from_dict(document)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise PlanError(f"{path} is not a saved plan this reconciler can read: {exc}") from exc
    return SavedPlan(plan, document, fingerprint)


def _config_drift(saved: Mapping[str, str], current: Mapping[str, str]) -> list[str]:
    edited = sorted(f for f in saved.keys() & current.keys() if saved[f] != current[f])
    added = sorted(current.keys() - saved.keys())
    removed = sorted(saved.keys() - current.keys())
    out = [f"{f} edited" for f in edited] + [f"{f} added" for f in added]
    out += [f"{f} removed" for f in removed]
    return out


# what a change to a table means, in the user's words: the first table of a cause that
# changed names it (several tables change together: an apply's runs touch five)
CAUSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ad-hoc backfill requests changed (reconciler backfill)", ("backfill_requests",)),
    ("the applied config changed (an apply synced it)", ("pipelines", "pipeline_parameters")),
    (
        "runs were recorded (an apply or import-history ran)",
        ("pipeline_run_log", "coverage", "open_dates", "backfill_queue", "data_quality_log"),
    ),
    ("SLA breaches were recorded", ("sla_breaches",)),
    ("notifications were recorded or sent", ("pipeline_notifications",)),
)


def _state_drift(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """What changed in the state, as causes a user recognises, each with its tables."""
    if not current.get("exists"):
        return ["the state file is gone"] if saved.get("exists") else []
    created = not saved.get("exists")
    if not created and saved.get("schema_version") != current.get("schema_version"):
        return [
            f"the state was migrated (schema version {saved.get('schema_version')} -> "
            f"{current.get('schema_version')})"
        ]
    old = {} if created else saved.get("tables", {})
    new = current.get("tables", {})
    changed: dict[str, str] = {}
    for table in sorted(set(old) | set(new)):
        before, after = old.get(table), new.get(table)
        if before == after or (created and after is not None and _made_empty(table, after)):
            continue  # (a state made since holds empty tables: only filled ones tell)
        rows_before = 0 if before is None else before.get("rows")
        rows_after = 0 if after is None else after.get("rows")
        changed[table] = (
            f"{table}: {rows_before} -> {rows_after} rows"
            if rows_before != rows_after
            else f"{table}: rows changed"
        )
    # (apply takes its lock first, which creates a missing state: only its content tells)
    out = ["the state file was created"] if created and changed else []
    for cause, tables in CAUSES:
        details = [changed.pop(t) for t in tables if t in changed]
        if details:
            grew = tables == ("backfill_requests",) and _grew(old, new, tables[0])
            cause = "an ad-hoc backfill request was added (reconciler backfill)" if grew else cause
            out.append(f"{cause}: {', '.join(details)}")
    out += [f"table {detail}" for detail in changed.values()]
    return out


def _made_empty(table: str, checksum: Mapping[str, Any]) -> bool:
    """A table as a new state has it (the pass's lock creates a missing state)."""
    return checksum.get("rows") == 0 or table == "schema_version"


def _grew(old: Mapping[str, Any], new: Mapping[str, Any], table: str) -> bool:
    before, after = old.get(table) or {"rows": 0}, new.get(table) or {"rows": 0}
    return int(after.get("rows", 0)) > int(before.get("rows", 0))


def _normal(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _plan_drift(saved: Plan, current: Plan) -> list[str]:
    """Sentences for the dates whose part in the plan changed (time passing, mostly)."""
    from reconciler.render.plan_compare import sentence

    empty = PlanComparison((), (), ())
    lines = []
    for delta in date_deltas(saved, current):
        if delta.kind in ("waiting", "gap"):
            continue
        lines += [change.text for change in sentence(empty, delta)]
    return lines


@dataclass(frozen=True, slots=True, kw_only=True)
class SavedPlanCheck:
    """A saved plan that ``apply --plan`` must verify under the lock before applying it."""

    saved: SavedPlan
    max_age: timedelta


def verify_config(
    check: SavedPlanCheck, pipelines: Sequence[LoadedPipeline], now: datetime
) -> None:
    """Refuse (``PlanError``) a saved plan made from other config files (the ones this pass
    loaded), with ``--pipeline``, or too old; before the pass takes the lock."""
    fingerprint = check.saved.fingerprint
    made_by = fingerprint.get("reconciler_version")
    if made_by != __version__:
        raise PlanError(
            f"the saved plan was made by reconciler {made_by}, this is {__version__} (it may "
            "read the same config differently); make a new plan"
        )
    if fingerprint.get("pipelines_filter"):
        raise PlanError(
            "the saved plan was made with --pipeline "
            f"{', '.join(fingerprint['pipelines_filter'])}, but apply works on every "
            "pipeline; save a plan without --pipeline"
        )
    drift = _config_drift(fingerprint.get("config", {}), config_fingerprint(pipelines))
    if drift:
        raise PlanError(
            f"config changed since the plan was made ({', '.join(drift[:5])}"
            f"{', ...' if len(drift) > 5 else ''}); make a new plan"
        )
    made = check.saved.plan.now
    if made - now > FUTURE_TOLERANCE:
        raise PlanError(
            f"plan too old to trust: it was made at {instant(made)}, after now "
            f"({instant(now)}); was it made with a different --now?"
        )
    if now - made > check.max_age:
        raise PlanError(
            f"plan too old: made at {instant(made)}, {_age(now - made)} ago, more than "
            f"--max-plan-age {_age(check.max_age)}; make a new plan"
        )


def verify_state(check: SavedPlanCheck, store: Store) -> None:
    """Refuse a saved plan whose state changed since; under the apply lock, before the
    pass writes anything."""
    with store.read() as session:
        current = session.fingerprint()
    drift = _state_drift(check.saved.fingerprint.get("state", {}), current)
    if drift:
        raise PlanError(
            f"state changed since the plan was made ({'; '.join(drift[:5])}"
            f"{'; ...' if len(drift) > 5 else ''}); make a new plan"
        )


def verify_same_plan(check: SavedPlanCheck, current: Plan) -> None:
    """Refuse a saved plan whose actions are not the pass's own plan (time passed: new
    dates became due, a retry's time came); the pass then applies exactly that plan."""
    saved = check.saved
    if _normal(_actions_as_saved(current, saved.document)) != _normal(
        saved.document.get("actions")
    ):
        lines = _plan_drift(saved.plan, current)
        detail = "; ".join(lines[:5]) if lines else "its actions differ"
        raise PlanError(
            f"plan too old: since it was made at {instant(saved.plan.now)} the plan changed "
            f"({detail}); make a new plan"
        )


def _actions_as_saved(plan: Plan, document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The plan's actions written as the saved plan wrote its own: by date ranges
    (version 3), or one object per run in a version 2 file saved before."""
    if document.get("format_version") == 2:
        from reconciler.render.plan_json_v2 import plan_to_v2_dict

        return list(plan_to_v2_dict(plan)["actions"])
    return list(action_entries(plan))


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0 and seconds >= 60:
        return f"{seconds // 60}m"
    return f"{seconds}s"
