"""Ad-hoc backfill requests (``reconciler backfill``): recorded once, read by the planner."""

from __future__ import annotations

from datetime import datetime

from reconciler.core.spec import BackfillRequest
from reconciler.errors import StateError
from reconciler.state.connection import Connection, naive


def request_ids(conn: Connection, pipeline_id: str) -> set[str]:
    """The ids of a pipeline's ad-hoc requests."""
    rows = conn.execute(
        "SELECT request_id FROM backfill_requests WHERE pipeline_id = ?", [pipeline_id]
    ).fetchall()
    return {str(r[0]) for r in rows}


def add_request(
    conn: Connection, pipeline_id: str, request: BackfillRequest, now: datetime
) -> None:
    """Record a request; an id the pipeline already has is refused."""
    if conn.execute(
        "SELECT 1 FROM backfill_requests WHERE pipeline_id = ? AND request_id = ?",
        [pipeline_id, request.id],
    ).fetchone():
        raise StateError(f"backfill request {request.id!r} already exists for {pipeline_id}")
    conn.execute(
        "INSERT INTO backfill_requests VALUES (?, ?, ?, ?, ?, ?, ?, 'cli')",
        [
            request.id,
            pipeline_id,
            request.start,
            request.end,
            request.priority,
            request.reason,
            naive(now),
        ],
    )


def remove_request(conn: Connection, pipeline_id: str, request_id: str) -> None:
    """Forget a request; an id the pipeline does not have is refused."""
    if request_id not in request_ids(conn, pipeline_id):
        raise StateError(
            f"no ad-hoc request {request_id!r} for {pipeline_id} (cancelled already, or never "
            "made: `reconciler backfill` prints the id it queues)"
        )
    conn.execute(
        "DELETE FROM backfill_requests WHERE pipeline_id = ? AND request_id = ?",
        [pipeline_id, request_id],
    )


def adhoc_requests(conn: Connection, ids: list[str]) -> dict[str, tuple[BackfillRequest, ...]]:
    """The requests of the given pipelines, in the order they were made."""
    out: dict[str, list[BackfillRequest]] = {}
    wanted = set(ids)
    for pid, rid, start, end, priority, reason in conn.execute(
        """SELECT pipeline_id, request_id, date_from, date_to, priority, reason
           FROM backfill_requests ORDER BY requested_at"""
    ).fetchall():
        if pid in wanted:
            out.setdefault(pid, []).append(
                BackfillRequest(
                    id=rid, start=start, end=end, priority=priority, reason=reason or ""
                )
            )
    return {k: tuple(v) for k, v in out.items()}
