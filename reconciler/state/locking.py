"""The apply lock: one writer at a time, taken over at once from a dead local holder.

The lock is a row in the state itself (so it travels with the file), holding the
holder's pid, host and a lease. A holder on this host whose process is gone (a
``kill -9``) is replaced at once; a holder on another host is trusted until its
lease expires.

On a PostgreSQL state there is no such lock: every pass registers as a runner (a
``runner:<token>`` row with a lease of about a minute on the reconciler's clock) and
claims the batches it writes or adopts (``reconciler.state.claims``), so several
passes run at once. A runner whose lease expired is removed by the next one to start,
and its claims are taken over.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from reconciler import log_events
from reconciler.errors import LockedError, StateUnavailable
from reconciler.state.connection import Connection, naive, utc
from reconciler.state.postgres import LEASE as RUNNER_LEASE

LOCK_NAME = "apply"
LEASE = timedelta(minutes=5)
RUNNER_PREFIX = "runner:"
CLAIM_PREFIX = "claim:"
log = logging.getLogger("reconciler.state")


@dataclass(frozen=True, slots=True, kw_only=True)
class Holder:
    pid: int
    host: str
    token: str
    since: datetime
    lease_until: datetime
    name: str = LOCK_NAME

    @property
    def shared(self) -> bool:
        """A runner among others (PostgreSQL) rather than the one writer of a file."""
        return self.name != LOCK_NAME

    @property
    def lease(self) -> timedelta:
        return RUNNER_LEASE if self.shared else LEASE

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} since {self.since.isoformat(timespec='seconds')}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _current(conn: Connection, name: str = LOCK_NAME) -> Holder | None:
    row = conn.execute(
        "SELECT holder_pid, holder_host, holder_token, since, lease_until FROM locks "
        "WHERE name = ?",
        [name],
    ).fetchone()
    if row is None:
        return None
    since, lease = utc(row[3]), utc(row[4])
    assert since is not None and lease is not None
    return Holder(pid=row[0], host=row[1], token=row[2], since=since, lease_until=lease, name=name)


def _insert(conn: Connection, me: Holder) -> None:
    conn.execute(
        "INSERT INTO locks VALUES (?, ?, ?, ?, ?, ?)",
        [me.name, me.pid, me.host, me.token, naive(me.since), naive(me.lease_until)],
    )


def _holder_alive(pid: int) -> bool:
    """The holder's process still runs, and is a reconciler (not a reused pid).

    After a reboot or in a container, a dead holder's pid can belong to another
    program; trusting it would lock every later apply out for good.
    """
    if not _pid_alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read()
    except OSError:
        return True  # no /proc here: the pid check is all there is
    return b"reconciler" in cmdline


def new_holder(now: datetime, *, runner: bool) -> Holder:
    """This process as the apply lock's holder, or (``runner``) as one runner among others."""
    token = uuid.uuid4().hex
    lease = RUNNER_LEASE if runner else LEASE
    return Holder(
        pid=os.getpid(),
        host=socket.gethostname(),
        token=token,
        since=now,
        lease_until=now + lease,
        name=RUNNER_PREFIX + token if runner else LOCK_NAME,
    )


def register_runner(conn: Connection, now: datetime) -> Holder:
    """Inside a write (PostgreSQL): register as one runner among others (never refused),
    after removing the runners, and claims, whose lease has expired."""
    me = new_holder(now, runner=True)
    expire(conn, now)
    _insert(conn, me)
    log_events.emit(log, log_events.LOCK_TAKEN, "registered as a runner", holder=me.describe())
    return me


def take_apply_lock(conn: Connection, now: datetime) -> Holder:
    """Inside a write (a DuckDB file): take the lock or raise ``LockedError`` naming the
    holder."""
    me = new_holder(now, runner=False)
    holder = _current(conn)
    if holder is not None:
        local = holder.host == me.host
        if local and holder.pid != me.pid and _holder_alive(holder.pid):
            _waited(holder)
            raise LockedError(f"another apply holds the state lock: {holder.describe()}")
        if not local and holder.lease_until > now:
            _waited(holder)
            raise LockedError(
                f"another apply holds the state lock: {holder.describe()} "
                f"(lease until {holder.lease_until.isoformat(timespec='seconds')})"
            )
        conn.execute("DELETE FROM locks WHERE name = ?", [LOCK_NAME])
    _insert(conn, me)
    log_events.emit(log, log_events.LOCK_TAKEN, "took the state lock", holder=me.describe())
    return me


