"""Checks of finished runs, in worker threads, while the pass goes on starting others.

A run whose platform says ``success`` is not an outcome yet: its checks run first,
and the outcome that follows is a success only when no ``on_fail: fail`` check
failed. Its end time is when its checks finished (the date is covered from then).
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from reconciler.clock import Clock
from reconciler.core.batches import Batch, Outcome
from reconciler.core.check_results import CheckResult

if TYPE_CHECKING:
    from reconciler.config.models import AnyPipeline

WORKERS = 4


@dataclass(frozen=True, slots=True)
class Checked:
    """A run whose checks are done: its outcome and every check's result."""

    batch: Batch
    outcome: Outcome
    results: list[CheckResult]


def outcome_of(
    results: list[CheckResult], ended_at: datetime, platform_run_id: str | None
) -> Outcome:
    failing = [r for r in results if r.fails_run]
    if not failing:
        return Outcome(success=True, ended_at=ended_at, error=None, platform_run_id=platform_run_id)
    error = "; ".join(f"quality check {r.summary()}" for r in failing)
    return Outcome(success=False, ended_at=ended_at, error=error, platform_run_id=platform_run_id)


class Checker:
    """Runs the checks of successful runs; ``finished`` hands back those that are done."""

    def __init__(self, clock: Clock, workers: int = WORKERS) -> None:
        self.clock = clock
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[str, tuple[Batch, datetime, str | None, Future[list[CheckResult]]]] = {}
        self._pipelines: dict[str, AnyPipeline] = {}

    def begin(
        self, pipeline: AnyPipeline, batch: Batch, ended_at: datetime, run_id: str | None
    ) -> None:
        from reconciler.quality.runner import run_checks  # (its engines load on first use)

        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="checks")
        self._pipelines[batch.batch_id] = pipeline
        future = self._pool.submit(run_checks, pipeline, batch.dates, batch.batch_id)
        self._pending[batch.batch_id] = (batch, ended_at, run_id, future)

    def finished(self) -> list[Checked]:
        out: list[Checked] = []
        for batch_id, (batch, ended_at, run_id, future) in list(self._pending.items()):
            if not future.done():
                continue
            del self._pending[batch_id]
            pipeline = self._pipelines.pop(batch_id)
            try:
                results = future.result()
            except Exception as exc:  # an engine bug: every check failed, the pass goes on
                error = f"internal error: {type(exc).__name__}: {exc}"
                results = [
                    CheckResult(
                        name=c.name,
                        engine=c.engine,
                        on_fail=c.on_fail,
                        passed=False,
                        details=error,
                        could_run=False,
                    )
                    for c in pipeline.quality.checks
                ]
            end = max(ended_at, self.clock.now())
            out.append(Checked(batch, outcome_of(results, end, run_id), results))
        return out

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, batch_id: object) -> bool:
        return batch_id in self._pending

    def wait(self, timeout: float) -> None:
        """Until a check finishes, at most ``timeout`` seconds."""
        futures = [entry[3] for entry in self._pending.values()]
        if futures:
            wait_for(futures, timeout=timeout, return_when=FIRST_COMPLETED)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
