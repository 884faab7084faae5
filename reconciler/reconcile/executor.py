"""The executor: moves the pass's batches through their lifecycle and calls the platforms.

It starts the plan's intents as slots free up and follows runs until they end (to the
end of every run with ``--wait``). What it decides is in ``core/lifecycle.py`` (the
phases and what a platform's answer means) and ``core/scheduling.py`` (which intent
goes next); what it writes goes through the pass's ``Ledger``, so the executor knows
no store and no notification.

Intents are written (``recorded``) a few slots ahead, in one transaction with whatever
was learnt since the last one (runs started, runs ended); a batch is only ever started
once its intent is committed. A slot that frees up is filled at once, without waiting
for the state, and one transaction carries many runs (at most ``WRITE_INTERVAL`` late).
The intents are read from the plan as they are needed, a chunk at a time, never all
at once (``core/intake.py``): a pass over millions of dates starts as fast as a small
one and keeps its memory flat; the backfills read ahead are queued in the same writes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from threading import Event
from typing import TYPE_CHECKING, Protocol

from reconciler.clock import Clock
from reconciler.config.run_values import rendered_parameters, run_values
from reconciler.core import lifecycle, scheduling
from reconciler.core.batches import Batch, RunIntent, batch_key
from reconciler.core.intake import Intake
from reconciler.core.lifecycle import BatchState
from reconciler.core.scheduling import Slotted
from reconciler.errors import ReconcilerError
from reconciler.platforms.base import Platform, RunRequest
from reconciler.quality.checking import Checker
from reconciler.reconcile import pass_log

if TYPE_CHECKING:
    from reconciler.config.loading import LoadedPipeline

POLL_MIN = 0.05
POLL_INTERVAL = 0.25  # the longest the executor idles before looking at its runs again
AHEAD = 8  # intents written ahead of the free slots, per slot
WRITE_INTERVAL = 0.25  # the longest run outcomes wait to be written while slots are busy


@dataclass(frozen=True, slots=True, kw_only=True)
class Changes:
    """What one write of the pass carries, all in one transaction."""

    started: tuple[Batch, ...]  # their platform run ids and ``running`` status
    ended: tuple[BatchState, ...]  # their outcomes (and the checks that decided them)
    intents: tuple[RunIntent, ...]  # to be recorded before they may start
    following: tuple[str, ...]  # the batches this pass follows (its claims)
    queued: tuple[RunIntent, ...] = ()  # read from the plan ahead of their start (queued)


class Ledger(Protocol):
    """Where the executor's changes go: the pass writes them (and what they mean)."""

    def write(self, changes: Changes) -> set[str]:
        """Commit ``changes``; returns the ids of the intents recorded by this write."""
        ...

    def renewal_due(self) -> bool:
        """Whether the pass's lease must be renewed (a write does it)."""
        ...


@dataclass(slots=True, kw_only=True)
class Tally:
    """Counts of what the executor did, for progress and the closing summary."""

    started: int = 0
    started_dates: int = 0
    succeeded: int = 0
    failed: int = 0
    still_running: int = 0
    ended_pipelines: set[str] = field(default_factory=set)  # whose outcomes were written
    started_pipelines: set[str] = field(default_factory=set)  # with a batch started

    def plus(self, later: Tally) -> Tally:
        """This round's counts and a later round's, as one pass's."""
        return Tally(
            started=self.started + later.started,
            started_dates=self.started_dates + later.started_dates,
            succeeded=self.succeeded + later.succeeded,
            failed=self.failed + later.failed,
            still_running=later.still_running,
            ended_pipelines=self.ended_pipelines | later.ended_pipelines,
            started_pipelines=self.started_pipelines | later.started_pipelines,
        )


