"""Plain records the store reads and writes, and the store protocol a backend implements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from reconciler.core.batches import Batch, Outcome, RunIntent

if TYPE_CHECKING:
    from reconciler.core.coverage import Observed, Retried
    from reconciler.core.spec import BackfillRequest


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
