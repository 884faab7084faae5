"""The lifecycle of one batch in a pass: frozen states and pure transitions.

A batch the plan asks for is ``queued``; once its intent is committed to the state it
is ``recorded`` and may be started; a platform that accepted it makes it ``started``
until its run id and ``running`` status are written, then ``running``. A run its
platform reports successful is ``checking`` while its data-quality checks run (its
slot is free meanwhile); every batch ends ``ended`` with an ``Outcome`` that the pass
then writes. A batch found in flight by a later pass (``adopted``) enters as
``running``: it is followed, and started again only if its platform never saw it.

    queued -> recorded -> started -> running -> [checking] -> ended
                  adopted ----------^   (a restart: running -> started)

Nothing here does I/O or reads a clock: the executor (``reconcile/executor.py``) calls
the platforms and feeds what they answered into ``after_poll``, which says what to do.
docs/architecture.md draws the whole pass.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from reconciler.core.batches import Batch, Outcome, RunIntent
from reconciler.core.check_results import CheckResult

Phase = Literal["queued", "recorded", "started", "running", "checking", "ended"]
PollState = Literal["not_started", "running", "success", "failed"]

FOLLOWED: frozenset[Phase] = frozenset({"started", "running"})  # hold a slot, polled


class LifecycleError(RuntimeError):
    """A transition the lifecycle does not allow: a bug in the executor, never user input."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchState:
    """One batch of the pass: what the state knows of it (``batch``) and its phase."""

    batch: Batch
    phase: Phase
    adopted: bool = False
    outcome: Outcome | None = None  # once ended
    checks: tuple[CheckResult, ...] = ()  # the checks that decided a checked outcome

    @property
    def batch_id(self) -> str:
        return self.batch.batch_id

    @property
    def pipeline_id(self) -> str:
        return self.batch.pipeline_id

    @property
    def followed(self) -> bool:
        """Whether the batch holds a slot and its platform is asked how it is doing."""
        return self.phase in FOLLOWED

    @property
    def unmarked(self) -> bool:
        """Started by this pass, but its run id and ``running`` status are not written."""
        return self.phase == "started"


def _require(state: BatchState, allowed: frozenset[Phase] | set[Phase], to: str) -> None:
    if state.phase not in allowed:
        raise LifecycleError(f"batch {state.batch_id}: cannot go from {state.phase} to {to}")


def queued(intent: RunIntent) -> BatchState:
    """A batch the plan asks for, not written yet."""
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
    return BatchState(batch=batch, phase="queued")


def adopted(batch: Batch) -> BatchState:
    """A batch an earlier pass left in flight (``pending`` or ``running`` in the state)."""
    return BatchState(batch=batch, phase="running", adopted=True)


def recorded(state: BatchState) -> BatchState:
    """Its intent is committed: it may be started from now on, and only from now on."""
    _require(state, {"queued"}, "recorded")
    return dataclasses.replace(state, phase="recorded")


def started(state: BatchState, run_id: str | None, at: datetime) -> BatchState:
    """Its platform accepted it (a restart of a followed batch too); ``run_id`` may be
    ``None`` when the platform could not confirm one (it is found by polling)."""
    _require(state, {"recorded", "running", "started"}, "started")
    batch = dataclasses.replace(
        state.batch, platform_run_id=run_id, started_at=state.batch.started_at or at
    )
    return dataclasses.replace(state, batch=batch, phase="started")


def marked(state: BatchState) -> BatchState:
    """Its run id and ``running`` status are written."""
    _require(state, {"started"}, "running")
    return dataclasses.replace(
        state, batch=dataclasses.replace(state.batch, status="running"), phase="running"
    )


def checking(state: BatchState) -> BatchState:
    """Its platform reported success; its checks decide the outcome (its slot is free)."""
    _require(state, FOLLOWED, "checking")
    return dataclasses.replace(state, phase="checking")


def ended(state: BatchState, outcome: Outcome, checks: tuple[CheckResult, ...] = ()) -> BatchState:
    """How it ended, to be written (with ``checks`` when they decided it)."""
    _require(state, {"recorded", "started", "running", "checking"}, "ended")
    return dataclasses.replace(state, phase="ended", outcome=outcome, checks=checks)


# --- what a poll means ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Follow:
    """Still running: ask again later."""


@dataclass(frozen=True, slots=True)
class Restart:
    """Its platform never saw it (a crash between writing and starting): start it again;
    platforms make a repeated start of a batch a no-op, so this is never a second run."""


@dataclass(frozen=True, slots=True)
class Check:
    """It succeeded on its platform; its checks run before the outcome is known."""

    ended_at: datetime
    run_id: str


@dataclass(frozen=True, slots=True)
class End:
    outcome: Outcome


Step = Follow | Restart | Check | End


def unfollowable(now: datetime) -> End:
    """A batch recorded in flight without a platform (a state from an old version)."""
    error = "recorded in flight without a platform (older state): cannot be followed"
    return End(Outcome(success=False, ended_at=now, error=error))


def not_started(error: str, now: datetime) -> End:
    """Its platform refused to start it: a failed attempt, retried by policy."""
    return End(Outcome(success=False, ended_at=now, error=f"not started: {error}"))


def after_poll(
    state: BatchState,
    answer: PollState,
    *,
    ended_at: datetime | None,
    error: str | None,
    now: datetime,
    pipeline_known: bool,
    has_checks: bool,
) -> Step:
    """What to do with a followed batch, given its platform's answer."""
    _require(state, FOLLOWED, "polled")
    batch = state.batch
    if answer == "running":
        return Follow()
    if answer == "not_started":
        if pipeline_known:
            return Restart()
        why = (
            "the pipeline was deleted before its run started"
            if batch.platform_run_id is None
            else "the pipeline was deleted while its run was in flight; no longer followed"
        )
        return End(Outcome(success=False, ended_at=now, error=why))
    end = ended_at or now
    run_id = batch.platform_run_id or batch.batch_id
    if answer == "success" and has_checks:
        return Check(ended_at=end, run_id=run_id)
    return End(
        Outcome(success=answer == "success", ended_at=end, error=error, platform_run_id=run_id)
    )
