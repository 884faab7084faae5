"""A pass's events over a real state file: the rows they write (checks, breaches) and
their notifications are recorded in the transaction of what caused them, and once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.clock import FixedClock
from reconciler.config.models import PIPELINE_ADAPTER, AnyPipeline
from reconciler.config.specs import to_spec
from reconciler.core.batches import Batch, Outcome
from reconciler.core.check_results import CheckResult
from reconciler.core.coverage import Observed, PipelineObserved
from reconciler.core.plan import Plan, SlaBreach
from reconciler.core.spec import BackfillRequest
from reconciler.notify.outbox import Outbox
from reconciler.reconcile.pass_events import PassEvents
from reconciler.state.store import open_store

NOW = datetime(2024, 1, 11, 7, 0, tzinfo=UTC)
SINCE = datetime(2024, 1, 1, tzinfo=UTC)
PIPELINE: AnyPipeline = PIPELINE_ADAPTER.validate_python(
    {
        "id": "p",
        "platform": "local",
        "trigger": {"command": ["true"]},
        "schedule": {"type": "daily", "start": "2024-01-01"},
        "sla": {"time": "06:00"},
        "notifications": [
            {"channel": "stdout", "on": ["sla_breach", "quality_failure", "backfill_complete"]}
        ],
    }
)
SPEC = to_spec(PIPELINE)
REQUEST = BackfillRequest(id="r1", start=date(2024, 1, 2), end=date(2024, 1, 3))


class Rollback(Exception):
    """Breaks a transaction on purpose."""


@pytest.fixture
def state(tmp_path: Path) -> str:
    return str(tmp_path / "state.duckdb")


def events(state: str) -> PassEvents:
    box = Outbox({"p": PIPELINE}, {"p": SPEC}, FixedClock(NOW), {}, store=open_store(state))
    return PassEvents({"p": PIPELINE}, {"p": SPEC}, box)


def table(state: str, sql: str) -> list[tuple[Any, ...]]:
    with open_store(state).write() as session:
        return sorted(session.conn.execute(sql).fetchall())


def recorded(state: str) -> tuple[list[tuple[Any, ...]], ...]:
    return (
        table(state, "SELECT notification_type, run_date FROM pipeline_notifications"),
        table(state, "SELECT run_date FROM sla_breaches"),
        table(state, "SELECT check_name, run_date FROM data_quality_log"),
    )


def test_plan_events_are_recorded_with_their_transaction_and_once(state: str) -> None:
    pass_events = events(state)
    assert pass_events.plan_events and pass_events.any_sla
    late = date(2024, 1, 9)
    plan = Plan(now=NOW, pipelines=1, sla_breaches=(SlaBreach("p", late, NOW - timedelta(days=1)),))
    ran = {"r1": ((REQUEST.start, REQUEST.end),)}  # every date of r1 run for it
    observed = Observed({"p": PipelineObserved(request_done=ran)})
    run_specs = {"p": replace(SPEC, requests=(REQUEST,))}
    with pytest.raises(Rollback), open_store(state).write() as session:
        pass_events.note_plan(session, plan, observed, run_specs, NOW)
        raise Rollback
    assert recorded(state) == ([], [], [])
    for _ in range(2):  # this pass, and the next one: nothing new
        with open_store(state).write() as session:
            pass_events.note_plan(session, plan, observed, run_specs, NOW)
        assert recorded(state) == (
            [("backfill_complete", None), ("sla_breach", late)],
            [(late,)],
            [],
        )


def test_outcome_events_are_recorded_with_the_outcomes(state: str) -> None:
    pass_events = events(state)
    day = date(2024, 1, 10)
    batch = Batch(
        batch_id="b1", pipeline_id="p", dates=(day,), status="running", attempt=1, kind="run",
        request_id=None, platform="local", platform_run_id=None, started_at=None,
    )  # fmt: skip
    deadline = datetime(2024, 1, 11, 6, 0, tzinfo=UTC)
    finished = [(batch, Outcome(success=True, ended_at=NOW), {day: deadline})]
    check = CheckResult(name="rows", engine="duckdb", on_fail="warn", passed=False)
    observed = Observed({"p": PipelineObserved(sla_since=SINCE)})
    with pytest.raises(Rollback), open_store(state).write() as session:
        pass_events.record_outcomes(session, finished, {"b1": [check]}, observed, NOW)
        raise Rollback
    assert recorded(state) == ([], [], [])
    for _ in range(2):  # the same outcome written again: nothing new
        with open_store(state).write() as session:
            pass_events.record_outcomes(session, finished, {"b1": [check]}, observed, NOW)
        assert recorded(state) == (
            [("quality_failure", day), ("sla_breach", day)],
            [(day,)],
            [("rows", day)],
        )
    # deadlines from before SLA tracking began are history
    earlier = Observed({"p": PipelineObserved(sla_since=deadline + timedelta(minutes=1))})
    other = replace(batch, batch_id="b2", dates=(date(2024, 1, 8),))
    with open_store(state).write() as session:
        pass_events.record_outcomes(
            session, [(other, finished[0][1], {date(2024, 1, 8): deadline})], {}, earlier, NOW
        )
    assert table(state, "SELECT run_date FROM sla_breaches") == [(day,)]
