"""Cancels as recorded intents: written before any platform is asked, marked once sent.

``reconciler cancel`` (and a removed request with ``cancel_running``) first records
which batches to stop, then asks their platforms. A crash in between leaves the
cancel recorded and unsent; the next pass sends it. A run that ends failed while a
cancel of it is recorded is a ``canceled`` run, whatever its platform reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from reconciler.core.batches import Batch
from reconciler.state.connection import Connection, naive


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAsk:
    """One recorded cancel of a batch still in flight."""

    batch_id: str
    pipeline_id: str
    requested_by: str | None
    reason: str | None
    sent: bool


def record(
    conn: Connection,
    batches: Sequence[Batch],
    now: datetime,
    by: str | None,
    reason: str | None,
) -> set[str]:
    """Record cancels of ``batches``; returns the batch ids recorded now (not before)."""
    if not batches:
        return set()
    ids = [b.batch_id for b in batches]
    known = {
        r[0]
        for r in conn.execute(
            "SELECT batch_id FROM cancel_requests WHERE batch_id IN (SELECT unnest(?::VARCHAR[]))",
            [ids],
        ).fetchall()
    }
    fresh = [b for b in batches if b.batch_id not in known]
    if fresh:
        conn.execute(
            """INSERT INTO cancel_requests
                   (batch_id, pipeline_id, requested_at, requested_by, reason, sent_at)
               SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), ?, ?, ?, NULL""",
            [[b.batch_id for b in fresh], [b.pipeline_id for b in fresh], naive(now), by, reason],
        )
    return {b.batch_id for b in fresh}


def unsent(conn: Connection) -> list[CancelAsk]:
    """Recorded cancels not yet sent whose batch is still in flight, oldest first."""
    rows = conn.execute(
        """SELECT c.batch_id, c.pipeline_id, c.requested_by, c.reason
           FROM cancel_requests c
           WHERE c.sent_at IS NULL AND c.batch_id IN (
               SELECT batch_id FROM open_dates WHERE status IN ('pending', 'running'))
           ORDER BY c.requested_at, c.batch_id"""
    ).fetchall()
    return [
        CancelAsk(batch_id=r[0], pipeline_id=r[1], requested_by=r[2], reason=r[3], sent=False)
        for r in rows
    ]


def mark_sent(conn: Connection, batch_ids: Iterable[str], now: datetime) -> None:
    """The platforms were asked (or the run had ended): never send these again."""
    ids = list(batch_ids)
    if ids:
        conn.execute(
            """UPDATE cancel_requests SET sent_at = ?
               WHERE sent_at IS NULL AND batch_id IN (SELECT unnest(?::VARCHAR[]))""",
            [naive(now), ids],
        )


def cancelled(conn: Connection, batch_ids: Sequence[str]) -> set[str]:
    """The batches among ``batch_ids`` with a recorded cancel."""
    if not batch_ids:
        return set()
    return {
        r[0]
        for r in conn.execute(
            "SELECT batch_id FROM cancel_requests WHERE batch_id IN (SELECT unnest(?::VARCHAR[]))",
            [list(batch_ids)],
        ).fetchall()
    }