Progress = Callable[[Tally, int], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    max_parallel: int
    max_active: Mapping[str, int]  # per pipeline
    wait: bool


class Executor:
    """Carries the batches of one pass; ``run`` returns when nothing is left to start
    (and, with ``wait``, nothing left to follow)."""

    def __init__(
        self,
        *,
        pipelines: Mapping[str, LoadedPipeline],
        platforms: Mapping[str, Platform],
        ledger: Ledger,
        clock: Clock,
        limits: Limits,
        progress: Progress | None = None,
        interrupted: Event | None = None,
    ) -> None:
        self.pipelines = pipelines
        self.interrupted = interrupted
        self.platforms = platforms
        self.ledger = ledger
        self.clock = clock
        self.limits = limits
        self.progress = progress
        self.checker = Checker(clock)
        self.tally = Tally()
        self.batches: dict[str, BatchState] = {}  # the pass's batches until written ended

    def close(self) -> None:
        self.checker.close()

    # --- the loop -----------------------------------------------------------------

    def run(
        self, intents: Iterable[RunIntent], adopted: Sequence[Batch], total: int | None = None
    ) -> Tally:
        """Start ``intents`` (read lazily, in start order, a chunk at a time: see
        ``core/intake.py``) and follow them and the ``adopted`` batches; ``total``: how
        many intents there are, for progress."""
        for batch in adopted:
            self.batches[batch.batch_id] = lifecycle.adopted(batch)
        intake: Intake[RunIntent] = Intake(intents)
        count = total if total is not None else 0
        ahead = max(AHEAD * self.limits.max_parallel, 16)
        last_write = 0.0
        while True:
            if self.interrupted is not None and self.interrupted.is_set():
                raise KeyboardInterrupt  # (between two steps: every write is committed)
            ended = self._poll()
            started = self._start_free()
            self._write_chosen_run_ids()
            refill = not intake.empty and self._count("recorded") < self.limits.max_parallel
            due = time.monotonic() - last_write >= WRITE_INTERVAL
            if refill or self.ledger.renewal_due() or (self._unwritten() and due):
                taken = self._take(intake, ahead)
                self._write(taken, intake.drain_read())
                last_write = time.monotonic()
                started += self._start_free()
                self._write_chosen_run_ids()
            if self.progress and (ended or started):
                self.progress(self.tally, count)
            if intake.empty and not self._busy():
                break
            if not ended and not started:
                self._idle()
        if self._unwritten():
            self._write([])
        self.tally.still_running = sum(1 for s in self.batches.values() if s.followed)
        return self.tally

    def in_flight(self) -> set[str]:
        """The batches not written as ended (followed, checked, or recorded and not
        started): their run files must stay."""
        return {s.batch_id for s in self.batches.values() if s.phase != "ended"}

    def _busy(self) -> bool:
        """Whether the loop must go on: intents recorded but not started, checks running,
        or (with ``wait``) runs this pass can follow."""
        for state in self.batches.values():
            if state.phase in ("recorded", "checking"):
                return True
            if self.limits.wait and state.followed and state.batch.platform in self.platforms:
                return True
        return False

    def _count(self, phase: lifecycle.Phase) -> int:
        return sum(1 for s in self.batches.values() if s.phase == phase)

    def _in(self, *phases: lifecycle.Phase) -> Iterator[BatchState]:
        return (s for s in self.batches.values() if s.phase in phases)

    def _unwritten(self) -> bool:
        return any(s.phase == "ended" or s.unmarked for s in self.batches.values())

    # --- scheduling -----------------------------------------------------------------

    def _take(self, intake: Intake[RunIntent], ahead: int) -> list[RunIntent]:
        """The next intents in plan order (``AHEAD`` times ``max_active_runs`` a pipeline)."""
        pool: list[Slotted] = list(self._in("recorded"))
        followed = [s for s in self.batches.values() if s.followed]
        max_active = self.limits.max_active
        return intake.take(pool, followed, ahead, lambda pid: AHEAD * max_active[pid])

    def _start_free(self) -> int:
        """Start, in plan order, the recorded batches that fit the free slots."""
        pool = list(self._in("recorded"))
        if not pool:
            return 0
        followed = [s for s in self.batches.values() if s.followed]
        max_active = self.limits.max_active
        chosen = scheduling.fit(
            pool, followed, self.limits.max_parallel, lambda pid: max_active[pid]
        )
        for state in chosen:
            self.tally.started += 1
            self.tally.started_dates += len(state.batch.dates)
            self.tally.started_pipelines.add(state.pipeline_id)
            self._start(state)
        return len(chosen)

    # --- platforms ------------------------------------------------------------------

    def _start(self, state: BatchState) -> None:
        """Hand a batch to its platform; a refusal ends it as a failed attempt."""
        batch = state.batch
        pipeline = self.pipelines[batch.pipeline_id].model  # (validated on first use)
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
        at = self.clock.now()
        try:
            run_id = self.platforms[batch.platform].start(request).run_id
        except (ReconcilerError, OSError) as exc:
            step = lifecycle.not_started(str(exc), self.clock.now())
            self.batches[batch.batch_id] = lifecycle.ended(state, step.outcome)
            return
        self.batches[batch.batch_id] = lifecycle.started(state, run_id, at)
        pass_log.run_started(self.batches[batch.batch_id].batch)  # (an event for the logs)

    def _poll(self) -> int:
        """Ask the platforms about every followed batch; returns how many ended."""
        ended = 0
        now = self.clock.now()  # (one instant for the sweep: it stands in for unknown ends)
        for state in list(self._in("started", "running")):
            batch = state.batch
            canceled = False  # the platform says the run was stopped on request
            if batch.platform is None:
                step: lifecycle.Step = lifecycle.unfollowable(now)
            else:
                platform = self.platforms.get(batch.platform)
                if platform is None:
                    continue  # its platform is not available here: left to a later pass
                answer = platform.poll(batch.batch_id, batch.platform_run_id)
                canceled = answer.canceled
                loaded = self.pipelines.get(batch.pipeline_id)
                pipeline = loaded.model if loaded is not None else None
                step = lifecycle.after_poll(
                    state,
                    answer.state,
                    ended_at=answer.ended_at,
                    error=answer.error,
                    now=now,
                    pipeline_known=pipeline is not None,
                    has_checks=pipeline is not None and bool(pipeline.quality.checks),
                )
            match step:
                case lifecycle.Restart():
                    self._start(state)  # idempotent: never a second run
                    ended += self.batches[batch.batch_id].phase == "ended"
                case lifecycle.Check(ended_at=ended_at, run_id=run_id):
                    self.batches[batch.batch_id] = lifecycle.checking(state)
                    model = self.pipelines[batch.pipeline_id].model
                    self.checker.begin(model, batch, ended_at, run_id)
                case lifecycle.End(outcome=outcome):
                    if canceled and not outcome.success:
                        outcome = dataclasses.replace(outcome, canceled=True)
                    self.batches[batch.batch_id] = lifecycle.ended(state, outcome)
                    ended += 1
        for checked in self.checker.finished():
            batch_id = checked.batch.batch_id
            self.batches[batch_id] = lifecycle.ended(
                self.batches[batch_id], checked.outcome, tuple(checked.results)
            )
            ended += 1
        return ended

    def _idle(self) -> None:
        """Wait for a run to end, at most ``POLL_INTERVAL``."""
        platforms = {
            s.batch.platform
            for s in self.batches.values()
            if s.followed and s.batch.platform in self.platforms
        }
        if not platforms and self.checker:
            self.checker.wait(POLL_INTERVAL)
        elif len(platforms) == 1:
            self.platforms[platforms.pop()].wait(POLL_INTERVAL)
        else:
            time.sleep(POLL_INTERVAL if platforms else POLL_MIN)

    # --- writes ---------------------------------------------------------------------

    def _write_chosen_run_ids(self) -> None:
        """A run id the platform chose (not the batch id) is written before anything else:
        a crash must not lose the only way to find that run again."""
        unmarked = (s for s in self.batches.values() if s.unmarked)
        if any(s.batch.platform_run_id != s.batch_id for s in unmarked):
            self._write([])

    def _write(self, taken: Sequence[RunIntent], read: Sequence[RunIntent] = ()) -> None:
        ended = tuple(self._in("ended"))
        started = tuple(s.batch for s in self.batches.values() if s.unmarked)
        following = tuple(s.batch_id for s in self.batches.values() if s.followed)
        changes = Changes(
            started=started,
            ended=ended,
            intents=tuple(taken),
            following=following,
            queued=tuple(read),
        )
        written = self.ledger.write(changes)
        for state in ended:
            del self.batches[state.batch_id]
            self.tally.ended_pipelines.add(state.pipeline_id)
            outcome = state.outcome
            if outcome is not None and outcome.success:
                self.tally.succeeded += 1
            else:
                self.tally.failed += 1
        for batch in started:
            self.batches[batch.batch_id] = lifecycle.marked(self.batches[batch.batch_id])
        for intent in taken:
            if intent.batch_id in written:
                self.batches[intent.batch_id] = lifecycle.recorded(lifecycle.queued(intent))
