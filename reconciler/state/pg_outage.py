"""PostgreSQL outages: which errors mean "the server is gone", and waiting them out.

A server restart, a failover or a network cut breaks every open connection and
refuses new ones for a while. Such errors are retried with backoff until
``reconnect_within()`` seconds have passed since the first one (default 30 s,
``RECONCILER_PG_RECONNECT_SECONDS``), well inside a runner's one-minute lease, so a
short outage costs a runner nothing. Other errors (a wrong password, a missing
database, an SQL error) are not outages and fail at once.

Before a process has reached a server once, a refused connection (nothing listens
there) is not an outage either but, far more often, a wrong host or port in
``--state``: it fails at once, so ``plan`` or ``status`` never waits 30 s to say so.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

DEFAULT_RECONNECT = 30.0
ENV = "RECONCILER_PG_RECONNECT_SECONDS"
log = logging.getLogger("reconciler.state")
T = TypeVar("T")

# libpq's words for a server that is not there (yet, or any more)
_GONE = (
    "connection refused",
    "connection reset",
    "connection is lost",
    "connection timed out",
    "timeout expired",
    "server closed the connection",
    "terminating connection",
    "consuming input failed",
    "sending query failed",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "no connection to the server",
    "ssl syscall error",
    "broken pipe",
    "network is unreachable",
    "no route to host",
)
# SQLSTATE: connection exceptions (class 08), and a server shutting down or starting
_GONE_STATES = ("57P01", "57P02", "57P03")


# libpq's words for a connection nothing answered (no server listens at that address)
_NOBODY = ("connection refused", "network is unreachable", "no route to host")
_reached: set[str] = set()  # locations this process has connected to at least once
_reached_lock = threading.Lock()


def reconnect_within() -> float:
    """Seconds an outage is waited out before a pass gives up.

    Raises ``StateError`` for a value of ``RECONCILER_PG_RECONNECT_SECONDS`` that is not
    a finite number of seconds, 0 or more (a typo must not silently mean 30 s).
    """
    from reconciler.errors import StateError

    text = os.environ.get(ENV, "").strip()
    if not text:
        return DEFAULT_RECONNECT
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < float("inf"):
        raise StateError(f"{ENV}={text!r}: expected a number of seconds, 0 or more (e.g. 30)")
    return value


def reached(location: str) -> None:
    """Note that a connection to ``location`` succeeded: later failures are outages."""
    with _reached_lock:
        _reached.add(location)


def never_answered(location: str, exc: BaseException) -> bool:
    """Whether ``exc`` is a refused first connection: no server at ``location`` so far."""
    with _reached_lock:
        if location in _reached:
            return False
    text = str(exc).lower()
    return any(word in text for word in _NOBODY)


def is_outage(exc: BaseException, raw: Any = None) -> bool:
    """Whether ``exc`` means the server is unreachable, rather than refusing the request."""
    if raw is not None and (getattr(raw, "broken", False) or getattr(raw, "closed", False)):
        return True
    state = getattr(exc, "sqlstate", None)
    if state and (state.startswith("08") or state in _GONE_STATES):
        return True
    text = str(exc).lower()
    return any(word in text for word in _GONE)


class Backoff:
    """Sleeps between attempts (0.1 s doubling to 2 s) until the deadline has passed."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.within = reconnect_within()
        self.first: float | None = None
        self.delay = 0.1
        self.failures = 0

    def failed(self, reason: str) -> bool:
        """Note a failure; sleep and return True to try again, False once out of time."""
        now = time.monotonic()
        if self.first is None:
            self.first = now
            log.warning(
                "%s is unreachable (%s); reconnecting for up to %.0f s",
                self.what,
                reason,
                self.within,
            )
        self.failures += 1
        left = self.first + self.within - now
        if left <= 0:
            return False
        time.sleep(min(self.delay, left))
        self.delay = min(self.delay * 2, 2.0)
        return True

    @property
    def waited(self) -> float:
        return 0.0 if self.first is None else time.monotonic() - self.first

    def succeeded(self) -> None:
        if self.first is not None:
            log.warning("%s: reconnected after %.1f s", self.what, self.waited)


def retrying(write: Callable[[], T]) -> T:
    """Run ``write`` (one whole transaction) again when an outage broke it mid-way.

    Only for writes that may be repeated: the broken transaction was rolled back (or,
    broken during its commit, is written again idempotently). Each attempt waits out
    the outage itself; this gives up once the reconnect deadline has passed.
    """
    from reconciler.errors import StateUnavailable

    deadline = time.monotonic() + reconnect_within()
    while True:
        try:
            return write()
        except StateUnavailable as exc:
            if time.monotonic() >= deadline:
                raise
            log.warning("%s; writing it again", exc)
            time.sleep(0.1)