def _waited(holder: Holder) -> None:
    log_events.emit(
        log, log_events.LOCK_WAIT, "the state lock is held elsewhere", holder=holder.describe()
    )


def expire(conn: Connection, now: datetime) -> None:
    """Runners (and their claims) past their lease are gone: a dead runner's work is free."""
    conn.execute(
        "DELETE FROM locks WHERE lease_until < ? AND (name LIKE ? OR name LIKE ?)",
        [naive(now), RUNNER_PREFIX + "%", CLAIM_PREFIX + "%"],
    )


def confirm(
    conn: Connection, me: Holder, now: datetime, *, extend: bool, following: Iterable[str] = ()
) -> None:
    """Inside a write: check the lock is still ours (else stop), and extend the lease.

    A holder on another host takes the lock over once the lease has expired (say this
    process was suspended for longer than the lease): writing on would be two writers.
    A runner (PostgreSQL) whose registration was removed meanwhile (its lease ran out
    during an outage or a freeze, and another runner cleaned up) registers again when
    every run it follows is still its own or free; if another runner has taken some over,
    it stops and says which.
    """
    holder = _current(conn, me.name)
    if me.shared and holder is None:
        _register_again(conn, me, now, list(following))
        return
    if holder is None or holder.token != me.token:
        by = holder.describe() if holder is not None else "nobody: the lock row was removed"
        raise LockedError(f"this apply lost the state lock (now held by {by}); stopping")
    if extend:
        renew(conn, me, now)


def _register_again(conn: Connection, me: Holder, now: datetime, following: list[str]) -> None:
    from reconciler.state.claims import claim, holders_of

    held = claim(conn, me, following, now)
    lost = [b for b in following if b not in held]
    why = (
        f"this runner's lease ({int(me.lease.total_seconds())} s) ran out without a renewal "
        "(PostgreSQL was unreachable, or this process was suspended) and another runner "
        "removed its registration"
    )
    if lost:
        taken = "; ".join(f"{n} by {h}" for h, n in holders_of(conn, lost).items())
        raise LockedError(
            f"{why}; {len(lost)} of the {len(following)} run(s) it followed are now followed "
            f"by another runner ({taken}); stopping (its other runs are left to the next pass)"
        )
    _insert(
        conn,
        Holder(
            pid=me.pid,
            host=me.host,
            token=me.token,
            since=me.since,
            lease_until=now + me.lease,
            name=me.name,
        ),
    )
    renew(conn, me, now)
    log.warning(
        "%s; no other runner had taken over its %d run(s), so it registered again and carries on",
        why,
        len(following),
    )


def renew(conn: Connection, me: Holder, now: datetime) -> None:
    """Extend the lease (and a runner's claims) inside a transaction written anyway."""
    conn.execute(
        "UPDATE locks SET lease_until = ? WHERE holder_token = ?",
        [naive(now + me.lease), me.token],
    )


def release(conn: Connection, me: Holder) -> None:
    """Inside a write: give the lock back (a runner's claims go with it: what it left in
    flight is anyone's to follow)."""
    conn.execute("DELETE FROM locks WHERE holder_token = ?", [me.token])
    log_events.emit(log, log_events.LOCK_RELEASED, "released the state lock", holder=me.describe())


def release_unreachable(me: Holder, exc: StateUnavailable) -> None:
    """A runner that cannot reach PostgreSQL to release its claims says so: they stay
    held until its lease runs out, then any runner takes them over."""
    if not me.shared:
        raise exc
    log.warning(
        "could not release this runner's claims (%s); runs it left in flight stay "
        "claimed until its lease runs out (at most %d s), then any runner follows them",
        exc,
        int(me.lease.total_seconds()),
    )
