"""The apply lock: one writer at a time, taken over at once from a dead local holder.

The lock is a row in the state itself (so it travels with the file), holding the
holder's pid, host and a lease. A holder on this host whose process is gone (a
``kill -9``) is replaced at once; a holder on another host is trusted until its
lease expires.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from reconciler.errors import LockedError
from reconciler.state.connection import Connection, naive, transaction, utc

LOCK_NAME = "apply"
LEASE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Holder:
    pid: int
    host: str
    token: str
    since: datetime
    lease_until: datetime

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


def _current(conn: Connection) -> Holder | None:
    row = conn.execute(
        "SELECT holder_pid, holder_host, holder_token, since, lease_until FROM locks "
        "WHERE name = ?",
        [LOCK_NAME],
    ).fetchone()
    if row is None:
        return None
    since, lease = utc(row[3]), utc(row[4])
    assert since is not None and lease is not None
    return Holder(row[0], row[1], row[2], since, lease)


def acquire(path: str, now: datetime) -> Holder:
    """Take the lock or raise ``LockedError`` naming the holder."""
    me = Holder(os.getpid(), socket.gethostname(), uuid.uuid4().hex, now, now + LEASE)
    with transaction(path) as conn:
        holder = _current(conn)
        if holder is not None:
            local = holder.host == me.host
            if local and holder.pid != me.pid and _pid_alive(holder.pid):
                raise LockedError(f"another apply holds the state lock: {holder.describe()}")
            if not local and holder.lease_until > now:
                raise LockedError(
                    f"another apply holds the state lock: {holder.describe()} "
                    f"(lease until {holder.lease_until.isoformat(timespec='seconds')})"
                )
            conn.execute("DELETE FROM locks WHERE name = ?", [LOCK_NAME])
        conn.execute(
            "INSERT INTO locks VALUES (?, ?, ?, ?, ?, ?)",
            [LOCK_NAME, me.pid, me.host, me.token, naive(me.since), naive(me.lease_until)],
        )
    return me


def confirm(conn: Connection, me: Holder, now: datetime, *, extend: bool) -> None:
    """Inside a write: check the lock is still ours (else stop), and extend the lease.

    A holder on another host takes the lock over once the lease has expired (say this
    process was suspended for longer than the lease): writing on would be two writers.
    """
    holder = _current(conn)
    if holder is None or holder.token != me.token:
        by = holder.describe() if holder is not None else "nobody: the lock row was removed"
        raise LockedError(f"this apply lost the state lock (now held by {by}); stopping")
    if extend:
        renew(conn, me, now)


def renew(conn: Connection, me: Holder, now: datetime) -> None:
    """Extend the lease inside a transaction that is being written anyway."""
    conn.execute(
        "UPDATE locks SET lease_until = ? WHERE name = ? AND holder_token = ?",
        [naive(now + LEASE), LOCK_NAME, me.token],
    )


def release(path: str, me: Holder) -> None:
    """Give the lock back; the write-ahead log is folded into the file on the way out."""
    with transaction(path, checkpoint=True) as conn:
        conn.execute("DELETE FROM locks WHERE name = ? AND holder_token = ?", [LOCK_NAME, me.token])
