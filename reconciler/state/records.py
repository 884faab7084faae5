"""Plain records the store reads and writes, and the store protocol a backend implements."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from reconciler.core.coverage import Observed, Retried
    from reconciler.core.spec import BackfillRequest

RunStatus = Literal["pending", "running", "success", "failed"]
RUN_STATUSES: tuple[RunStatus, ...] = ("pending", "running", "success", "failed")


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
    """How a run ended."""

    success: bool
    ended_at: datetime
    error: str | None = None
    platform_run_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryRow:
    run_id: str
    batch_id: str
    run_date: date
    status: str
    attempt: int
    kind: str
    request_id: str | None
    start_time: datetime | None
    end_time: datetime | None
    error_message: str | None
    sla_met: bool | None
    platform_run_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueRow:
    """One date of a backfill in ``backfill_queue``."""

    backfill_id: str
    pipeline_id: str
    date_to_process: date
    status: str
    retry_attempts: int
    priority: int | None
    request_id: str | None
    batch_id: str | None


# --- the store protocol: what a second backend implements -------------------------------


class StoreWriter(Protocol):
    """The write side of a store, inside one transaction (all or nothing)."""

    def sync_pipelines(
        self, items: Sequence[tuple[dict[str, Any], dict[str, str]]], now: datetime
    ) -> dict[str, str]: ...

    def mark_deleted(self, pipeline_ids: Iterable[str], now: datetime) -> None: ...

    def active_pipeline_ids(self) -> set[str]: ...

    def add_request(self, pipeline_id: str, request: BackfillRequest, now: datetime) -> None: ...

    def enqueue_backfills(self, intents: Sequence[RunIntent], now: datetime) -> int: ...

    def record_intents(self, intents: Sequence[RunIntent], now: datetime) -> list[str]: ...

    def mark_running(self, items: Sequence[tuple[str, str, datetime]]) -> None: ...

    def record_outcomes(
        self, items: Sequence[tuple[Batch, Outcome, dict[date, datetime]]]
    ) -> int: ...

    def record_breaches(
        self, pipeline_id: str, breaches: Iterable[tuple[date, datetime]], now: datetime
    ) -> list[date]: ...


class Store(Protocol):
    """A state store: reads open the store briefly; ``write`` is one transaction."""

    def observe(self, pipeline_ids: Iterable[str], retried: Retried = None) -> Observed: ...

    def plan_inputs(
        self, pipeline_ids: Iterable[str], retried: Retried = None
    ) -> tuple[Observed, dict[str, tuple[BackfillRequest, ...]]]: ...

    def in_flight(self) -> list[Batch]: ...

    def history(self, pipeline_id: str, limit: int) -> list[HistoryRow]: ...

    def backfill_queue(self, pipeline_id: str) -> list[QueueRow]: ...

    def write(self) -> AbstractContextManager[StoreWriter]: ...

    def close(self) -> None: ...
