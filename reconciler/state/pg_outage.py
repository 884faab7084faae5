"""PostgreSQL outages: which errors mean "the server is gone", and waiting them out.

A server restart, a failover or a network cut breaks every open connection and
refuses new ones for a while. Such errors are retried with backoff until
``reconnect_within()`` seconds have passed since the first one (default 30 s,
``RECONCILER_PG_RECONNECT_SECONDS``), well inside a runner's one-minute lease, so a
short outage costs a runner nothing. Other errors (a wrong password, a missing
database, an SQL error) are not outages and fail at once.
"""

from __future__ import annotations

import logging
import os
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


def reconnect_within() -> float:
    """Seconds an outage is waited out before a pass gives up."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return DEFAULT_RECONNECT
    try:
        value = float(text)
    except ValueError:
        return DEFAULT_RECONNECT
    return max(value, 0.0)


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
