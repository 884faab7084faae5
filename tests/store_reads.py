"""One read of a store per call, for tests that look at the state between writes."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.core.batches import Batch
from reconciler.core.coverage import Observed, Retried
from reconciler.state.notification_rows import NotificationRow, NotificationStatus
from reconciler.state.records import HistoryRow, QueueRow
from reconciler.state.store import Store


def observe(store: Store, pipeline_ids: Iterable[str], retried: Retried = None) -> Observed:
    with store.read() as session:
        return session.observe(pipeline_ids, retried)


def history(store: Store, pipeline_id: str, limit: int = 50) -> list[HistoryRow]:
    with store.read() as session:
        return session.history(pipeline_id, limit)


def in_flight(store: Store) -> list[Batch]:
    with store.read() as session:
        return session.in_flight()


def backfill_queue(store: Store, pipeline_id: str) -> list[QueueRow]:
    with store.read() as session:
        return session.backfill_queue(pipeline_id)


def notifications(store: Store, status: NotificationStatus = "failed") -> list[NotificationRow]:
    with store.read() as session:
        return session.notifications(status)
