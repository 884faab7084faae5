"""One reconcile pass: sync config, adopt what is in flight, start the plan's actions.

A run is recorded as ``pending`` (with a deterministic batch id) in a committed
transaction before its platform is called, and its platform run id is written in the
next transaction (at once when the platform chose it: for ``local`` it is the batch
id). A pending run found by a later pass is started if its platform never saw it,
and followed otherwise: platforms make a repeated start of a batch a no-op. So a pass
killed at any point is finished by the next one, and no date is ever started twice.

For throughput, intents are written a few slots ahead (``AHEAD``) and outcomes are
written in batches (at most ``WRITE_INTERVAL`` late): a slot that frees up is filled
without waiting for the state file, and one transaction carries many runs.

A run its platform reports successful is checked first (quality checks, in worker
threads) and only then recorded. The events of a pass (outcomes, SLA breaches, dates
out of retries, finished backfill requests) are recorded as notifications in the
same transactions, and sent by the pass's outbox in a background thread.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from reconciler import collector
from reconciler.clock import Clock
from reconciler.config.loading import LoadedPipeline, load_config
from reconciler.config.rows import pipeline_row
from reconciler.config.run_values import rendered_parameters, run_values
from reconciler.core import scheduling as slots
from reconciler.core.batches import Batch, Outcome, RunIntent, batch_key, short_id
from reconciler.core.calendar import sla_deadline
from reconciler.core.coverage import Observed
from reconciler.core.fleet import plan_fleet
from reconciler.core.plan import Action, Plan
from reconciler.core.spec import BackfillRequest, PipelineSpec, with_adhoc
from reconciler.errors import ConfigError, Problem, ReconcilerError
from reconciler.masking import register_config
from reconciler.notify.outbox import Outbox
from reconciler.notify.pass_events import PassEvents
from reconciler.platforms.base import Platform, RunRequest
from reconciler.platforms.local import LocalPlatform
from reconciler.platforms.registry import build_platforms, record_owners
from reconciler.quality.checking import Checker
from reconciler.quality.results import CheckResult
from reconciler.reconcile.planning import retried
from reconciler.state.locking import Holder
from reconciler.state.notification_rows import NotificationRow
from reconciler.state.pg_outage import retrying
from reconciler.state.sessions import WriteSession
from reconciler.state.store import open_store

T = TypeVar("T")

POLL_MIN = 0.05
POLL_INTERVAL = 0.25  # the longest a pass idles before looking at its runs again
RENEW_EVERY = 20.0  # seconds between lease renewals of the apply lock (or runner claims)
AHEAD = 8  # intents written ahead of the free slots, per slot
WRITE_INTERVAL = 0.25  # the longest run outcomes wait to be written while slots are busy
DRAIN_LIMIT = 120.0  # seconds the end of a pass waits for notifications being sent


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyOptions:
    wait: bool = False
    max_parallel: int = 8
    allow_empty: bool = False
    runs_dir: Path | None = None  # local runs' directory (None: the default for the state)


@dataclass(slots=True, kw_only=True)
class ApplyReport:
    """What a pass did, for the closing summary and for tests (``after``: ``_conclude``)."""

    plan: Plan | None = None
    after: Plan | None = None
    config_changes: dict[str, str] = field(default_factory=dict)
    started: int = 0
    started_dates: int = 0
    succeeded: int = 0
    failed: int = 0
    adopted: int = 0
    still_running: int = 0
    held_elsewhere: list[str] = field(default_factory=list)  # runs other runners follow
    notifications: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unplannable: dict[str, str] = field(default_factory=dict)  # id -> why: left out


Progress = Callable[[ApplyReport, int], None]


class Applier:
    """Carries out one pass; holds the state file only per transaction."""

    def __init__(
        self,
        config_dir: Path,
        state_path: str,
        clock: Clock,
        options: ApplyOptions,
        progress: Progress | None = None,
        platforms: dict[str, Platform] | None = None,
    ) -> None:
        self.config_dir = config_dir
        self.state = state_path
        self.store = open_store(state_path)
        self.clock = clock
        self.options = options
        self.progress = progress
        offset = (clock.now() - datetime.now(UTC)).total_seconds()
        self.platforms = platforms or build_platforms(state_path, offset, options.runs_dir)
        self.report = ApplyReport()
        self.pipelines: dict[str, LoadedPipeline] = {}
        self.specs: dict[str, PipelineSpec] = {}
        self.running: dict[str, Batch] = {}
        self.lock: Holder | None = None
        self._last_renew = time.monotonic()
        # started (or restarted) but not yet marked running: (platform run id, started at)
        self._unmarked: dict[str, tuple[str | None, datetime]] = {}
        # outcomes found without a platform (start failures, unfollowable runs)
        self._failures: list[tuple[Batch, Outcome]] = []
        self.checker = Checker(clock)
        self._results: dict[str, list[CheckResult]] = {}  # checked, outcome not written yet
        self.outbox = Outbox({}, {}, clock, store=self.store)
        self.events = PassEvents({}, {}, self.outbox)
        self.run_specs: dict[str, PipelineSpec] = {}  # with ad-hoc requests
        self.observed = Observed()
        self._long_lived = collector.LongLived()

    # --- the pass -----------------------------------------------------------------

    def run(self) -> ApplyReport:
        try:
            return self._run()
        finally:
            self._long_lived.thaw()  # (``run --interval`` plans again: these may go)

    def _run(self) -> ApplyReport:
        """The pass itself; what it freezes is unfrozen by ``run``, so call that."""
        # config, state and plan live for the whole pass: built with the cyclic collector
        # off, then frozen, so later collections scan only what the pass creates
        with self._long_lived.building():
            loaded = load_config(self.config_dir)
            self.pipelines = {p.id: p for p in loaded}
            self.specs = {p.id: p.spec for p in loaded}
        # every secret a pipeline names is masked from here on, in output and state
        for p in loaded:
            register_config(p.flat, os.environ)
        self.lock = self.store.acquire_lock(self.clock.now())
        try:
            with self._long_lived.building():
                found = self._sync_config(loaded)
                self._adopt_in_flight(found)
                plan = self._plan()
            self.report.plan = plan
            # only pipelines that can notify or breach an SLA have anything to say; the
            # others' models are never validated again when they come from the cache
            models = {
                pid: p.model
                for pid, p in self.pipelines.items()
                if p.notifies or p.spec.sla_time is not None
            }
            self.outbox = Outbox(models, self.run_specs, self.clock, store=self.store)
            self.events = PassEvents(models, self.specs, self.outbox)
            actions = [a for a in plan.actions if a.kind in ("run", "retry", "backfill")]
            actions = self._startable(actions)
            intents = [self._intent(a) for a in actions]
            self._prepare(plan, intents)
            self._drive(intents)
            self.report.still_running = len(self.running)
            self.report.held_elsewhere = self.store.held_elsewhere(self.lock)
            for platform in self.platforms.values():
                if isinstance(platform, LocalPlatform):  # outcomes are recorded by now
                    platform.prune(keep=set(self.running))
            self._conclude()
        finally:
            for platform in self.platforms.values():
                platform.close()
            self.checker.close()
            self.outbox.close()
            self.report.notifications += self.outbox.lines
            if self.lock is not None:
                self.store.release_lock(self.lock)
        return self.report

    def _sync_config(self, loaded: list[LoadedPipeline]) -> list[Batch]:
        """Write the config; returns the batches in flight, read in the same transaction."""
        now = self.clock.now()

        def body(session: WriteSession) -> list[Batch]:
            # config_json of the active pipelines: unchanged ones (the same text) cost a
            # comparison, and their models are not validated again from the cache
            applied = session.applied_configs()
            active = set(applied)
            desired = {p.id for p in loaded}
            if not desired and active and not self.options.allow_empty:
                raise ConfigError(
                    [
                        Problem(
                            file=str(self.config_dir),
                            line=1,
                            col=1,
                            message=f"no pipeline files found, which would delete all "
                            f"{len(active)} pipelines; check --config-dir, or pass "
                            "--allow-empty to do it",
                        )
                    ]
                )
            stale = [p for p in loaded if applied.get(p.id) != p.config_json]
            changes = session.sync_pipelines(
                [(pipeline_row(p.model), dict(p.model.parameters)) for p in stale], now
            )
            self.report.config_changes.update(changes)
            gone = sorted(active - desired)
            session.mark_deleted(gone, now)
            for pid in gone:
                self.report.config_changes[pid] = "delete"
            return session.in_flight()

        return self._transact(body)

    def _adopt_in_flight(self, found: list[Batch]) -> None:
        """Runs a previous pass left behind: followed (and started, if they never were)."""
        now = self.clock.now()
        for batch in retrying(lambda: self.store.adopt(self.lock, found, now)):
            self.running[batch.batch_id] = batch
            self.report.adopted += 1

    def _plan(self) -> Plan:
        ids = list(self.specs)
        limits = retried(self.pipelines.values(), notifying=True)

        def read() -> tuple[Observed, dict[str, tuple[BackfillRequest, ...]]]:
            with self.store.read() as session:
                return session.plan_inputs(ids, limits)

        self.observed, extra = retrying(read)
        self.run_specs = {s.id: s for s in with_adhoc(self.specs.values(), extra)}
        fleet = plan_fleet(list(self.run_specs.values()), self.observed, self.clock.now())
        self.report.unplannable.update(fleet.unplannable)
        return fleet.plan

    def _startable(self, actions: list[Action]) -> list[Action]:
        """Actions whose platform this reconciler can drive; the others are reported."""
        out: list[Action] = []
        for action in actions:
            platform = self.pipelines[action.pipeline_id].model.platform
            if platform in self.platforms:
                out.append(action)
            else:
                note = f"{action.pipeline_id}: platform {platform!r} is not available in apply"
                if note not in self.report.skipped:
                    self.report.skipped.append(note)
        return out

    def _prepare(self, plan: Plan, intents: list[RunIntent]) -> None:
        """SLA breaches recorded, plan events noted, the pass's backfills queued as pending.

        Notifications left over from earlier passes are sent from here on.
        """
        now = self.clock.now()

        def body(session: WriteSession) -> list[NotificationRow]:
            self.outbox.recover(session)
            self.events.note_plan(session.conn, plan, self.observed, self.run_specs, now)
            session.enqueue_backfills(intents, now)
            return self.outbox.exchange(session)

        self.outbox.start(self._transact(body))

    def _conclude(self) -> None:
        """Notice what the pass's outcomes led to, then finish sending (bounded)."""
        events = self.events
        # the state after outcomes (events, closing summary); without any, no second plan
        if self.report.succeeded or self.report.failed:
            with collector.paused():
                self.report.after = plan = self._plan()
            if events.plan_events or events.any_sla:

                def body(session: WriteSession) -> list[NotificationRow]:
                    now = self.clock.now()
                    events.note_plan(session.conn, plan, self.observed, self.run_specs, now)
                    return self.outbox.exchange(session)

                self.outbox.start(self._transact(body))
        deadline = time.monotonic() + DRAIN_LIMIT
        while not self.outbox.settled and time.monotonic() < deadline:
            self.outbox.wait(max(deadline - time.monotonic(), 0.0))
            if self.outbox.busy:
                break  # a receiver that hangs: the rest of the claim waits for the next pass
            self.outbox.start(self._transact(self.outbox.exchange))

    def _transact(self, body: Callable[[WriteSession], T]) -> T:
        """One transaction of the pass, written again when an outage broke it (each body
        here only records what may be recorded twice: the broken attempt rolled back)."""

        def once() -> T:
            with self.store.write() as session:
                return body(session)

        return retrying(once)

    # --- starting and following runs ----------------------------------------------

    def _intent(self, action: Action) -> RunIntent:
        key = batch_key(action.pipeline_id, action.dates, action.request_id, action.attempt)
        pipeline = self.pipelines[action.pipeline_id].model
        return RunIntent(
            batch_id=short_id(key),
            key=key,
            pipeline_id=action.pipeline_id,
            dates=action.dates,
            attempt=action.attempt,
            kind=action.kind,
            request_id=action.request_id,
            priority=action.priority,
            retry_schedule=pipeline.retry.schedule,
            platform=pipeline.platform,
        )

    def _drive(self, intents: list[RunIntent]) -> None:
        """Start every intent as slots free up; with ``--wait``, follow runs to the end.

        Intents are written (``pending``) a few slots ahead, in one transaction with
        whatever was learnt since the last one (runs started, runs ended); a run is only
        ever started after its intent is committed. A pending intent that a crash kept
        from starting is started by the next pass, so a slot that frees up can be
        filled at once, without waiting for the state file.
        """
        queues: dict[str, deque[tuple[int, RunIntent]]] = {}
        for index, intent in enumerate(intents):
            queues.setdefault(intent.pipeline_id, deque()).append((index, intent))
        total, queued = len(intents), len(intents)
        pool: list[RunIntent] = []  # written, not started yet (in plan order)
        ended: list[tuple[Batch, Outcome]] = []  # found ended, not written yet
        ahead = max(AHEAD * self.options.max_parallel, 16)
        last_write = 0.0
        while True:
            found = self._poll()
            for batch, _ in found:
                self.running.pop(batch.batch_id, None)
            ended += found
            started = self._start_from(pool)
            self._write_chosen_run_ids()
            refill = queued > 0 and len(pool) < self.options.max_parallel
            due = time.monotonic() - last_write >= WRITE_INTERVAL
            if refill or self._renew_due() or ((ended or self._unmarked) and due):
                taken = self._take(queues, pool, ahead)
                queued -= len(taken)
                written = self._write(ended, taken)
                ended = []
                last_write = time.monotonic()
                pool += [i for i in taken if i.batch_id in written]
                started += self._start_from(pool)
                self._write_chosen_run_ids()
            if self.progress and (found or started):
                self.progress(self.report, total)
            if (
                queued == 0
                and not pool
                and not self.checker
                and not (self.options.wait and self._followed())
            ):
                break
            if not found and not started:
                self._idle()
        if ended or self._unmarked:
            self._write(ended, [])

    def _write_chosen_run_ids(self) -> None:
        """A run id the platform chose (not the batch id) is written before anything else."""
        if any(run_id != batch_id for batch_id, (run_id, _) in self._unmarked.items()):
            self._write([], [])

    def _take(
        self, queues: dict[str, deque[tuple[int, RunIntent]]], pool: list[RunIntent], ahead: int
    ) -> list[RunIntent]:
        """The next intents in plan order (``AHEAD`` times ``max_active_runs`` a pipeline)."""
        running = self.running.values()
        return slots.take(
            queues, pool, running, ahead, lambda pid: AHEAD * self.specs[pid].max_active_runs
        )

    def _start_from(self, pool: list[RunIntent]) -> int:
        """Start, in order, the written intents that fit the free slots; returns how many."""
        if not pool:
            return 0
        running = list(self.running.values())
        chosen = slots.fit(
            pool, running, self.options.max_parallel, lambda p: self.specs[p].max_active_runs
        )
        self._start(chosen)
        return len(chosen)

    def _write(self, outcomes: list[tuple[Batch, Outcome]], intents: list[RunIntent]) -> set[str]:
        # a connection broken mid-transaction rolled it back: written again once reconnected
        return retrying(lambda: self._write_once(outcomes, intents))

    def _write_once(
        self, outcomes: list[tuple[Batch, Outcome]], intents: list[RunIntent]
    ) -> set[str]:
        """One transaction: runs marked started, outcomes (with their checks and events),
        new intents, notifications sent or due; returns the intents written."""
        now = self.clock.now()
        ended = {b.batch_id for b, _ in outcomes}
        marks = [(bid, rid, at) for bid, (rid, at) in self._unmarked.items() if bid not in ended]
        extend = self._renew_due()
        with self.store.write() as session:
            if self.lock is not None:
                session.confirm_lock(self.lock, now, extend=extend, following=self.running)
            session.mark_running(marks)
            finished = [(b, o, self._deadlines(b)) for b, o in outcomes]
            live = session.record_outcomes_live(finished)
            if live:
                self.events.record_outcomes(
                    session.conn,
                    [f for f in finished if f[0].batch_id in live],
                    self._results,
                    self.observed,
                    now,
                )
            written = set(session.record_intents(intents, now))
            owned = [i for i in intents if i.batch_id in written]
            record_owners(self.platforms, session, owned, now)
            session.claim(self.lock, written, now)
            claimed = self.outbox.exchange(session, final=False)
        if extend:  # (only once committed: a broken transaction renewed nothing)
            self._last_renew = time.monotonic()
        self.outbox.start(claimed)
        for batch_id in ended:
            self._results.pop(batch_id, None)
        for batch_id, run_id, at in marks:
            batch = self.running.get(batch_id)
            if batch is not None:
                self.running[batch_id] = dataclasses.replace(
                    batch, status="running", platform_run_id=run_id, started_at=at
                )
        self._unmarked.clear()
        self.report.succeeded += sum(1 for _, o in outcomes if o.success)
        self.report.failed += sum(1 for _, o in outcomes if not o.success)
        return written

    def _start(self, intents: Iterable[RunIntent]) -> None:
        for intent in intents:
            batch = Batch(
                batch_id=intent.batch_id,
                pipeline_id=intent.pipeline_id,
                dates=intent.dates,
                status="pending",
                attempt=intent.attempt,
                kind=intent.kind,
                request_id=intent.request_id,
                platform=intent.platform,
                platform_run_id=None,
                started_at=None,
            )
            self.running[batch.batch_id] = batch
            self.report.started += 1
            self.report.started_dates += len(batch.dates)
            self._platform_start(batch)

    def _platform_start(self, batch: Batch) -> None:
        """Hand the run to its platform; a refusal is recorded as the run's failure."""
        pipeline = self.pipelines[batch.pipeline_id].model
        values = run_values(pipeline, batch.dates, batch.batch_id)
        request = RunRequest(
            batch_id=batch.batch_id,
            key=batch_key(batch.pipeline_id, batch.dates, batch.request_id, batch.attempt),
            pipeline=pipeline,
            dates=batch.dates,
            attempt=batch.attempt,
            values=values,
            parameters=rendered_parameters(pipeline, values),
        )
        started = self.clock.now()
        try:
            run_id = self.platforms[batch.platform].start(request).run_id  # None: unconfirmed
        except (ReconcilerError, OSError) as exc:
            self._failures.append(
                (
                    batch,
                    Outcome(success=False, ended_at=self.clock.now(), error=f"not started: {exc}"),
                )
            )
            return
        self._unmarked[batch.batch_id] = (run_id, started)
        self.running[batch.batch_id] = dataclasses.replace(
            batch, platform_run_id=run_id, started_at=batch.started_at or started
        )

    def _poll(self) -> list[tuple[Batch, Outcome]]:
        """Look at every run in flight; restart the ones that never started."""
        outcomes, self._failures = self._failures, []
        failed_now = {b.batch_id for b, _ in outcomes}
        for batch in list(self.running.values()):
            if batch.batch_id in failed_now:
                continue
            if batch.platform is None:
                error = "recorded in flight without a platform (older state): cannot be followed"
                outcomes.append(
                    (batch, Outcome(success=False, ended_at=self.clock.now(), error=error))
                )
                continue
            platform = self.platforms.get(batch.platform)
            if platform is None:
                continue  # its platform is not available here: left to a later pass
            result = platform.poll(batch.batch_id, batch.platform_run_id)
            if result.state == "not_started":
                if batch.pipeline_id in self.pipelines:
                    self._platform_start(batch)  # idempotent: never a second run
                else:
                    error = (
                        "the pipeline was deleted before its run started"
                        if batch.platform_run_id is None
                        else "the pipeline was deleted while its run was in flight; "
                        "no longer followed"
                    )
                    outcomes.append(
                        (batch, Outcome(success=False, ended_at=self.clock.now(), error=error))
                    )
            elif result.state in ("success", "failed"):
                ended_at = result.ended_at or self.clock.now()
                run_id = batch.platform_run_id or batch.batch_id
                loaded = self.pipelines.get(batch.pipeline_id)
                if result.state == "success" and loaded and loaded.model.quality.checks:
                    self.running.pop(batch.batch_id, None)  # its slot is free while checked
                    self.checker.begin(loaded.model, batch, ended_at, run_id)
                    continue
                outcome = Outcome(
                    success=result.state == "success",
                    ended_at=ended_at,
                    error=result.error,
                    platform_run_id=run_id,
                )
                outcomes.append((batch, outcome))
        outcomes += self._failures  # start failures of restarts, found just now
        self._failures = []
        for checked in self.checker.finished():
            self._results[checked.batch.batch_id] = checked.results
            outcomes.append((checked.batch, checked.outcome))
        return outcomes

    def _followed(self) -> bool:
        """Whether a run in flight can still be followed by this pass."""
        return any(b.platform in self.platforms for b in self.running.values()) or bool(
            self._failures
        )

    def _idle(self) -> None:
        """Wait for a run to end, at most ``POLL_INTERVAL``."""
        platforms = {b.platform for b in self.running.values() if b.platform in self.platforms}
        if not platforms and self.checker:
            self.checker.wait(POLL_INTERVAL)
        elif len(platforms) == 1:
            self.platforms[platforms.pop()].wait(POLL_INTERVAL)
        else:
            time.sleep(POLL_INTERVAL if platforms else POLL_MIN)

    def _renew_due(self) -> bool:
        return time.monotonic() - self._last_renew > RENEW_EVERY

    def _deadlines(self, batch: Batch) -> dict[date, datetime]:
        spec = self.specs.get(batch.pipeline_id)
        if spec is None or spec.sla_time is None:
            return {}
        return {d: sla_deadline(spec.schedule, spec.sla_time, d) for d in batch.dates}
