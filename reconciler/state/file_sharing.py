"""One process's connections to a DuckDB file: its readers and writers never clash.

DuckDB refuses a second connection to a file in the same process with another
configuration ("Can't open a connection to same database file with a different
configuration"): a read-only reader fails at once while another thread (the
notification sender) holds a read-write transaction, and the other way round. So
while this process has the file open read-write, a reader opens it read-write too
(the same database, shared; it only reads), and a writer waits for the read-only
readers of other threads, whose reads are short, to close.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

_changed = threading.Condition()
_writers: Counter[str] = Counter()  # read-write connections open, by file
_readers: dict[str, Counter[int]] = {}  # read-only connections open, by file and thread


def _key(path: str) -> str:
    return os.path.realpath(path)


@contextmanager
def sharing(path: str, *, read_only: bool, wait: float) -> Iterator[bool]:
    """Hold a connection's place; yields whether to open the file read-only."""
    key, me = _key(path), threading.get_ident()
    with _changed:
        if read_only and not _writers[key]:
            readers = _readers.setdefault(key, Counter())
            readers[me] += 1
            mode = True
        else:
            deadline = time.monotonic() + wait
            # (a thread's own read-only connection cannot be waited for: DuckDB says so)
            while _others_reading(key, me) and time.monotonic() < deadline:
                _changed.wait(max(deadline - time.monotonic(), 0.0))
            _writers[key] += 1
            mode = False
    try:
        yield mode
    finally:
        with _changed:
            if mode:
                readers = _readers[key]
                readers[me] -= 1
                if readers[me] <= 0:
                    del readers[me]
                if not readers:
                    del _readers[key]
            else:
                _writers[key] -= 1
                if _writers[key] <= 0:
                    del _writers[key]
            _changed.notify_all()


def _others_reading(key: str, me: int) -> bool:
    return any(thread != me for thread in _readers.get(key, Counter()))
