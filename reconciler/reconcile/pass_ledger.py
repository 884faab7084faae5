"""The pass's writes: each executor change committed with what it means, in one transaction.

One write confirms the pass still holds the state lock (and renews its lease when due),
writes the run ids of batches just started, the outcomes of batches that ended together
with their events (check results, notifications) and the outdated marks successes write
on the dates of the pipelines that read them, the backfills the executor read ahead
(queued as pending), the new intents with their owners and claims, and exchanges
notifications with the outbox. A write broken by a PostgreSQL outage rolled back, and is
written again once the server is back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import TypeVar

from reconciler.clock import Clock
from reconciler.core.batches import Outcome
from reconciler.core.calendar import sla_deadline
from reconciler.core.coverage import Observed
from reconciler.core.dependencies import outdated_by, users_of
from reconciler.core.intervals import from_dates
from reconciler.core.lifecycle import BatchState
from reconciler.core.spec import PipelineSpec
from reconciler.notify.outbox import Outbox
from reconciler.platforms.base import Platform
from reconciler.platforms.registry import record_owners
from reconciler.reconcile.executor import Changes
from reconciler.reconcile.pass_events import PassEvents
from reconciler.state.locking import Holder
from reconciler.state.notification_rows import NotificationRow
from reconciler.state.outdated_marks import OutdatedMark
from reconciler.state.pg_outage import retrying
from reconciler.state.sessions import Finished, WriteSession
from reconciler.state.store import Store

T = TypeVar("T")

RENEW_EVERY = 20.0  # seconds between lease renewals of the apply lock (or runner claims)


def transact(store: Store, body: Callable[[WriteSession], T]) -> T:
    """One transaction of the pass, written again when an outage broke it (each body
    only records what may be recorded twice: the broken attempt rolled back)."""

    def once() -> T:
        with store.write() as session:
            return body(session)

    return retrying(once)


class PassLedger:
    """The executor's ``Ledger`` for one pass: its lock, its events, its outbox."""

    def __init__(
        self,
        *,
        store: Store,
        lock: Holder,
        clock: Clock,
        specs: Mapping[str, PipelineSpec],
        platforms: Mapping[str, Platform],
        events: PassEvents,
        outbox: Outbox,
        observed: Observed,
        renewed_at: float,
    ) -> None:
        self.store = store
        self.lock = lock
        self.clock = clock
        self.specs = specs
        self.platforms = dict(platforms)
        self.events = events
        self.outbox = outbox
        self.observed = observed
        self._renewed = renewed_at  # (monotonic) the lease was last taken or renewed
        self._users = users_of(specs.values())  # per upstream, who reads it

    def renewal_due(self) -> bool:
        return time.monotonic() - self._renewed > RENEW_EVERY

    def write(self, changes: Changes) -> set[str]:
        written, claimed, renewed = transact(
            self.store, lambda session: self._write(session, changes)
        )
        if renewed:  # (only once committed: a broken transaction renewed nothing)
            self._renewed = time.monotonic()
        self.outbox.start(claimed)  # sent only once their claim is committed
        return written

    def _write(
        self, session: WriteSession, changes: Changes
    ) -> tuple[set[str], list[NotificationRow], bool]:
        now = self.clock.now()
        extend = self.renewal_due()  # (asked again when an outage made this a retry)
        session.confirm_lock(self.lock, now, extend=extend, following=changes.following)
        session.mark_running(
            [(b.batch_id, b.platform_run_id, b.started_at or now) for b in changes.started]
        )
        finished = [(s.batch, _outcome(s), self._deadlines(s)) for s in changes.ended]
        live = session.record_outcomes_live(finished)
        if live:
            results = {s.batch_id: list(s.checks) for s in changes.ended if s.checks}
            self.events.record_outcomes(
                session,
                [f for f in finished if f[0].batch_id in live],
                results,
                self.observed,
                now,
            )
            session.add_outdated_marks(
                self._outdated_by([f for f in finished if f[0].batch_id in live]), now
            )
        # backfills read ahead are queued (pending) as they are read, never all at once
        session.enqueue_backfills(changes.queued, now)
        written = set(session.record_intents(changes.intents, now))
        record_owners(
            self.platforms, session, [i for i in changes.intents if i.batch_id in written], now
        )
        session.claim(self.lock, written, now)
        return written, self.outbox.exchange(session, final=False), extend

    def _outdated_by(self, finished: Sequence[Finished]) -> list[OutdatedMark]:
        """The marks the successful runs just recorded write on their users' dates.

        Only re-runs mark: dates that were covered when the pass planned them, and runs
        for a request (a backfill request or a refresh, and their retries). A date's
        first plain run marks nothing: a user never read it (it waited for it), which is
        also what the plan shows beforehand (``core.readiness``)."""
        out: list[OutdatedMark] = []
        for batch, outcome, _ in finished:
            up = self.specs.get(batch.pipeline_id)
            if not outcome.success or up is None or batch.pipeline_id not in self._users:
                continue
            if batch.request_id is None:
                covered = self.observed.of(batch.pipeline_id).coverage.covers
                changed = [d for d in batch.dates if covered(d.toordinal())]
            else:
                changed = list(batch.dates)
            if not changed:
                continue
            marks = outdated_by(up, from_dates(changed), self._users)
            out += [OutdatedMark.from_upstream(m, batch.batch_id) for m in marks]
        return out

    def _deadlines(self, state: BatchState) -> dict[date, datetime]:
        spec = self.specs.get(state.pipeline_id)
        if spec is None or spec.sla_time is None:
            return {}
        return {d: sla_deadline(spec.schedule, spec.sla_time, d) for d in state.batch.dates}


def _outcome(state: BatchState) -> Outcome:
    if state.outcome is None:
        raise ValueError(f"batch {state.batch_id} ended without an outcome")
    return state.outcome
