"""Starting a plan's runs: the plan's events recorded (``prepare``), the executor run over
its intents (``execute``), and with ``apply --wait`` and dependencies the rounds that
follow as runs end (``cascade``). The steps of ``apply_pass`` that start anything."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from threading import Event

from reconciler.clock import Clock
from reconciler.config.loading import LoadedPipeline
from reconciler.core.batches import Batch
from reconciler.notify.outbox import Outbox
from reconciler.platforms.base import Platform
from reconciler.reconcile.executor import Executor, Limits, Progress, Tally
from reconciler.reconcile.intents import PassIntents, pass_intents
from reconciler.reconcile.pass_events import PassEvents
from reconciler.reconcile.pass_ledger import PassLedger, transact
from reconciler.reconcile.pass_plan import Planned, plan_now
from reconciler.reconcile.pass_report import ApplyReport
from reconciler.reconcile.pipeline_graph import dependants_of, upstreams_of
from reconciler.state.notification_rows import NotificationRow
from reconciler.state.sessions import WriteSession
from reconciler.state.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyOptions:
    wait: bool = False
    max_parallel: int = 8
    allow_empty: bool = False
    runs_dir: Path | None = None  # local runs' directory (None: the default for the state)
    # set on ^C (or SIGTERM): the executor stops between two steps, with its writes done
    interrupted: Event | None = None


def prepare(
    store: Store,
    planned: Planned,
    events: PassEvents,
    outbox: Outbox,
    now: datetime,
) -> None:
    """SLA breaches recorded, plan events noted; notifications left over from earlier
    passes are sent from here on. (The pass's backfills are queued as the executor reads
    them, a chunk at a time: a backlog of millions of dates is never written up front.)"""

    def body(session: WriteSession) -> list[NotificationRow]:
        outbox.recover(session)
        events.note_plan(session, planned.plan, planned.observed, planned.run_specs, now)
        return outbox.exchange(session)

    outbox.start(transact(store, body))


def execute(
    pipelines: Mapping[str, LoadedPipeline],
    platforms: Mapping[str, Platform],
    ledger: PassLedger,
    clock: Clock,
    options: ApplyOptions,
    progress: Progress | None,
    intents: PassIntents,
    adopted: Sequence[Batch],
) -> Tally:
    """The executor starts the intents and follows them and the adopted batches; once
    their outcomes are recorded, each platform is told which batches are still in flight."""
    limits = Limits(
        max_parallel=options.max_parallel,
        max_active={pid: p.spec.max_active_runs for pid, p in pipelines.items()},
        wait=options.wait,
    )
    executor = Executor(
        pipelines=pipelines,
        platforms=platforms,
        ledger=ledger,
        clock=clock,
        limits=limits,
        progress=progress,
        interrupted=options.interrupted,
    )
    try:
        tally = executor.run(intents.stream, adopted, intents.total)
    finally:
        executor.close()
    for platform in platforms.values():
        platform.after_pass(executor.in_flight())
    return tally


def cascade(
    store: Store,
    pipelines: Mapping[str, LoadedPipeline],
    platforms: dict[str, Platform],
    ledger: PassLedger,
    events: PassEvents,
    outbox: Outbox,
    options: ApplyOptions,
    tally: Tally,
    progress: Progress | None = None,
    blocked: Collection[str] = frozenset(),
) -> Tally:
    """``apply --wait`` with dependencies: while runs end, plan again and start what their
    outcomes made ready (a date whose inputs just finished, a refresh of what they made
    outdated, a retry due at once), until a round starts nothing. A round plans the
    pipelines whose runs ended in the last round and their dependants (with their
    upstreams, whose dates they read): the others' actions were all started by the rounds
    before. Every start goes through the same intents, ledger and limits, and a round's
    intents are read as it starts them, never listed up front."""
    total = tally
    every = list(pipelines.values())
    while tally.succeeded:
        now = ledger.clock.now()
        again = _round_pipelines(tally.ended_pipelines, pipelines, every)
        planned = plan_now(store, again, now)
        intents = pass_intents(planned.plan, again, platforms, ApplyReport(), blocked)
        if not intents.total:
            break
        prepare(store, planned, events, outbox, now)
        ledger.observed = planned.observed
        tally = execute(pipelines, platforms, ledger, ledger.clock, options, progress, intents, [])
        total = total.plus(tally)
        if not tally.started:
            break  # (every intent was already in the log: nothing new can follow)
    return total


def _round_pipelines(
    ended: Collection[str], pipelines: Mapping[str, LoadedPipeline], every: list[LoadedPipeline]
) -> dict[str, LoadedPipeline]:
    """The pipelines a cascade round plans: those whose runs ended, their dependants, and
    the upstreams of both (readiness reads what an upstream makes available)."""
    chosen = {pid: pipelines[pid] for pid in ended if pid in pipelines}
    for more in (dependants_of, upstreams_of):
        chosen.update((p.id, p) for p in more(list(chosen.values()), every))
    return chosen
