"""The outbox on PostgreSQL: a dead runner's claim resent after its lease, a live one renewed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from reconciler.clock import FixedClock
from reconciler.config.models import PIPELINE_ADAPTER, AnyPipeline
from reconciler.config.specs import to_spec
from reconciler.notify.dispatch import Delivery
from reconciler.notify.events import notes
from reconciler.notify.messages import Message
from reconciler.notify.outbox import Outbox
from reconciler.state.postgres import LEASE
from reconciler.state.store import open_store

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
PIPELINES: list[AnyPipeline] = [
    PIPELINE_ADAPTER.validate_python(
        {
            "id": pid,
            "platform": "local",
            "trigger": {"command": ["true"]},
            "schedule": {"type": "daily", "start": "2026-01-01"},
            "notifications": [{"channel": "stdout"}],
        }
    )
    for pid in ("p", "q", "r")
]


def _box(clock: FixedClock, send: Any, state: str) -> Outbox:
    return Outbox({p.id: p for p in PIPELINES}, {p.id: to_spec(p) for p in PIPELINES},
                  clock, {}, send, store=open_store(state))  # fmt: skip


def _statuses(state: str) -> list[str]:
    with open_store(state).write() as session:
        rows = session.conn.execute(
            "SELECT notification_status FROM pipeline_notifications ORDER BY pipeline_id"
        ).fetchall()
    return [r[0] for r in rows]


def _record(state: str, box: Outbox) -> None:
    items = [n for p in PIPELINES for n in notes(p, "failure", "r", run_date=date(2026, 1, 1))]
    with open_store(state).write() as session:
        box.record(session, items)


def _sends(log: list[str], each: Any = None) -> Any:
    def send(messages: Sequence[Message], *_: Any) -> Any:
        for m in messages:
            if each is not None:
                each()
            log.append(m.pipeline_id)
            yield Delivery(message=m, outcome="sent", text="line")

    return send


def test_a_dead_runners_claim_is_sent_by_another_after_its_lease(pg_url: str) -> None:
    clock, sent = FixedClock(NOW), []
    dead = _box(clock, _sends([]), pg_url)
    _record(pg_url, dead)
    with open_store(pg_url).write() as session:
        assert len(dead.exchange(session)) == 3  # claimed and committed, then the runner dies
    other = _box(clock, _sends(sent), pg_url)
    with open_store(pg_url).write() as session:
        other.recover(session)
        assert other.exchange(session) == []  # perhaps still sending: not yet
    clock.advance(LEASE.total_seconds() + 1)
    with open_store(pg_url).write() as session:
        other.recover(session)
        claimed = other.exchange(session)
    other.start(claimed)
    other.wait()
    other.close()
    assert sorted(sent) == ["p", "q", "r"]
    assert _statuses(pg_url) == ["sent"] * 3


def test_a_long_send_renews_its_claim_after_each_message(pg_url: str) -> None:
    clock, sent, stolen = FixedClock(NOW), [], []
    other = _box(clock, _sends([]), pg_url)

    def slow_receiver() -> None:
        clock.advance(LEASE.total_seconds() / 2)  # each message takes half a lease
        with open_store(
            pg_url
        ).write() as session:  # meanwhile another runner looks for dead claims
            other.recover(session)
            stolen.extend(other.exchange(session))

    box = _box(clock, _sends(sent, slow_receiver), pg_url)
    _record(pg_url, box)
    with open_store(pg_url).write() as session:
        claimed = box.exchange(session)
    box.start(claimed)
    box.wait()
    box.close()
    assert len(sent) == 3 and stolen == []  # three sends took 1.5 leases, nothing resent
    assert _statuses(pg_url) == ["sent"] * 3
