"""Generic webhooks: one JSON document per message, optionally signed.

The body (``format_version`` 1; fields are only ever added)::

    {
      "format_version": 1,
      "source": "backfill-reconciler",
      "delivery_id": "3f2a...",          # stable for the same notifications: a resend
                                         # (after a crash mid-send) repeats it
      "event": "failure",                # failure | sla_breach | quality_failure |
                                         # backfill_complete | success
      "pipeline": {"id": "orders_daily", "name": "Orders daily"},
      "title": "orders_daily: 31 dates failed and will not be retried",
      "lines": ["2026-03-01..2026-03-31 (31 dates) after 3 attempts: ..."],
      "dates": ["2026-03-01", "..."],    # the dates concerned, ascending (may be empty)
      "notifications": [                 # one per recorded notification (date or run)
        {"notification_id": "n...", "date": "2026-03-01", "run_id": "...",
         "details": {...}}               # event-specific: error, attempts, deadline,
      ],                                 # checks, request_id, counts ...
      "truncated": false,                # true when dates/notifications were cut at 1,000
      "sent_at": "2026-03-02T06:00:00+00:00"
    }

Headers: ``Content-Type: application/json``, ``X-Reconciler-Event``,
``X-Reconciler-Delivery`` (the ``delivery_id``), ``X-Reconciler-Timestamp`` (Unix
seconds) and, when ``secret_env`` names a secret, ``X-Reconciler-Signature:
sha256=<hex>``: the HMAC-SHA256 under the secret of ``<timestamp>.<body>``. A receiver
recomputes it over the raw body, compares in constant time and rejects old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import httpx

from reconciler import __version__
from reconciler.notify import http
from reconciler.notify.messages import Message

LISTED = 1000


def document(message: Message, now: datetime) -> dict[str, Any]:
    dates = [d.isoformat() for d in message.dates]
    rows = message.rows
    return {
        "format_version": 1,
        "source": "backfill-reconciler",
        "delivery_id": message.delivery_id,
        "event": message.event,
        "pipeline": {"id": message.pipeline_id, "name": message.pipeline_name},
        "title": message.title,
        "lines": list(message.lines),
        "dates": dates[:LISTED],
        "notifications": [
            {
                "notification_id": r.notification_id,
                "date": r.run_date.isoformat() if r.run_date else None,
                "run_id": r.run_id,
                "details": r.details,
            }
            for r in rows[:LISTED]
        ],
        "truncated": len(dates) > LISTED or len(rows) > LISTED,
        "sent_at": now.isoformat(),
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of ``<timestamp>.<body>`` under ``secret``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def send(
    client: httpx.Client, url: str, secret: str | None, message: Message, now: datetime
) -> None:
    body = json.dumps(document(message, now), sort_keys=True, default=str).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"backfill-reconciler/{__version__}",
        "X-Reconciler-Event": message.event,
        "X-Reconciler-Delivery": message.delivery_id,
        "X-Reconciler-Timestamp": timestamp,
    }
    if secret:
        headers["X-Reconciler-Signature"] = signature(secret, timestamp, body)
    http.post(client, url, body, headers)
