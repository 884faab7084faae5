"""Building notification rows and messages without a state file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from reconciler.notify.messages import Message, build_messages
from reconciler.state.notification_rows import NewNotification, NotificationRow

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def row(
    event: str,
    day: date | None,
    *,
    pid: str = "orders",
    channel: str = "slack:SLACK_URL",
    details: dict[str, Any] | None = None,
    attempts: int = 0,
) -> NotificationRow:
    subject = day.isoformat() if day else "request:r1"
    note = NewNotification(
        pipeline_id=pid,
        event=event,
        channel=channel,
        subject=subject,
        run_date=day,
        details=details or {},
    )
    return NotificationRow(
        notification_id=note.notification_id,
        pipeline_id=pid,
        event=event,
        channel=channel,
        run_id=None,
        run_date=day,
        details=details or {},
        status="pending",
        attempts=attempts,
        last_error=None,
        created_at=NOW,
        sent_at=None,
        next_attempt_at=None,
    )


def failure_rows(count: int, **kw: Any) -> list[NotificationRow]:
    start = date(2026, 1, 1)
    details = {"error": "exit 1: boom", "attempts": 3}
    return [row("failure", start + timedelta(days=i), details=details, **kw) for i in range(count)]


def one_message(rows: list[NotificationRow]) -> Message:
    messages = build_messages(rows, {"orders": "Orders daily"}, {})
    assert len(messages) == 1
    return messages[0]
