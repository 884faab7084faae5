"""The batch lifecycle: which transitions exist, and what a platform's answer means.

Pure: no store, no platform, no clock (docs/architecture.md, the batch lifecycle).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.core import lifecycle
from reconciler.core.batches import Batch, Outcome, RunIntent
from reconciler.core.check_results import CheckResult
from reconciler.core.lifecycle import BatchState, LifecycleError, Phase

NOW = datetime(2026, 3, 20, 6, 0, tzinfo=UTC)
DAY = date(2026, 3, 19)


def intent(batch_id: str = "b1") -> RunIntent:
    return RunIntent(
        batch_id=batch_id,
        key="k" * 64,
        pipeline_id="orders",
        dates=(DAY,),
        attempt=1,
        kind="run",
        request_id=None,
        priority=0,
        retry_schedule="exponential",
        platform="local",
    )


def stored(status: str = "pending", run_id: str | None = None) -> Batch:
    return Batch(
        batch_id="b1",
        pipeline_id="orders",
        dates=(DAY,),
        status="running" if status == "running" else "pending",
        attempt=2,
        kind="retry",
        request_id=None,
        platform="local",
        platform_run_id=run_id,
        started_at=NOW - timedelta(hours=1) if run_id else None,
    )


FAILED = Outcome(success=False, ended_at=NOW, error="boom")
Transition = Callable[[BatchState], BatchState]
TRANSITIONS: dict[str, Transition] = {
    "recorded": lifecycle.recorded,
    "started": lambda s: lifecycle.started(s, "r-1", NOW),
    "running": lifecycle.marked,
    "checking": lifecycle.checking,
    "ended": lambda s: lifecycle.ended(s, FAILED),
}
# the documented graph: phase -> the phases it may go to
ALLOWED: dict[Phase, set[str]] = {
    "queued": {"recorded"},
    "recorded": {"started", "ended"},  # ended: its platform refused to start it
    "started": {"started", "running", "checking", "ended"},  # started again: a restart
    "running": {"started", "checking", "ended"},
    "checking": {"ended"},
    "ended": set(),
}


def in_phase(phase: Phase) -> BatchState:
    state = lifecycle.queued(intent())
    path: dict[Phase, list[str]] = {
        "queued": [],
        "recorded": ["recorded"],
        "started": ["recorded", "started"],
        "running": ["recorded", "started", "running"],
        "checking": ["recorded", "started", "running", "checking"],
        "ended": ["recorded", "started", "ended"],
    }
    for step in path[phase]:
        state = TRANSITIONS[step](state)
    assert state.phase == phase
    return state


@given(st.sampled_from(sorted(ALLOWED)), st.sampled_from(sorted(TRANSITIONS)))
def test_every_transition_is_allowed_exactly_where_the_graph_says(phase: Phase, to: str) -> None:
    state = in_phase(phase)
    if to in ALLOWED[phase]:
        after = TRANSITIONS[to](state)
        assert after.phase == to
        assert after.batch_id == state.batch_id
        assert state.phase == phase  # frozen: the old state is unchanged
    else:
        with pytest.raises(LifecycleError, match=f"cannot go from {phase} to"):
            TRANSITIONS[to](state)


def test_only_started_and_running_batches_hold_a_slot() -> None:
    held = {p for p in ALLOWED if in_phase(p).followed}
    assert held == {"started", "running"}
    assert [p for p in ALLOWED if in_phase(p).unmarked] == ["started"]


def test_a_start_keeps_the_first_start_time_and_takes_the_platforms_run_id() -> None:
    adopted = lifecycle.adopted(stored("running", run_id="r-0"))
    restarted = lifecycle.started(adopted, "r-9", NOW)
    assert restarted.batch.platform_run_id == "r-9"
    assert restarted.batch.started_at == NOW - timedelta(hours=1)
    fresh = lifecycle.started(in_phase("recorded"), None, NOW)
    assert fresh.batch.platform_run_id is None and fresh.batch.started_at == NOW


def test_marking_writes_the_running_status_and_ending_keeps_checks() -> None:
    state = lifecycle.marked(lifecycle.started(in_phase("recorded"), "r-1", NOW))
    assert state.batch.status == "running" and state.phase == "running"
    check = CheckResult(name="rows", engine="duckdb", on_fail="warn", passed=False)
    done = lifecycle.ended(lifecycle.checking(state), FAILED, (check,))
    assert done.outcome == FAILED and done.checks == (check,)


def test_an_adopted_batch_is_followed_whatever_the_state_recorded() -> None:
    for status in ("pending", "running"):
        state = lifecycle.adopted(stored(status))
        assert state.followed and state.adopted and state.phase == "running"


def poll(state: BatchState, answer: lifecycle.PollState, **kw: object) -> lifecycle.Step:
    args: dict[str, object] = {
        "ended_at": None,
        "error": None,
        "now": NOW,
        "pipeline_known": True,
        "has_checks": False,
    }
    args.update(kw)
    return lifecycle.after_poll(state, answer, **args)  # type: ignore[arg-type]


def test_what_a_platforms_answer_means() -> None:
    running = lifecycle.adopted(stored("running", run_id="r-0"))
    assert poll(running, "running") == lifecycle.Follow()
    assert poll(running, "not_started") == lifecycle.Restart()
    ended_at = NOW - timedelta(minutes=5)
    assert poll(running, "success", ended_at=ended_at) == lifecycle.End(
        Outcome(success=True, ended_at=ended_at, platform_run_id="r-0")
    )
    assert poll(running, "failed", error="exit 3") == lifecycle.End(
        Outcome(success=False, ended_at=NOW, error="exit 3", platform_run_id="r-0")
    )
    assert poll(running, "success", has_checks=True) == lifecycle.Check(ended_at=NOW, run_id="r-0")
    # a failed run is not checked; a run without its own id is known by its batch id
    unconfirmed = lifecycle.adopted(stored("pending"))
    assert poll(unconfirmed, "failed", has_checks=True) == lifecycle.End(
        Outcome(success=False, ended_at=NOW, platform_run_id="b1")
    )


def test_a_deleted_pipelines_batch_ends_instead_of_starting() -> None:
    never = poll(lifecycle.adopted(stored("pending")), "not_started", pipeline_known=False)
    assert isinstance(never, lifecycle.End)
    assert never.outcome.error == "the pipeline was deleted before its run started"
    lost = poll(lifecycle.adopted(stored("running", "r-0")), "not_started", pipeline_known=False)
    assert isinstance(lost, lifecycle.End)
    assert lost.outcome.error is not None and "while its run was in flight" in lost.outcome.error


def test_only_followed_batches_are_polled() -> None:
    for phase in ("queued", "recorded", "checking", "ended"):
        with pytest.raises(LifecycleError):
            poll(in_phase(phase), "running")  # type: ignore[arg-type]


def test_refusals_and_unfollowable_batches_are_failed_attempts() -> None:
    assert lifecycle.not_started("HTTP 400", NOW).outcome == Outcome(
        success=False, ended_at=NOW, error="not started: HTTP 400"
    )
    outcome = lifecycle.unfollowable(NOW).outcome
    assert not outcome.success and outcome.error is not None and "older state" in outcome.error
