"""Owners of local runs: the host and runs directory that started each, and the supervisor's word.

A row is written in the transaction that records the run's intent, before the run can
start, by the runner that will start it. While the job runs its supervisor (on a
PostgreSQL state) renews ``alive_until``; when the job ends it records the exit status
here as well as in the run directory. A runner on another host reads this row instead
of a directory it cannot see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from reconciler.state.connection import Connection, naive, utc

# How long a local run is trusted to go on without word from its supervisor (renewed
# every quarter of it). Longer than a runner's lease, so that a runner taking over a
# dead runner's claims finds the runs still going as running, not lost.
RUN_LEASE = timedelta(minutes=3)


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalRun:
    batch_id: str
    host: str
    runs_dir: str
    alive_until: datetime | None = None
    ended_at: datetime | None = None
    returncode: int | None = None
    error: str | None = None


def record_owners(
    conn: Connection, batch_ids: Iterable[str], host: str, runs_dir: str, alive_until: datetime
) -> None:
    """These batches are this runner's: the first owner recorded stays."""
    ids = list(dict.fromkeys(batch_ids))
    if not ids:
        return
    conn.execute(
        """INSERT INTO local_runs (batch_id, host, runs_dir, alive_until)
           SELECT unnest(?::VARCHAR[]), ?, ?, ?
           ON CONFLICT (batch_id) DO NOTHING""",
        [ids, host, runs_dir, naive(alive_until)],
    )


def renew(conn: Connection, batch_ids: Iterable[str], host: str, alive_until: datetime) -> None:
    """This host's runs not ended yet are alive until ``alive_until``."""
    ids = list(dict.fromkeys(batch_ids))
    if ids:
        conn.execute(
            """UPDATE local_runs SET alive_until = ?
               WHERE batch_id IN (SELECT unnest(?::VARCHAR[])) AND host = ?
                 AND ended_at IS NULL""",
            [naive(alive_until), ids, host],
        )


def read(conn: Connection, batch_ids: Iterable[str]) -> dict[str, LocalRun]:
    ids = list(dict.fromkeys(batch_ids))
    if not ids:
        return {}
    rows = conn.execute(
        """SELECT batch_id, host, runs_dir, alive_until, ended_at, returncode, error
           FROM local_runs WHERE batch_id IN (SELECT unnest(?::VARCHAR[]))""",
        [ids],
    ).fetchall()
    return {
        r[0]: LocalRun(
            batch_id=r[0],
            host=r[1],
            runs_dir=r[2],
            alive_until=utc(r[3]),
            ended_at=utc(r[4]),
            returncode=r[5],
            error=r[6],
        )
        for r in rows
    }


def forget_finished(conn: Connection, before: datetime) -> None:
    """Rows of runs no longer in flight, last heard of before ``before``.

    (``open_dates`` holds every date in flight and is small, unlike the run log.)
    """
    conn.execute(
        """DELETE FROM local_runs
           WHERE coalesce(ended_at, alive_until) < ?
             AND NOT EXISTS (SELECT 1 FROM open_dates o
                             WHERE o.batch_id = local_runs.batch_id
                               AND o.status IN ('pending', 'running'))""",
        [naive(before)],
    )


def of_runs_in_flight(conn: Connection) -> dict[str, LocalRun]:
    """The owner rows of every run in flight (``open_dates`` is small; the log is not)."""
    rows = conn.execute(
        "SELECT batch_id FROM open_dates WHERE status IN ('pending', 'running')"
    ).fetchall()
    return read(conn, [r[0] for r in rows])
