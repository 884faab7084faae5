"""``pipeline_notifications`` as an outbox: recorded once, claimed, sent at least once.

A notification is one row per (pipeline, date or run, event, channel): its
``dedupe_key``, whose hash is the row id, so recording the same event twice adds
nothing. Sending claims due rows first (``claimed_at``, committed before anything is
sent); each send's result is committed as soon as it is known: ``sent``, ``failed``
(permanent) or ``pending`` with ``next_attempt_at``. A claim found by a later pass
means apply stopped mid-send: the row goes back to ``pending`` and is sent again, so
the one message that was in flight may arrive twice (with the same ids).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from reconciler.masking import mask, mask_data, mask_opt
from reconciler.state.connection import Connection, naive, utc
from reconciler.state.dialects import dialect_of
from reconciler.state.postgres import LEASE

NotificationStatus = Literal["pending", "sent", "failed"]
INTERRUPTED = "apply stopped while sending; sent again (it may arrive twice, with the same ids)"
_COLUMNS = """notification_id, pipeline_id, notification_type, notification_channel, run_id,
              run_date, details, notification_status, attempts, last_error, created_at,
              sent_at, next_attempt_at"""


def notification_id(dedupe_key: str) -> str:
    return "n" + hashlib.sha256(dedupe_key.encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewNotification:
    """An event to tell one channel; ``subject`` is the date, run or request it is about."""

    pipeline_id: str
    event: str
    channel: str
    subject: str
    run_id: str | None = None
    run_date: date | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        return f"{self.pipeline_id}|{self.subject}|{self.event}|{self.channel}"

    @property
    def notification_id(self) -> str:
        return notification_id(self.dedupe_key)


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationRow:
    """A recorded notification, as read back."""

    notification_id: str
    pipeline_id: str
    event: str
    channel: str
    run_id: str | None
    run_date: date | None
    details: dict[str, Any]
    status: NotificationStatus
    attempts: int
    last_error: str | None
    created_at: datetime | None
    sent_at: datetime | None
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """What became of one claimed row: sent, failed for good, or pending until ``retry_at``."""

    notification_id: str
    status: NotificationStatus
    error: str | None = None
    retry_at: datetime | None = None


def _row(r: Sequence[Any]) -> NotificationRow:
    return NotificationRow(
        notification_id=r[0],
        pipeline_id=r[1],
        event=r[2],
        channel=r[3],
        run_id=r[4],
        run_date=r[5],
        details=json.loads(r[6]) if r[6] else {},
        status=r[7],
        attempts=r[8] or 0,
        last_error=r[9],
        created_at=utc(r[10]),
        sent_at=utc(r[11]),
        next_attempt_at=utc(r[12]),
    )


def add(conn: Connection, notes: Iterable[NewNotification], now: datetime) -> int:
    """Record notifications as ``pending``; those already recorded are left alone."""
    unique = {n.notification_id: n for n in notes}
    if not unique:
        return 0
    items = list(unique.values())
    conn.execute(
        """INSERT INTO pipeline_notifications (notification_id, pipeline_id, run_id,
               notification_type, notification_status, sent_at, notification_channel,
               run_date, dedupe_key, attempts, last_error, created_at, details,
               next_attempt_at, claimed_at, updated_at)
           SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),
                  unnest(?::VARCHAR[]), 'pending', NULL, unnest(?::VARCHAR[]),
                  unnest(?::DATE[]), unnest(?::VARCHAR[]), 0, NULL, ?, unnest(?::VARCHAR[]),
                  NULL, NULL, ?
           ON CONFLICT (notification_id) DO NOTHING
           RETURNING notification_id""",
        [
            list(unique),
            [n.pipeline_id for n in items],
            [n.run_id for n in items],
            [n.event for n in items],
            [n.channel for n in items],
            [n.run_date for n in items],
            [n.dedupe_key for n in items],
            naive(now),
            # (details carry run errors, which a platform may have filled with a token;
            # masked before encoding too, as JSON escapes a secret's quotes and accents)
            [_details_text(n.details) for n in items],
            naive(now),
        ],
    )
    return len(conn.fetchall())


def _details_text(details: Any) -> str:
    return mask(json.dumps(mask_data(details), sort_keys=True, default=str))


def known(conn: Connection, ids: Sequence[str]) -> set[str]:
    """Which of these notification ids are recorded already (whatever their status)."""
    if not ids:
        return set()
    rows = conn.execute(
        """SELECT notification_id FROM pipeline_notifications
           WHERE notification_id IN (SELECT unnest(?::VARCHAR[]))""",
        [list(ids)],
    ).fetchall()
    return {r[0] for r in rows}


def abandon_claims(conn: Connection, now: datetime) -> int:
    """Claims left by a pass that stopped mid-send go back to ``pending`` (sent again).

    On PostgreSQL other runners send at the same time: only claims older than a
    runner's lease are theirs to give up (a sending runner renews its claim after
    each send).
    """
    before = naive(now - LEASE) if dialect_of(conn).shared else None
    conn.execute(
        """UPDATE pipeline_notifications SET last_error = ?, next_attempt_at = NULL,
               claimed_at = NULL, updated_at = ?
           WHERE notification_status = 'pending' AND claimed_at IS NOT NULL
             AND claimed_at <= coalesce(CAST(? AS TIMESTAMP), claimed_at)
           RETURNING notification_id""",
        [INTERRUPTED, naive(now), before],
    )
    return len(conn.fetchall())


def _skip_locked(conn: Connection) -> str:
    """Several runners claim from one PostgreSQL outbox: rows one holds are passed over."""
    return dialect_of(conn).skip_locked


def claim_due(
    conn: Connection, now: datetime, limit: int, created_before: datetime | None = None
) -> list[NotificationRow]:
    """Pending rows whose time has come, oldest first, claimed for sending.

    ``created_before`` leaves younger rows for later, so that a burst is sent as one.
    """
    stamp = naive(now)
    rows = conn.execute(
        f"""SELECT {_COLUMNS} FROM pipeline_notifications
            WHERE notification_status = 'pending' AND claimed_at IS NULL
              AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
              AND created_at <= ?
            ORDER BY created_at, notification_id LIMIT ?{_skip_locked(conn)}""",
        [stamp, naive(created_before or now), limit],
    ).fetchall()
    if rows:
        # (attempts are counted when a send's result is recorded: a claim that a crash
        # or the end of a pass interrupts costs none)
        conn.execute(
            """UPDATE pipeline_notifications SET claimed_at = ?, updated_at = ?
               WHERE notification_id IN (SELECT unnest(?::VARCHAR[]))""",
            [stamp, stamp, [r[0] for r in rows]],
        )
    return [_row(r) for r in rows]


def finish(
    conn: Connection,
    results: Sequence[SendResult],
    now: datetime,
    still_claimed: Sequence[str] = (),
) -> None:
    """Record what became of claimed rows (one attempt each); renew the claim of
    ``still_claimed``, the rows of the same claim not sent yet."""
    stamp = naive(now)
    if still_claimed:
        conn.execute(
            """UPDATE pipeline_notifications SET claimed_at = ?
               WHERE notification_id IN (SELECT unnest(?::VARCHAR[]))
                 AND claimed_at IS NOT NULL""",
            [stamp, list(still_claimed)],
        )
    if not results:
        return
    conn.execute(
        """UPDATE pipeline_notifications SET notification_status = v.status,
               last_error = v.error, next_attempt_at = v.retry_at, claimed_at = NULL,
               attempts = coalesce(attempts, 0) + 1,
               sent_at = CASE WHEN v.status = 'sent' THEN ? ELSE sent_at END, updated_at = ?
           FROM (SELECT unnest(?::VARCHAR[]) AS id, unnest(?::VARCHAR[]) AS status,
                        unnest(?::VARCHAR[]) AS error, unnest(?::TIMESTAMP[]) AS retry_at) v
           WHERE pipeline_notifications.notification_id = v.id""",
        [
            stamp,
            stamp,
            [r.notification_id for r in results],
            [r.status for r in results],
            [mask_opt(r.error) for r in results],
            [naive(r.retry_at) for r in results],
        ],
    )


def release(conn: Connection, ids: Sequence[str], now: datetime) -> None:
    """Claimed rows never tried (the pass ended first): pending again, no attempt counted."""
    if ids:
        conn.execute(
            """UPDATE pipeline_notifications SET claimed_at = NULL, updated_at = ?
               WHERE notification_id IN (SELECT unnest(?::VARCHAR[]))
                 AND notification_status = 'pending'""",
            [naive(now), list(ids)],
        )


def listed(
    conn: Connection, status: NotificationStatus, pipeline_ids: Sequence[str] | None = None
) -> list[NotificationRow]:
    """Notifications with ``status`` (of the given pipelines), oldest first."""
    sql = f"SELECT {_COLUMNS} FROM pipeline_notifications WHERE notification_status = ?"
    params: list[Any] = [status]
    if pipeline_ids is not None:
        sql += " AND pipeline_id IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(pipeline_ids))
    rows = conn.execute(sql + " ORDER BY created_at, notification_id", params).fetchall()
    return [_row(r) for r in rows]
