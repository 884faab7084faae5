"""Backfill requests removed from a pipeline file: their pending dates are dropped, and
with ``cancel_running: true`` their runs in flight are cancelled too.

The removed requests are those of the applied config (``pipelines.config_json``) that
the new file no longer has, so the removal is seen once, by the sync that writes it.
The plan drops the dates by itself (nothing claims them any more); the queue rows still
pending are marked ``canceled``. Runs in flight get a recorded cancel, which the same
pass sends to their platforms (``cancelling.send_recorded``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from reconciler.config.loading import LoadedPipeline
from reconciler.state.sessions import WriteSession

REQUESTS_KEY = "backfill.requests"  # (its key in the flat config)


def removed_requests(
    stale: Sequence[LoadedPipeline], applied: Mapping[str, str | None]
) -> dict[str, dict[str, bool]]:
    """Per pipeline, the request ids its applied config had and its file no longer has,
    each with its ``cancel_running`` flag as it was applied."""
    out: dict[str, dict[str, bool]] = {}
    for pipeline in stale:
        text = applied.get(pipeline.id)
        if not text:
            continue
        try:
            old = json.loads(text).get(REQUESTS_KEY) or []
        except (json.JSONDecodeError, AttributeError):
            continue
        kept = {r.id for r in pipeline.spec.requests}
        gone = {
            str(r["id"]): bool(r.get("cancel_running", False))
            for r in old
            if isinstance(r, dict) and "id" in r and r["id"] not in kept
        }
        if gone:
            out[pipeline.id] = gone
    return out


def cancel_removed(
    session: WriteSession,
    stale: Sequence[LoadedPipeline],
    applied: Mapping[str, str | None],
    now: datetime,
) -> list[str]:
    """Drop the removed requests' pending dates and record cancels of the runs in flight
    of those with ``cancel_running``; one report line per removed request."""
    removed = removed_requests(stale, applied)
    if not removed:
        return []
    session.cancel_request_backfills(
        [(pid, rid) for pid, ids in removed.items() for rid in ids], now
    )
    stopping = {(pid, rid) for pid, ids in removed.items() for rid, stop in ids.items() if stop}
    flying = [b for b in session.in_flight() if (b.pipeline_id, b.request_id) in stopping]
    session.record_cancels(flying, now, "config", "backfill request removed from its file")
    lines = []
    for pid, ids in sorted(removed.items()):
        for rid, stop in sorted(ids.items()):
            runs = sum(1 for b in flying if (b.pipeline_id, b.request_id) == (pid, rid))
            if stop:
                what = f"{runs} run(s) in flight to cancel"
            else:
                what = "its runs in flight go on (no cancel_running)"
            lines.append(f"request {rid} of {pid} removed: pending dates dropped, {what}")
    return lines
