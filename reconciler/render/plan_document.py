"""The JSON plan document with its optional parts: ``compare`` and a saved plan's ``fingerprint``.

The versioned keys come from ``plan_json`` unchanged; ``compare`` (with ``plan
--compare-to``) and ``fingerprint`` (in files written by ``plan --out``) follow them, so
a reader that ignores unknown keys reads every document.
"""

from __future__ import annotations

from typing import Any

from reconciler.core.plan_diff import PlanComparison
from reconciler.core.spec import BackfillRequest


def _request(request: BackfillRequest | None) -> dict[str, Any] | None:
    if request is None:
        return None
    return {
        "from": request.start.isoformat(),
        "to": request.end.isoformat(),
        "priority": request.priority,
        "reason": request.reason,
    }


def compare_to_dict(comparison: PlanComparison, base: str) -> dict[str, Any]:
    """The ``compare`` object: what the change does against the ``base`` config."""
    return {
        "base": base,
        "config_changes": [
            {
                "pipeline_id": c.pipeline_id,
                "change": c.change,
                "fields": {k: [old, new] for k, (old, new) in c.fields.items()},
            }
            for c in comparison.config_changes
        ],
        "dates": [
            {
                "pipeline_id": d.pipeline_id,
                "kind": d.kind,
                "request_id": d.request_id,
                "upstream": list(d.upstream),
                "added": [x.isoformat() for x in d.added],
                "removed": [x.isoformat() for x in d.removed],
                "declared": comparison.declared(d),
            }
            for d in comparison.deltas
        ],
        "requests": [
            {
                "pipeline_id": r.pipeline_id,
                "request_id": r.request_id,
                "change": r.change,
                "old": _request(r.old),
                "new": _request(r.new),
            }
            for r in comparison.requests
        ],
        "summary": {
            "added": comparison.added,
            "removed": comparison.removed,
            "new_dates": comparison.new_dates,
            "declared": comparison.declared_dates,
            "undeclared": comparison.undeclared_dates,
            "refresh": comparison.refresh_dates,
        },
    }
