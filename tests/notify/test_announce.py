"""A pass's events as notifications: one per subscribed channel, keyed so that an event
is told once whatever the pass (docs/notifications.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from reconciler.clock import FixedClock
from reconciler.config.models import PIPELINE_ADAPTER, AnyPipeline
from reconciler.config.specs import to_spec
from reconciler.core.batches import Batch, Outcome
from reconciler.core.check_results import CheckResult
from reconciler.core.events import (
    DateOutOfRetries,
    RequestCompleted,
    RunEnded,
    SlaBreached,
)
from reconciler.core.spec import BackfillRequest
from reconciler.notify.announce import Announcer
from reconciler.notify.events import notifications
from reconciler.notify.outbox import Outbox
from reconciler.state.store import open_store

NOW = datetime(2024, 1, 11, 7, 0, tzinfo=UTC)
DAY = date(2024, 1, 3)
ALL = ["failure", "sla_breach", "quality_failure", "backfill_complete", "success"]
PIPELINE: AnyPipeline = PIPELINE_ADAPTER.validate_python(
    {
        "id": "p",
        "platform": "local",
        "trigger": {"command": ["true"]},
        "schedule": {"type": "daily", "start": "2024-01-01", "timezone": "Europe/Berlin"},
        "sla": {"time": "06:00"},
        "notifications": [
            {"channel": "stdout", "on": ALL},
            {"channel": "slack", "url_env": "SLACK_URL", "on": ["failure"]},
        ],
    }
)
QUIET: AnyPipeline = PIPELINE_ADAPTER.validate_python(
    {
        "id": "q",
        "platform": "local",
        "trigger": {"command": ["true"]},
        "schedule": {"type": "daily", "start": "2024-01-01"},
        "notifications": [{"channel": "stdout", "on": ["success"]}],
    }
)


def batch(attempt: int = 1, request_id: str | None = None) -> Batch:
    return Batch(
        batch_id="b1", pipeline_id="p", dates=(DAY,), status="running", attempt=attempt,
        kind="run", request_id=request_id, platform="local", platform_run_id=None,
        started_at=None,
    )  # fmt: skip


def keys(event: RunEnded | SlaBreached | DateOutOfRetries | RequestCompleted) -> list[str]:
    return [n.dedupe_key for n in notifications(PIPELINE, event)]


def test_a_successful_run_is_told_per_date_to_the_channels_that_want_it() -> None:
    ended = RunEnded(batch=batch(), outcome=Outcome(success=True, ended_at=NOW))
    [note] = notifications(PIPELINE, ended)
    assert note.dedupe_key == "p|b1-20240103|success|stdout"
    assert (note.run_id, note.run_date) == ("b1-20240103", DAY)
    assert note.details == {"attempt": 1, "kind": "run", "request_id": None}


def test_a_final_failure_with_a_failed_check_makes_both_notifications() -> None:
    check = CheckResult(name="rows", engine="duckdb", on_fail="fail", passed=False, details="0")
    ok = CheckResult(name="fresh", engine="duckdb", on_fail="fail", passed=True)
    outcome = Outcome(success=False, ended_at=NOW, error="exit 1")
    ended = RunEnded(batch=batch(3, "r1"), outcome=outcome, checks=(check, ok), final_failure=True)
    notes = notifications(PIPELINE, ended)
    assert [n.dedupe_key for n in notes] == [
        "p|2024-01-03@r1|quality_failure|stdout",  # one retry chain of one request
        "p|b1-20240103|failure|stdout",
        "p|b1-20240103|failure|slack:SLACK_URL",
    ]
    assert notes[0].details["checks"] == [
        {"name": "rows", "engine": "duckdb", "on_fail": "fail", "could_run": True,
         "details": "0", "summary": "rows failed: 0"}
    ]  # fmt: skip
    assert notes[0].details["run_failed"] is True
    assert notes[1].details == {"error": "exit 1", "attempts": 3, "request_id": "r1"}
    # a failure a retry follows is not news
    assert keys(RunEnded(batch=batch(1), outcome=outcome)) == []


def test_a_paused_pipeline_breaches_without_a_notification() -> None:
    paused = PIPELINE.model_copy(update={"pause": True})
    assert notifications(paused, SlaBreached("p", DAY, NOW)) == []
    # its failures are still told
    out = DateOutOfRetries(
        pipeline_id="p", date=DAY, run_id="b1-20240103", attempts=3, request_id=None, error="x"
    )
    assert len(notifications(paused, out)) == 2


def test_breach_out_of_retries_and_completed_request_words() -> None:
    breach = notifications(PIPELINE, SlaBreached("p", DAY, NOW))
    assert [n.dedupe_key for n in breach] == ["p|2024-01-03|sla_breach|stdout"]
    assert breach[0].details == {"deadline": NOW.isoformat(), "timezone": "Europe/Berlin"}
    out = DateOutOfRetries(
        pipeline_id="p", date=DAY, run_id="b1-20240103", attempts=3, request_id=None, error="x"
    )
    assert keys(out) == ["p|b1-20240103|failure|stdout", "p|b1-20240103|failure|slack:SLACK_URL"]
    request = BackfillRequest(id="r1", start=DAY, end=DAY, priority=5, reason="fix")
    done = RequestCompleted(pipeline_id="p", request=request, digest={"dates": 1, "failed": 0})
    [note] = notifications(PIPELINE, done)
    assert note.dedupe_key == "p|request:r1|backfill_complete|stdout"
    assert note.details == {
        "request_id": "r1", "dates": 1, "failed": 0, "from": "2024-01-03", "to": "2024-01-03",
        "reason": "fix", "priority": 5,
    }  # fmt: skip


def test_who_listens_to_what() -> None:
    box = Outbox({}, {}, FixedClock(NOW), {}, store=open_store("unused.duckdb"))
    announcer = Announcer({"p": PIPELINE, "q": QUIET}, box)
    assert announcer.listening(DateOutOfRetries) == {"p"}
    assert announcer.listening(RunEnded) == {"p", "q"}
    assert not announcer.listens("q", RequestCompleted)
    assert not announcer.listens("gone", RunEnded)


@pytest.fixture
def state(tmp_path: Path) -> str:
    return str(tmp_path / "state.duckdb")


def test_an_event_is_announced_once_whatever_its_details(state: str) -> None:
    box = Outbox(
        {"p": PIPELINE}, {"p": to_spec(PIPELINE)}, FixedClock(NOW), {}, store=open_store(state)
    )
    announcer = Announcer({"p": PIPELINE}, box)
    first = DateOutOfRetries(
        pipeline_id="p", date=DAY, run_id="b1-20240103", attempts=3, request_id=None
    )
    second = DateOutOfRetries(
        pipeline_id="p", date=date(2024, 1, 4), run_id="b1-20240104", attempts=3, request_id=None
    )
    unknown = SlaBreached("gone", DAY, NOW)  # a pipeline without channels: nothing to tell
    with open_store(state).write() as session:
        assert announcer.unannounced(session, [first, second, unknown]) == [first, second]
        assert announcer.announce(session, [first, unknown]) == 2  # stdout and slack
    with open_store(state).write() as session:
        with_error = DateOutOfRetries(
            pipeline_id="p", date=DAY, run_id="b1-20240103", attempts=3, request_id=None,
            error="exit 1",
        )  # fmt: skip
        assert announcer.unannounced(session, [with_error, second]) == [second]
        assert announcer.announce(session, [with_error]) == 0
