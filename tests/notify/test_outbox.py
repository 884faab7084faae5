"""The outbox over a real state file: dedupe, backoff, giving up, and at least once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from notify_helpers import NOW

from reconciler.clock import FixedClock
from reconciler.config.models import PIPELINE_ADAPTER, AnyPipeline
from reconciler.config.specs import to_spec
from reconciler.notify import failed
from reconciler.notify.dispatch import Delivery
from reconciler.notify.events import notes
from reconciler.notify.messages import Message
from reconciler.notify.outbox import BACKOFF_FIRST, LINGER, MAX_ATTEMPTS, Outbox
from reconciler.state.notification_rows import INTERRUPTED
from reconciler.state.store import open_store

PIPELINE: AnyPipeline = PIPELINE_ADAPTER.validate_python(
    {
        "id": "p",
        "platform": "local",
        "trigger": {"command": ["true"]},
        "schedule": {"type": "daily", "start": "2026-01-01"},
        "notifications": [{"channel": "stdout"}],
    }
)


class Receiver:
    """A fake ``deliver``: answers from a script, records the messages."""

    def __init__(self) -> None:
        self.answers: list[tuple[str, str | None, float | None]] = []
        self.messages: list[Message] = []

    def __call__(
        self, messages: Sequence[Message], configs: Mapping[Any, Any], env: Any, now: Any
    ) -> list[Delivery]:
        self.messages += messages
        outcome, error, after = self.answers.pop(0) if self.answers else ("sent", None, None)
        return [
            Delivery(message=m, outcome=outcome, error=error, retry_after=after, text="line")  # type: ignore[arg-type]
            for m in messages
        ]


@pytest.fixture
def state(tmp_path: Path) -> str:
    return str(tmp_path / "state.duckdb")


def outbox(clock: FixedClock, receiver: Receiver, state: str) -> Outbox:
    return Outbox(
        {"p": PIPELINE}, {"p": to_spec(PIPELINE)}, clock, {}, receiver, store=open_store(state)
    )


def cycle(state: str, box: Outbox, *, final: bool = True) -> int:
    """A pass's exchange and a finished send; returns how many rows were claimed."""
    box.maybe_due = True  # as at the start of every pass
    with open_store(state).write() as session:
        claimed = box.exchange(session, final=final)
    box.start(claimed)
    box.wait()
    with open_store(state).write() as session:
        box.exchange(session, final=False)  # records the results, claims nothing young
    return len(claimed)


def record(state: str, box: Outbox, days: int = 3) -> None:
    items = [
        n for d in range(1, days + 1)
        for n in notes(PIPELINE, "failure", f"run-{d}", run_date=date(2026, 1, d))
    ]  # fmt: skip
    with open_store(state).write() as session:
        box.record(session, items)
        box.record(session, items)  # the same events again: nothing new


def rows(state: str) -> list[tuple[Any, ...]]:
    with open_store(state).write() as session:
        return session.conn.execute(
            "SELECT notification_status, attempts, last_error FROM pipeline_notifications"
        ).fetchall()


def test_recorded_once_and_sent_once_as_one_message(state: str) -> None:
    clock, receiver = FixedClock(NOW), Receiver()
    box = outbox(clock, receiver, state)
    record(state, box)
    assert cycle(state, box) == 3
    assert len(receiver.messages) == 1 and len(receiver.messages[0].rows) == 3
    assert rows(state) == [("sent", 1, None)] * 3
    assert box.lines == ["line"]
    record(state, box)
    assert cycle(state, box) == 0


def test_transient_failures_back_off_then_give_up(state: str) -> None:
    clock, receiver = FixedClock(NOW), Receiver()
    box = outbox(clock, receiver, state)
    record(state, box, days=1)
    receiver.answers = [("pending", "HTTP 503", None)] * MAX_ATTEMPTS
    assert cycle(state, box) == 1
    assert rows(state) == [("pending", 1, "HTTP 503")]
    clock.advance(BACKOFF_FIRST - 1)
    assert cycle(state, box) == 0  # not yet
    clock.advance(1)
    assert cycle(state, box) == 1  # a minute after the first try
    clock.advance(2 * BACKOFF_FIRST - 1)
    assert cycle(state, box) == 0  # the second wait is twice as long
    for _ in range(MAX_ATTEMPTS - 2):
        clock.advance(3600)
        assert cycle(state, box) == 1
    assert rows(state) == [
        ("failed", MAX_ATTEMPTS, f"gave up after {MAX_ATTEMPTS} attempts: HTTP 503")
    ]
    clock.advance(7200)
    assert cycle(state, box) == 0


def test_retry_after_is_honoured(state: str) -> None:
    clock, receiver = FixedClock(NOW), Receiver()
    box = outbox(clock, receiver, state)
    record(state, box, days=1)
    receiver.answers = [("pending", "HTTP 429", 600.0)]
    cycle(state, box)
    clock.advance(599)
    assert cycle(state, box) == 0
    clock.advance(1)
    assert cycle(state, box) == 1


