"""A run its platform reports cancelled ends with ``Outcome.canceled``; other failures do not."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from reconciler.clock import SystemClock
from reconciler.core.batches import Batch
from reconciler.platforms.base import PollResult, RunRequest, StartResult
from reconciler.reconcile.executor import Changes, Executor, Limits

ENDED = datetime(2026, 1, 6, 3, 0, tzinfo=UTC)


class Answering:
    """A platform whose every run has ended as ``result`` says."""

    def __init__(self, result: PollResult) -> None:
        self.result = result

    def start(self, run: RunRequest) -> StartResult:
        raise AssertionError("an ended run is never started")

    def poll(self, batch_id: str, platform_run_id: str | None) -> PollResult:
        return self.result

    def cancel(self, run: RunRequest, platform_run_id: str | None) -> None: ...

    def wait(self, timeout: float) -> None: ...

    def close(self) -> None: ...

    def recorded(self, session: object, batch_ids: Sequence[str], now: datetime) -> None: ...

    def after_pass(self, in_flight: set[str]) -> None: ...


class Writes:
    def __init__(self) -> None:
        self.changes: list[Changes] = []

    def write(self, changes: Changes) -> set[str]:
        self.changes.append(changes)
        return set()

    def renewal_due(self) -> bool:
        return False


@pytest.mark.parametrize(
    ("result", "canceled"),
    [
        (PollResult("failed", ENDED, "cancelled (exit code -15)", canceled=True), True),
        (PollResult("failed", ENDED, "exit code 2"), False),
        (PollResult("success", ENDED, canceled=True), False),  # (a success is a success)
    ],
)
def test_the_outcome_says_whether_the_run_was_cancelled(result: PollResult, canceled: bool) -> None:
    batch = Batch(
        batch_id="b1",
        pipeline_id="p",
        dates=(date(2026, 1, 5),),
        status="running",
        attempt=1,
        kind="run",
        request_id=None,
        platform="fake",
        platform_run_id="r1",
        started_at=ENDED,
    )
    writes = Writes()
    executor = Executor(
        pipelines={},
        platforms={"fake": Answering(result)},
        ledger=writes,
        clock=SystemClock(),
        limits=Limits(max_parallel=1, max_active={"p": 1}, wait=True),
    )
    executor.run([], [batch])
    (ended,) = [s for c in writes.changes for s in c.ended]
    assert ended.outcome is not None
    assert ended.outcome.success == (result.state == "success")
    assert ended.outcome.canceled is canceled
    assert ended.outcome.error == result.error
