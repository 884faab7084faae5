"""Claims of batches by runners sharing a PostgreSQL state: each batch followed by one.

A claim is a ``claim:<batch id>`` row of ``locks`` carrying the runner's token and
lease. A runner claims the intents it writes and, at the start of a pass, the batches
in flight that nobody holds (or whose holder's lease has expired: a runner that died).
On a DuckDB file one apply writes at a time, so everything is its own already.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from reconciler.core.batches import Batch
from reconciler.state.connection import Connection, naive
from reconciler.state.locking import CLAIM_PREFIX, RUNNER_PREFIX, Holder


def claim(conn: Connection, me: Holder | None, batch_ids: Iterable[str], now: datetime) -> set[str]:
    """Claim these batches for ``me``; returns those it holds now (all, for a single writer)."""
    ids = list(dict.fromkeys(batch_ids))
    if me is None or not me.shared or not ids:
        return set(ids)
    names = [CLAIM_PREFIX + b for b in ids]
    stamp, until = naive(now), naive(now + me.lease)
    # claims whose runner's lease ran out are taken over (rows another runner is taking
    # over right now are passed by), and the expired runner is told so at its next write
    conn.execute(
        """UPDATE locks SET holder_pid = ?, holder_host = ?, holder_token = ?, since = ?,
               lease_until = ?
           WHERE name IN (SELECT name FROM locks WHERE name IN (SELECT unnest(?::VARCHAR[]))
                          AND lease_until < ? FOR UPDATE SKIP LOCKED)""",
        [me.pid, me.host, me.token, stamp, until, names, stamp],
    )
    conn.execute(
        "DELETE FROM locks WHERE name LIKE ? AND lease_until < ?", [RUNNER_PREFIX + "%", stamp]
    )
    conn.execute(
        """INSERT INTO locks (name, holder_pid, holder_host, holder_token, since, lease_until)
           SELECT unnest(?::VARCHAR[]), ?, ?, ?, ?, ?
           ON CONFLICT (name) DO NOTHING""",
        [names, me.pid, me.host, me.token, stamp, until],
    )
    rows = conn.execute(
        "SELECT name FROM locks WHERE name IN (SELECT unnest(?::VARCHAR[])) AND holder_token = ?",
        [names, me.token],
    ).fetchall()
    return {str(r[0])[len(CLAIM_PREFIX) :] for r in rows}


def holders_of(conn: Connection, batch_ids: Sequence[str]) -> dict[str, int]:
    """Who holds the claims of these batches: ``pid N on HOST`` -> how many."""
    rows = conn.execute(
        """SELECT holder_pid, holder_host, count(*) FROM locks
           WHERE name IN (SELECT unnest(?::VARCHAR[])) GROUP BY holder_pid, holder_host""",
        [[CLAIM_PREFIX + b for b in batch_ids]],
    ).fetchall()
    return {f"runner pid {r[0]} on {r[1]}": int(r[2]) for r in rows}


def held_elsewhere(conn: Connection, me: Holder | None, in_flight: Sequence[Batch]) -> list[str]:
    """Runs in flight that another runner (or nobody yet) follows, by holder, for the summary.

    Only on a shared state; a pass that says "0 still running" while other runners'
    claims hold runs would hide them.
    """
    if me is None or not me.shared:
        return []
    ids = [b.batch_id for b in in_flight]
    if not ids:
        return []
    rows = conn.execute(
        """SELECT l.holder_pid, l.holder_host, l.holder_token, max(l.lease_until), count(*)
           FROM (SELECT unnest(?::VARCHAR[]) AS name) AS b
           LEFT JOIN locks AS l ON l.name = b.name
           GROUP BY l.holder_pid, l.holder_host, l.holder_token""",
        [[CLAIM_PREFIX + b for b in ids]],
    ).fetchall()
    out = []
    for pid, host, token, until, count in rows:
        if token == me.token:
            continue
        if token is None:
            out.append(f"{count} run(s) claimed by no runner: the next pass follows them")
        else:
            who = f"runner pid {pid} on {host}"
            until_text = until.isoformat(timespec="seconds")
            out.append(f"{count} run(s) followed by {who} (claimed until {until_text})")
    return sorted(out)
