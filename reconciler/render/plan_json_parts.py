"""What the JSON plan's two versions share: the document around the entries, and how
values that are not JSON (instants, dates read back from the state) are written."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from reconciler.core.plan import Plan


def iso(value: datetime) -> str:
    return value.isoformat()


def jsonable(value: object) -> object:
    """Config values read back from the state may be dates or times; JSON gets their text."""
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    return str(value)


def plan_document(
    plan: Plan, version: int, actions: list[Any], waiting: list[Any], gaps: list[Any]
) -> dict[str, Any]:
    """The document of ``plan`` with the given entries (each version writes its own);
    ``paused`` and ``excluded`` only when some pipeline is paused or has excluded dates."""
    doc: dict[str, Any] = {
        "format_version": version,
        "now": iso(plan.now),
        "config_changes": [
            {
                "pipeline_id": c.pipeline_id,
                "change": c.change,
                "fields": {k: [old, new] for k, (old, new) in c.fields.items()},
            }
            for c in plan.config_changes
        ],
        "actions": actions,
        "waiting": waiting,
        "gaps": gaps,
        "sla_breaches": [
            {"pipeline_id": b.pipeline_id, "date": b.date.isoformat(), "deadline": iso(b.deadline)}
            for b in plan.sla_breaches
        ],
    }
    if plan.paused:
        doc["paused"] = [{"pipeline_id": p.pipeline_id, "reason": p.reason} for p in plan.paused]
    if plan.excluded:
        doc["excluded"] = [{"pipeline_id": e.pipeline_id, "dates": e.dates} for e in plan.excluded]
    doc["summary"] = plan.summary
    return doc
