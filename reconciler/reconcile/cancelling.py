"""``reconciler cancel``: stop runs in flight through their platforms, and record them.

The runs are chosen from the state's batches in flight (by batch id or platform run id,
by request, or by pipeline). The cancels are recorded first (``cancel_requests``), then
each platform is asked, then the cancels are marked sent: a crash in between leaves a
recorded, unsent cancel that the next apply pass sends (``send_recorded``), so a run is
asked to stop once. The run is then polled for up to ``wait`` seconds, and a run that
has ended is recorded: ``canceled`` (never retried by policy) unless it succeeded first.
Recording is a no-op for a batch an apply pass recorded meanwhile, so this needs no
lock; a run still stopping is recorded by the next apply that polls it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reconciler.clock import Clock
from reconciler.config.loading import LoadedPipeline
from reconciler.config.run_values import rendered_parameters, run_values
from reconciler.core.batches import Batch, Outcome, batch_key
from reconciler.errors import ReconcilerError
from reconciler.platforms.base import Platform, PollResult, RunRequest
from reconciler.platforms.registry import build_platforms
from reconciler.state.sessions import Finished
from reconciler.state.store import Store, open_store

POLL_EVERY = 0.25  # seconds between looks at runs that are stopping


class NothingToCancel(ReconcilerError):
    """The id names no run in flight (unknown, ended, or cancelled already)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """What to cancel: a run, a request (of one pipeline, if named too) or a pipeline."""

    run_id: str | None = None
    request_id: str | None = None
    pipeline_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancelled:
    """One batch: how it ended (None: still stopping), or why it could not be cancelled."""

    batch: Batch
    outcome: Outcome | None = None
    refused: str | None = None
    recorded: bool = False  # its outcome was written now (not by a pass before)


def choose(in_flight: Sequence[Batch], target: Target, known: set[str]) -> list[Batch]:
    """The batches ``target`` names; ``NothingToCancel`` with a one-line reason if none."""
    if target.run_id is not None:
        rid = target.run_id
        chosen = [b for b in in_flight if rid in (b.batch_id, b.platform_run_id)]
        if not chosen:
            raise NothingToCancel(
                f"no run {rid!r} in flight (unknown, ended, or cancelled already: "
                "`reconciler history PIPELINE` lists its runs)"
            )
        return chosen
    if target.request_id is not None:
        chosen = [
            b
            for b in in_flight
            if b.request_id == target.request_id and target.pipeline_id in (None, b.pipeline_id)
        ]
        if not chosen:
            raise NothingToCancel(
                f"request {target.request_id!r} has no run in flight (unknown, finished, or "
                "cancelled already)"
            )
        return chosen
    pid = target.pipeline_id
    chosen = [b for b in in_flight if b.pipeline_id == pid]
    if not chosen:
        if pid not in known:
            raise NothingToCancel(f"no pipeline with id {pid!r} in the config or in flight")
        raise NothingToCancel(f"pipeline {pid!r} has no run in flight (nothing to cancel)")
    return chosen


def request_for(batch: Batch, loaded: LoadedPipeline) -> RunRequest:
    """The batch as its platform was asked to start it (its values, its key)."""
    pipeline = loaded.model
    values = run_values(pipeline, batch.dates, batch.batch_id)
    return RunRequest(
        batch_id=batch.batch_id,
        key=batch_key(batch.pipeline_id, batch.dates, batch.request_id, batch.attempt),
        pipeline=pipeline,
        dates=batch.dates,
        attempt=batch.attempt,
        values=values,
        parameters=rendered_parameters(pipeline, values),
    )


def cancel_runs(
    loaded: Sequence[LoadedPipeline],
    state: str,
    target: Target,
    clock: Clock,
    *,
    wait: float,
    runs_dir: Path | None = None,
    platforms: Mapping[str, Platform] | None = None,
    by: str | None = None,
    reason: str | None = None,
) -> list[Cancelled]:
    """Cancel the runs ``target`` names, wait up to ``wait`` s for them, record the ended.

    ``by`` and ``reason`` are recorded with the cancels (who asked, and why)."""
    pipelines = {p.id: p for p in loaded}
    store = open_store(state)
    with store.write() as session:
        batches = choose(session.in_flight(), target, set(pipelines))
        session.record_cancels(batches, clock.now(), by, reason)
    offset = (clock.now() - datetime.now(UTC)).total_seconds()
    adapters = platforms if platforms is not None else build_platforms(state, offset, runs_dir)
    try:
        results = _cancel_and_follow(batches, pipelines, adapters, clock, wait, store)
        ended: list[Finished] = [(r.batch, r.outcome, {}) for r in results if r.outcome]
        recorded: set[str] = set()
        if ended:
            with store.write() as session:
                recorded = session.record_outcomes_live(ended)
    finally:
        if platforms is None:
            for adapter in adapters.values():
                adapter.close()
    return [
        Cancelled(
            batch=r.batch,
            outcome=r.outcome,
            refused=r.refused,
            recorded=r.batch.batch_id in recorded,
        )
        for r in results
    ]


