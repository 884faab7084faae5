"""The PostgreSQL back end: a state in a schema, named by a ``postgresql://`` URL.

Sessions run on pooled connections (``postgres``): a write takes the schema's write
lock, a read is a read-only snapshot. Several runners share one state: each registers
and claims the batches it follows (``locking``, ``claims``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from reconciler.errors import StateUnavailable
from reconciler.state import locking, postgres
from reconciler.state.locking import Holder
from reconciler.state.sessions import ReadSession, WriteSession
from reconciler.state.store import Store


class PostgresStore(Store):
    """A state in a PostgreSQL schema (``--state postgresql://...``)."""

    @contextmanager
    def _read(self) -> Iterator[ReadSession]:
        with postgres.reading(self.location) as conn:
            yield ReadSession(conn, conn.version)

    @contextmanager
    def _write(self) -> Iterator[WriteSession]:
        with postgres.transaction(self.location) as conn:
            yield WriteSession(conn, None)

    def acquire_lock(self, now: datetime) -> Holder:
        """One runner among others: never refused."""
        with self.write() as session:
            return locking.register_runner(session.conn, now)

    def release_lock(self, me: Holder) -> None:
        try:
            with self.write() as session:
                locking.release(session.conn, me)
        except StateUnavailable as exc:
            locking.release_unreachable(me, exc)
