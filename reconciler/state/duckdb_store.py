"""The DuckDB back end: a state file, opened for one session at a time.

DuckDB lets one process hold a file for writing and nobody else open it meanwhile,
so every session opens the file and closes it at its end (``connection``). A file
that does not exist reads as empty and is created only by a write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from reconciler.state import locking
from reconciler.state.connection import check_file, reading_file, transaction
from reconciler.state.locking import Holder
from reconciler.state.sessions import ReadSession, WriteSession
from reconciler.state.store import Store


class DuckDBStore(Store):
    """A state file (``--state path``)."""

    @contextmanager
    def _read(self) -> Iterator[ReadSession]:
        check_file(self.location)
        if not Path(self.location).exists():
            yield ReadSession(None, None)
            return
        with reading_file(self.location) as (conn, version):
            yield ReadSession(conn, version)

    @contextmanager
    def _write(self) -> Iterator[WriteSession]:
        with transaction(self.location) as conn:
            yield WriteSession(conn, None)

    def acquire_lock(self, now: datetime) -> Holder:
        """One apply at a time; a dead holder on this host is replaced at once."""
        with self.write() as session:
            return locking.take_apply_lock(session.conn, now)

    def release_lock(self, me: Holder) -> None:
        """The write-ahead log is folded into the file on the way out."""
        with transaction(self.location, checkpoint=True) as conn:
            locking.release(conn, me)
