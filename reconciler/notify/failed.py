"""Notifications that will not be sent, told for ``reconciler status`` (text and JSON);
the command reads them in its one read of the state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.notify.messages import ranges
from reconciler.state.notification_rows import NotificationRow


def as_json(rows: Sequence[NotificationRow]) -> list[dict[str, Any]]:
    return [
        {
            "pipeline_id": r.pipeline_id,
            "event": r.event,
            "channel": r.channel,
            "date": r.run_date.isoformat() if r.run_date else None,
            "run_id": r.run_id,
            "attempts": r.attempts,
            "error": r.last_error,
            "created_at": r.created_at.isoformat() if r.created_at else None,
        }
        for r in rows
    ]


def as_text(rows: Sequence[NotificationRow]) -> list[str]:
    """One line per (pipeline, event, channel, error), with its dates as ranges."""
    if not rows:
        return []
    groups: dict[tuple[str, str, str, str], list[NotificationRow]] = {}
    for r in rows:
        groups.setdefault((r.pipeline_id, r.event, r.channel, r.last_error or "?"), []).append(r)
    lines = [f"{len(rows)} notification(s) could not be sent:"]
    for (pid, event, channel, error), members in groups.items():
        dates = [r.run_date for r in members if r.run_date]
        about = (
            ranges(dates) if dates else ", ".join(str(r.details.get("request_id")) for r in members)
        )
        lines.append(f"  {pid} [{event}] -> {channel}: {about}: {error}")
    return lines