def test_a_claim_left_by_a_dead_pass_is_sent_by_the_next(state: str) -> None:
    clock, receiver = FixedClock(NOW), Receiver()
    box = outbox(clock, receiver, state)
    record(state, box, days=2)
    with open_store(state).write() as session:
        assert len(box.exchange(session)) == 2  # claimed, then the pass "dies" before sending
    assert rows(state) == [("pending", 0, None)] * 2
    later = outbox(clock, receiver, state)
    with open_store(state).write() as session:
        later.recover(session)
    assert rows(state) == [("pending", 0, INTERRUPTED)] * 2
    assert cycle(state, later) == 2
    assert rows(state) == [("sent", 1, None)] * 2
    assert len(receiver.messages) == 1


def test_each_result_is_committed_before_the_next_message_is_sent(state: str) -> None:
    clock = FixedClock(NOW)
    other = PIPELINE.model_copy(update={"id": "q"})
    seen: list[list[tuple[Any, ...]]] = []

    def send(messages: Sequence[Message], *_: Any) -> Any:
        for m in messages:
            seen.append(rows(state))  # what a kill -9 at this point would leave
            yield Delivery(message=m, outcome="sent", text="line")

    box = Outbox({"p": PIPELINE, "q": other}, {"p": to_spec(PIPELINE), "q": to_spec(other)},
                 clock, {}, send, store=open_store(state))  # fmt: skip
    items = [*notes(PIPELINE, "failure", "r1", run_date=date(2026, 1, 1)),
             *notes(other, "failure", "r2", run_date=date(2026, 1, 1))]  # fmt: skip
    with open_store(state).write() as session:
        box.record(session, items)
    assert cycle(state, box) == 2
    assert [sorted(s[0] for s in snapshot) for snapshot in seen] == [
        ["pending", "pending"], ["pending", "sent"],
    ]  # fmt: skip
    assert sorted(rows(state)) == [("sent", 1, None)] * 2


def test_rows_not_tried_when_the_pass_ends_stay_pending(state: str) -> None:
    clock = FixedClock(NOW)
    other = PIPELINE.model_copy(update={"id": "q"})
    box: Outbox

    def send(messages: Sequence[Message], *_: Any) -> Any:
        for m in messages:
            box._stop.set()  # the pass ends while the first message is out
            yield Delivery(message=m, outcome="sent", text="line")

    box = Outbox({"p": PIPELINE, "q": other}, {"p": to_spec(PIPELINE), "q": to_spec(other)},
                 clock, {}, send, store=open_store(state))  # fmt: skip
    items = [*notes(PIPELINE, "failure", "r1", run_date=date(2026, 1, 1)),
             *notes(other, "failure", "r2", run_date=date(2026, 1, 1))]  # fmt: skip
    with open_store(state).write() as session:
        box.record(session, items)
    cycle(state, box)
    box.close()
    with open_store(state).write() as session:
        left = session.conn.execute("SELECT notification_status, attempts, claimed_at IS NULL "
                            "FROM pipeline_notifications ORDER BY 1").fetchall()  # fmt: skip
    assert left == [("pending", 0, True), ("sent", 1, True)]


def test_mid_pass_rows_wait_for_their_burst(state: str) -> None:
    clock, receiver = FixedClock(NOW), Receiver()
    box = outbox(clock, receiver, state)
    record(state, box, days=1)
    assert cycle(state, box, final=False) == 0  # too young
    clock.advance(LINGER)
    box._last_claim = float("-inf")  # (claims are also spaced in real time)
    assert cycle(state, box, final=False) == 1


def test_failed_rows_are_listed_for_status(state: str) -> None:
    clock, receiver = FixedClock(NOW), Receiver()
    box = outbox(clock, receiver, state)
    record(state, box, days=1)
    receiver.answers = [("failed", "HTTP 403 invalid_token", None)]
    cycle(state, box)
    with open_store(state).write() as session:
        (row,) = session.notifications("failed")
    assert (row.pipeline_id, row.event, row.channel, row.last_error) == (
        "p", "failure", "stdout", "HTTP 403 invalid_token",
    )  # fmt: skip
    assert box.lines == ["[failure] p: 1 date failed and will not be retried -> stdout: NOT SENT "
                         "(HTTP 403 invalid_token); will not retry"]  # fmt: skip
    with open_store(state).read() as session:
        listed = session.notifications("failed", ["p"])
    assert failed.as_text(listed) == [
        "1 notification(s) could not be sent:",
        "  p [failure] -> stdout: 2026-01-01: HTTP 403 invalid_token",
    ]
    assert failed.as_json(listed)[0]["error"] == "HTTP 403 invalid_token"
    with open_store(state + ".missing").read() as session:
        assert session.notifications("failed", ["p"]) == []
