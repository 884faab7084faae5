"""One reconcile pass: config -> observed state -> plan -> batch lifecycle -> events.

The steps, in order (docs/architecture.md draws them); each is a function (here, or in
``pass_plan``, ``intents`` and ``pass_rounds``):

1. ``load``: the pipeline files, validated; every secret they name is masked from then on.
   A pipeline whose trigger variable is missing or empty (``config/env_secrets.py``) is
   blocked: reported in ``ApplyReport.env_problems`` and starts nothing.
2. the state's apply lock (PostgreSQL runners share it, each following what it claims).
   A saved plan (``apply --plan``) is checked against the loaded config before it; under
   it, before anything is written, against the state and against the plan of that state,
   which is then the plan applied (steps 3 and 4 follow step 5).
3. ``sync_config``: the config written to the state (a pipeline whose version changed has
   its dates marked outdated), the batches in flight read with it.
4. ``adopt``: the in-flight batches this pass can claim, to be followed.
5. ``plan_now``: the state read and the fleet planned at ``now``, once.
6. ``pass_intents``: which pipelines' runs, retries and backfills this reconciler starts
   (paused ones and those whose platform is not here are noted as skipped) and how many;
   the ``RunIntent``s are made as the executor reads them. ``prepare``: SLA breaches and
   plan events recorded (``pass_rounds``).
7. ``execute``: the executor (``reconcile/executor.py``) reads the intents in start order,
   a chunk at a time, starts and follows the batches; each of its writes
   (``reconcile/pass_ledger.py``) records outcomes with their events and queues the
   backfills it read ahead. With ``--wait`` and dependencies, ``cascade`` plans again
   and starts what the outcomes made ready, round after round.
8. ``conclude``: after a pass whose runs ended, the pipelines it started or ended a run
   of (and those with an SLA) are planned again (what their outcomes led to: retries,
   exhausted dates, finished requests, the closing summary); notifications are drained.

A run is recorded as ``pending`` (with a deterministic batch id) in a committed
transaction before its platform is called; a pending run found by a later pass is
started if its platform never saw it and followed otherwise, so a pass killed at any
point is finished by the next one, and no date is ever started twice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from reconciler import collector
from reconciler.clock import Clock
from reconciler.config.env_secrets import blocked_pipelines, env_problems
from reconciler.config.loading import LoadedPipeline, load_config
from reconciler.config.rows import pipeline_row
from reconciler.core.batches import Batch
from reconciler.errors import ConfigError, Problem
from reconciler.masking import register_config
from reconciler.notify.outbox import Outbox
from reconciler.platforms.base import Platform
from reconciler.platforms.registry import build_platforms
from reconciler.reconcile import saved_plans
from reconciler.reconcile.cancelling import send_recorded
from reconciler.reconcile.executor import Progress
from reconciler.reconcile.intents import pass_intents
from reconciler.reconcile.pass_events import PassEvents
from reconciler.reconcile.pass_ledger import PassLedger, transact
from reconciler.reconcile.pass_plan import Planned, plan_now
from reconciler.reconcile.pass_report import ApplyReport, after_pass
from reconciler.reconcile.pass_rounds import ApplyOptions as ApplyOptions
from reconciler.reconcile.pass_rounds import cascade, execute, prepare
from reconciler.reconcile.pipeline_graph import dependants_of, upstreams_of
from reconciler.reconcile.request_removal import cancel_removed
from reconciler.reconcile.saved_plans import SavedPlanCheck
from reconciler.reconcile.version_marks import version_marks
from reconciler.state.locking import Holder
from reconciler.state.notification_rows import NotificationRow
from reconciler.state.pg_outage import retrying
from reconciler.state.sessions import WriteSession
from reconciler.state.store import Store, open_store

DRAIN_LIMIT = 120.0  # seconds the end of a pass waits for notifications being sent


def apply_pass(
    config_dir: Path,
    state: str,
    clock: Clock,
    options: ApplyOptions,
    *,
    progress: Progress | None = None,
    platforms: dict[str, Platform] | None = None,
    saved: SavedPlanCheck | None = None,
) -> ApplyReport:
    """Carry out one pass; the state is held only per transaction (and by its lock)."""
    long_lived = collector.LongLived()
    try:
        return _apply(config_dir, state, clock, options, progress, platforms, saved, long_lived)
    finally:
        long_lived.thaw()  # (``run --interval`` plans again: what the pass built may go)


def _apply(
    config_dir: Path,
    state: str,
    clock: Clock,
    options: ApplyOptions,
    progress: Progress | None,
    given: dict[str, Platform] | None,
    saved: SavedPlanCheck | None,
    long_lived: collector.LongLived,
) -> ApplyReport:
    # config, state and plan live for the whole pass: built with the cyclic collector
    # off, then frozen, so later collections scan only what the pass creates
    with long_lived.building():
        loaded = load(config_dir)
    pipelines = {p.id: p for p in loaded}
    offset = (clock.now() - datetime.now(UTC)).total_seconds()
    platforms = given or build_platforms(state, offset, options.runs_dir)
    store = open_store(state)
    if saved is not None:
        saved_plans.verify_config(saved, loaded, clock.now())
    report = ApplyReport(env_problems=env_problems(loaded, os.environ))
    blocked = blocked_pipelines(report.env_problems)
    lock = store.acquire_lock(clock.now())
    locked_at = time.monotonic()
    outbox: Outbox | None = None
    try:
        with long_lived.building():
            if saved is None:
                found = sync_config(store, config_dir, loaded, clock.now(), options, report)
                adopted = adopt(store, lock, found, clock.now(), blocked)
                planned = plan_now(store, pipelines, clock.now())
            else:
                # the saved plan was made from the state before any sync: it is compared
                # with the plan of that same state, under the lock, before anything is
                # written; the verified plan is then the one applied
                saved_plans.verify_state(saved, store)
                planned = plan_now(store, pipelines, clock.now())
                saved_plans.verify_same_plan(saved, planned.plan)
                found = sync_config(store, config_dir, loaded, clock.now(), options, report)
                adopted = adopt(store, lock, found, clock.now(), blocked)
        report.cancels += send_recorded(store, pipelines, platforms, clock.now())
        report.plan, report.adopted = planned.plan, len(adopted)
        report.unplannable.update(planned.unplannable)
        # only pipelines that can notify or breach an SLA have anything to say; the
        # others' models are never validated again when they come from the cache
        models = {
            pid: p.model
            for pid, p in pipelines.items()
            if p.notifies or p.spec.sla_time is not None
        }
        specs = {pid: p.spec for pid, p in pipelines.items()}
        outbox = Outbox(models, planned.run_specs, clock, store=store)
        events = PassEvents(models, specs, outbox)
        intents = pass_intents(planned.plan, pipelines, platforms, report, blocked)
        prepare(store, planned, events, outbox, clock.now())
        ledger = PassLedger(
            store=store,
            lock=lock,
            clock=clock,
            specs=specs,
            platforms=platforms,
            events=events,
            outbox=outbox,
            observed=planned.observed,
            renewed_at=locked_at,
        )
        tally = execute(pipelines, platforms, ledger, clock, options, progress, intents, adopted)
        if options.wait and any(p.spec.depends_on for p in loaded):
            tally = cascade(
                store,
                pipelines,
                platforms,
                ledger,
                events,
                outbox,
                options,
                tally,
                progress,
                blocked,
            )
        report.started, report.started_dates = tally.started, tally.started_dates
        report.succeeded, report.failed = tally.succeeded, tally.failed
        report.still_running = tally.still_running
        report.held_elsewhere = store.held_elsewhere(lock)
        touched = (
            tally.ended_pipelines | tally.started_pipelines if tally.ended_pipelines else set()
        )
        conclude(store, pipelines, planned, touched, events, outbox, clock, report)
    finally:
        for platform in platforms.values():
            platform.close()
        if outbox is not None:
            outbox.close()
            report.notifications += outbox.lines
        store.release_lock(lock)
    return report


def load(config_dir: Path) -> list[LoadedPipeline]:
    """The pipeline files, validated; every secret a pipeline names is masked from here on,
    in output and in the state."""
    loaded = load_config(config_dir)
    for p in loaded:
        register_config(p.flat, os.environ)
    return loaded


def sync_config(
    store: Store,
    config_dir: Path,
    loaded: Sequence[LoadedPipeline],
    now: datetime,
    options: ApplyOptions,
    report: ApplyReport,
) -> list[Batch]:
    """Write the config; returns the batches in flight, read in the same transaction."""

    def body(session: WriteSession) -> tuple[dict[str, str], list[Batch]]:
        # config_json of the active pipelines: unchanged ones (the same text) cost a
        # comparison, and their models are not validated again from the cache
        applied = session.applied_configs()
        active = set(applied)
        desired = {p.id for p in loaded}
        if not desired and active and not options.allow_empty:
            raise ConfigError(
                [
                    Problem(
                        file=str(config_dir),
                        line=1,
                        col=1,
                        message=f"no pipeline files found, which would delete all "
                        f"{len(active)} pipelines; check --config-dir, or pass "
                        "--allow-empty to do it",
                    )
                ]
            )
        stale = [p for p in loaded if applied.get(p.id) != p.config_json]
        # (read before the sync replaces it: the applied config holds the old version)
        session.add_outdated_marks(version_marks([p.spec for p in stale], applied), now)
        changes = session.sync_pipelines(
            [(pipeline_row(p.model), dict(p.model.parameters)) for p in stale], now
        )
        report.cancels.extend(cancel_removed(session, stale, applied, now))
        gone = sorted(active - desired)
        session.mark_deleted(gone, now)
        changes.update({pid: "delete" for pid in gone})
        return changes, session.in_flight()

    changes, found = transact(store, body)
    report.config_changes.update(changes)
    return found


def adopt(
    store: Store,
    lock: Holder,
    found: list[Batch],
    now: datetime,
    blocked: Collection[str] = frozenset(),
) -> list[Batch]:
    """Runs a previous pass left behind that this pass follows (those it could claim).
    A ``blocked`` pipeline's are left in flight, unclaimed: without its variable a poll
    could only fail them; a later pass with the variable set follows them."""
    follow = [b for b in found if b.pipeline_id not in blocked]
    return retrying(lambda: store.adopt(lock, follow, now))


def conclude(
    store: Store,
    pipelines: Mapping[str, LoadedPipeline],
    planned: Planned,
    touched: set[str],
    events: PassEvents,
    outbox: Outbox,
    clock: Clock,
    report: ApplyReport,
) -> None:
    """What the outcomes led to, then finish sending (bounded by ``DRAIN_LIMIT``).

    After a pass whose runs ended, the pipelines it ``touched`` (started or ended a run
    of) and those with an SLA (whose deadlines may have passed meanwhile) are planned
    again: nothing changed for the others, whose part of the first plan stands.
    """
    if touched:
        again = {
            pid: p for pid, p in pipelines.items() if pid in touched or p.spec.sla_time is not None
        }
        every = list(pipelines.values())
        for more in (dependants_of, upstreams_of):
            again.update((p.id, p) for p in more(list(again.values()), every))
        with collector.paused():
            after = plan_now(store, again, clock.now())
        report.after = after_pass(planned.plan, after.plan, set(again))
        report.unplannable.update(after.unplannable)
        if events.plan_events or events.any_sla:

            def body(session: WriteSession) -> list[NotificationRow]:
                now = clock.now()
                events.note_plan(session, after.plan, after.observed, after.run_specs, now)
                return outbox.exchange(session)

            outbox.start(transact(store, body))
    deadline = time.monotonic() + DRAIN_LIMIT
    while not outbox.settled and time.monotonic() < deadline:
        outbox.wait(max(deadline - time.monotonic(), 0.0))
        if outbox.busy:
            break  # a receiver that hangs: the rest of the claim waits for the next pass
        outbox.start(transact(store, outbox.exchange))
