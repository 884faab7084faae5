"""The state store: one interface, two back ends (a DuckDB file, a PostgreSQL schema).

Reads go through ``read()``, a read-only snapshot held for its block only; writes
through ``write()``, one transaction (all or nothing). Both yield sessions whose
methods are the whole of what the reconciler reads and writes (``sessions``).
``open_store`` picks the back end from the ``--state`` location (``location``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING

from reconciler.state.location import is_postgres

if TYPE_CHECKING:
    from reconciler.core.batches import Batch
    from reconciler.state.locking import Holder
    from reconciler.state.sessions import ReadSession, WriteSession


class Store(ABC):
    """A state at ``location``; nothing is held open between sessions."""

    def __init__(self, location: str) -> None:
        self.location = location

    @abstractmethod
    def read(self) -> AbstractContextManager[ReadSession]:
        """A read-only snapshot; a state not made yet reads as empty and is not created."""

    @abstractmethod
    def write(self) -> AbstractContextManager[WriteSession]:
        """One read-write transaction (the state made or migrated first), committed when
        the block ends without error, rolled back otherwise."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether there may be a state to read (a PostgreSQL state always may)."""

    @abstractmethod
    def checkpoint(self) -> None:
        """Fold what was written into the main file (the end of a pass; a no-op for a
        server)."""

    # --- the apply lock (a file: one apply) or runners' claims (a server: several) -----

    @abstractmethod
    def acquire_lock(self, now: datetime) -> Holder:
        """Register this pass as the state's writer (``LockedError`` when it cannot be)."""

    @abstractmethod
    def release_lock(self, me: Holder) -> None:
        """Give the lock (and a runner's claims) back; the end of a pass."""

    def adopt(self, me: Holder | None, batches: Sequence[Batch], now: datetime) -> list[Batch]:
        """The batches in flight this pass follows: those it could claim."""
        if me is None or not me.shared or not batches:
            return list(batches)
        with self.write() as session:
            mine = session.claim(me, [b.batch_id for b in batches], now)
        return [b for b in batches if b.batch_id in mine]

    def held_elsewhere(self, me: Holder | None) -> list[str]:
        """Runs in flight another runner (or nobody yet) follows, for the closing summary."""
        if me is None or not me.shared:
            return []
        with self.read() as session:
            return session.held_elsewhere(me)


def open_store(location: str) -> Store:
    """The store at ``location``: a ``postgresql://`` URL or a DuckDB file path."""
    if is_postgres(location):
        from reconciler.state.postgres_store import PostgresStore

        return PostgresStore(location)
    from reconciler.state.duckdb_store import DuckDBStore

    return DuckDBStore(location)
