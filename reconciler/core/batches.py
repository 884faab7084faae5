"""The batches of a pass as plain records: what is about to start, what is in flight, how
a run ended, and the deterministic ids that make a repeated start a no-op."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

# ``canceled``: stopped on request (``reconciler cancel``, a removed request); never
# retried by policy, and the date stays missing until a new request or ``mark``
RunStatus = Literal["pending", "running", "success", "failed", "canceled"]
RUN_STATUSES: tuple[RunStatus, ...] = ("pending", "running", "success", "failed", "canceled")


def batch_key(
    pipeline_id: str, dates: tuple[date, ...], request_id: str | None, attempt: int
) -> str:
    """Deterministic id of one logical attempt: the same work always gets the same key.

    Platforms with idempotency keys receive (a form of) it, so a start repeated after
    a crash cannot create a second run.
    """
    text = "|".join(
        [pipeline_id, ",".join(d.isoformat() for d in dates), request_id or "", str(attempt)]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def short_id(key: str) -> str:
    """The batch id people see and the run directory name: 20 hex characters."""
    return key[:20]


def run_row_id(batch_id: str, day: date) -> str:
    return f"{batch_id}-{day:%Y%m%d}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunIntent:
    """A run about to start: written before any platform call."""

    batch_id: str
    key: str
    pipeline_id: str
    dates: tuple[date, ...]
    attempt: int
    kind: str
    request_id: str | None
    priority: int
    retry_schedule: str
    platform: str
    version: str | None = None  # the pipeline's version it runs with (recorded per run)


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """A run (one or more dates) that has not finished, as the store knows it."""

    batch_id: str
    pipeline_id: str
    dates: tuple[date, ...]
    status: RunStatus
    attempt: int
    kind: str
    request_id: str | None
    platform: str
    platform_run_id: str | None
    started_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """How a run ended; ``canceled``: a failure that was a cancel request, not a fault."""

    success: bool
    ended_at: datetime
    error: str | None = None
    platform_run_id: str | None = None
    canceled: bool = False
