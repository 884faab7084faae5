"""The state store: one interface, two back ends (a DuckDB file, a PostgreSQL schema).

Reads go through ``read()``, a read-only snapshot held for its block only; writes
through ``write()``, one transaction (all or nothing). Both yield sessions whose
methods are the whole of what the reconciler reads and writes (``sessions``). Each
session that ends well logs its duration as a DEBUG event (``state_read``,
``state_written``), which the metrics' latency histograms count.
``open_store`` picks the back end from the ``--state`` location (``location``).
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from reconciler import log_events as events
from reconciler.state.location import is_postgres

if TYPE_CHECKING:
    from pathlib import Path

    from reconciler.core.batches import Batch
    from reconciler.core.spec import Schedule
    from reconciler.state.export import ExportReport
    from reconciler.state.importing import ImportReport
    from reconciler.state.locking import Holder
    from reconciler.state.migrate_copy import CopyReport
    from reconciler.state.sessions import ReadSession, WriteSession


class Store(ABC):
    """A state at ``location``; nothing is held open between sessions."""

    def __init__(self, location: str) -> None:
        self.location = location

    @contextmanager
    def read(self) -> Iterator[ReadSession]:
        """A read-only snapshot; a state not made yet reads as empty and is not created."""
        began = time.monotonic()
        with self._read() as session:
            yield session
        _timed(events.STATE_READ, began)

    @contextmanager
    def write(self) -> Iterator[WriteSession]:
        """One read-write transaction (the state made or migrated first), committed when
        the block ends without error, rolled back otherwise."""
        began = time.monotonic()
        with self._write() as session:
            yield session
        _timed(events.STATE_WRITTEN, began)

    @abstractmethod
    def _read(self) -> AbstractContextManager[ReadSession]:
        """The back end's read-only snapshot (see ``read``)."""

    @abstractmethod
    def _write(self) -> AbstractContextManager[WriteSession]:
        """The back end's transaction (see ``write``)."""

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

    # --- bulk operations: each its own transaction, verified before it commits ----------

    def import_history(
        self, file: Path, schedules: dict[str, Schedule], now: datetime, *, skip_invalid: bool
    ) -> ImportReport:
        """Coverage produced outside the reconciler, from CSV or Parquet (idempotent)."""
        from reconciler.state.importing import import_history

        return import_history(self.location, file, schedules, now, skip_invalid=skip_invalid)

    def export_to(self, directory: Path) -> ExportReport:
        """Every table as Parquet, with a manifest (byte-identical for the same state)."""
        from reconciler.state.export import export_state

        return export_state(self.location, directory)

    def import_from(self, directory: Path) -> ExportReport:
        """This state built from an export (never over an existing state)."""
        from reconciler.state.export import import_state

        return import_state(self.location, directory)

    def copy_to(self, target: Store) -> CopyReport:
        """This state copied into ``target`` (DuckDB and PostgreSQL either way)."""
        from reconciler.state.migrate_copy import copy_state

        return copy_state(self.location, target.location)


log = logging.getLogger("reconciler.state")


def _timed(event: str, began: float) -> None:
    if log.isEnabledFor(logging.DEBUG):
        seconds = time.monotonic() - began
        events.emit(
            log, event, f"{event}: {seconds:.4f} s", logging.DEBUG, duration_seconds=seconds
        )


def open_store(location: str) -> Store:
    """The store at ``location``: a ``postgresql://`` URL or a DuckDB file path."""
    if is_postgres(location):
        from reconciler.state.postgres_store import PostgresStore

        return PostgresStore(location)
    from reconciler.state.duckdb_store import DuckDBStore

    return DuckDBStore(location)
