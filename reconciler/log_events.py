"""The names of the events the reconciler logs, and the keys their records carry.

Library code (any layer, like ``masking``) logs through the stdlib ``logging`` under
``reconciler.*`` with ``extra={"event": ..., **fields}``; the command line decides where
records go (text or JSON lines on stderr, and the metrics counters that listen to them).
"""

from __future__ import annotations

import logging
from typing import Any

PASS_STARTED = "pass_started"
PASS_ENDED = "pass_ended"
PASS_FAILED = "pass_failed"
CONFIG_CHANGED = "config_changed"
RUN_STARTED = "run_started"
RUN_ENDED = "run_ended"
RETRY_SCHEDULED = "retry_scheduled"
QUALITY_RESULT = "quality_result"
SLA_BREACH = "sla_breach"
NOTIFICATION_SENT = "notification_sent"
NOTIFICATION_FAILED = "notification_failed"
LOCK_TAKEN = "lock_taken"
LOCK_RELEASED = "lock_released"
LOCK_WAIT = "lock_wait"
PLATFORM_API_ERROR = "platform_api_error"
# DEBUG: one per state session, for the latency histograms (never a JSON log line)
STATE_READ = "state_read"
STATE_WRITTEN = "state_written"

# the keys a record may carry beyond ``event`` (a JSON line holds those it has)
FIELDS = (
    "pipeline",
    "platform",
    "dates",
    "batch_id",
    "run_id",
    "attempt",
    "duration_seconds",
    "status",
    "channel",
    "outcome",
    "status_class",
    "started",
    "succeeded",
    "failed",
    "change",
    "check",
    "holder",
    "now",
)


def emit(
    logger: logging.Logger, event: str, message: str, level: int = logging.INFO, **fields: Any
) -> None:
    """Log ``message`` with ``event`` and ``fields`` for JSON lines and metrics."""
    logger.log(level, message, extra={"event": event, **fields})