def _cancel_and_follow(
    batches: Sequence[Batch],
    pipelines: Mapping[str, LoadedPipeline],
    platforms: Mapping[str, Platform],
    clock: Clock,
    wait: float,
    store: Store,
) -> list[Cancelled]:
    done, asked = _ask(batches, pipelines, platforms)
    with store.write() as session:  # asked: never asked again (a refused one is retried)
        session.cancels_sent([b.batch_id for b, _, _ in asked], clock.now())
    deadline = time.monotonic() + wait
    while asked:
        still: list[tuple[Batch, RunRequest, Platform]] = []
        for batch, run, platform in asked:
            answer = _poll(platform, run, batch)
            if answer.state in ("success", "failed"):
                done[batch.batch_id] = Cancelled(
                    batch=batch, outcome=_outcome(answer, batch, clock)
                )
            else:
                still.append((batch, run, platform))
        asked = still
        if not asked or time.monotonic() >= deadline:
            break
        time.sleep(min(POLL_EVERY, max(0.0, deadline - time.monotonic())))
    for batch, _run, _platform in asked:
        done[batch.batch_id] = Cancelled(batch=batch)
    return [done[b.batch_id] for b in batches]


def send_recorded(
    store: Store,
    pipelines: Mapping[str, LoadedPipeline],
    platforms: Mapping[str, Platform],
    now: datetime,
) -> list[str]:
    """Ask the platforms for the recorded cancels no platform was asked for yet (a cancel
    cut short by a crash, or one a removed request recorded); the pass that follows the
    runs records how they end (``canceled``). Returns a line to report per outcome."""
    with store.read() as session:
        unsent = {c.batch_id for c in session.unsent_cancels()}
        batches = [b for b in session.in_flight() if b.batch_id in unsent] if unsent else []
    if not batches:
        return []
    refused, asked = _ask(batches, pipelines, platforms)
    with store.write() as session:
        session.cancels_sent([b.batch_id for b, _, _ in asked], now)
    lines = [f"{b.batch_id} ({b.pipeline_id}): cancel sent" for b, _, _ in asked]
    lines += [f"{c.batch.batch_id} ({c.batch.pipeline_id}): {c.refused}" for c in refused.values()]
    return lines


def _ask(
    batches: Sequence[Batch],
    pipelines: Mapping[str, LoadedPipeline],
    platforms: Mapping[str, Platform],
) -> tuple[dict[str, Cancelled], list[tuple[Batch, RunRequest, Platform]]]:
    """Ask each batch's platform to cancel it: (refused by batch id, asked)."""
    done: dict[str, Cancelled] = {}
    asked: list[tuple[Batch, RunRequest, Platform]] = []
    for batch in batches:
        loaded = pipelines.get(batch.pipeline_id)
        platform = platforms.get(batch.platform or "")
        if loaded is None or platform is None:
            why = (
                f"its pipeline {batch.pipeline_id!r} is no longer configured"
                if loaded is None
                else f"platform {batch.platform!r} is not available here"
            )
            done[batch.batch_id] = Cancelled(batch=batch, refused=f"cannot cancel it: {why}")
            continue
        run = request_for(batch, loaded)
        try:
            platform.cancel(run, batch.platform_run_id)
        except (ReconcilerError, OSError) as exc:
            done[batch.batch_id] = Cancelled(batch=batch, refused=str(exc))
            continue
        asked.append((batch, run, platform))
    return done, asked


def _poll(platform: Platform, run: RunRequest, batch: Batch) -> PollResult:
    """Poll as apply does: a run this process never started is bound first (no call)."""
    answer = platform.poll(batch.batch_id, batch.platform_run_id)
    if answer.state == "not_started":
        platform.start(run)  # binds the recorded run id; idempotent in any case
        answer = platform.poll(batch.batch_id, batch.platform_run_id)
    return answer


def _outcome(answer: PollResult, batch: Batch, clock: Clock) -> Outcome:
    return Outcome(
        success=answer.state == "success",
        ended_at=answer.ended_at or clock.now(),
        error=answer.error,
        platform_run_id=batch.platform_run_id or batch.batch_id,
        # (a run that failed after we asked is a cancelled run: it is not retried)
        canceled=answer.state == "failed",
    )
