"""The pure rules that find a pass's events (reconciler.core.events)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from reconciler.core.batches import Batch, Outcome, run_row_id
from reconciler.core.check_results import CheckResult
from reconciler.core.compact_gaps import GapList, GapRun, ListedGaps
from reconciler.core.coverage import Failed, Observed, PipelineObserved
from reconciler.core.events import (
    DateOutOfRetries,
    dates_out_of_retries,
    late_dates,
    out_of_retries,
    plan_breaches,
    run_ended,
    with_errors,
)
from reconciler.core.plan import Gap, Plan, SlaBreach
from reconciler.core.spec import RetryPolicy

NOW = datetime(2024, 1, 11, tzinfo=UTC)


def d(day: int) -> date:
    return date(2024, 1, day)


def batch(attempt: int, *days: int) -> Batch:
    return Batch(
        batch_id="b1", pipeline_id="p", dates=tuple(d(x) for x in days), status="running",
        attempt=attempt, kind="run", request_id=None, platform="local", platform_run_id=None,
        started_at=None,
    )  # fmt: skip


@given(enabled=st.booleans(), max_retries=st.integers(0, 6), attempt=st.integers(1, 9))
def test_out_of_retries_agrees_with_the_attempts_a_policy_gives(
    enabled: bool, max_retries: int, attempt: int
) -> None:
    policy = RetryPolicy(enabled=enabled, max_retries=max_retries)
    assert out_of_retries(policy, attempt) == (attempt >= policy.attempts)


def test_a_run_ended_failure_is_final_only_without_a_retry_left() -> None:
    failed = Outcome(success=False, ended_at=NOW, error="boom")
    policy = RetryPolicy(max_retries=2)
    assert not run_ended(batch(2, 3), failed, [], policy).final_failure
    assert run_ended(batch(3, 3), failed, [], policy).final_failure
    succeeded = Outcome(success=True, ended_at=NOW)
    assert not run_ended(batch(3, 3), succeeded, [], policy).final_failure
    check = CheckResult(name="rows", engine="duckdb", on_fail="warn", passed=False)
    ended = run_ended(batch(1, 3), succeeded, [check], policy)
    assert ended.checks == (check,) and ended.pipeline_id == "p"


def test_late_dates_are_those_whose_deadline_passed_before_the_run_ended() -> None:
    since = NOW - timedelta(days=5)
    deadlines = {
        d(1): since - timedelta(hours=1),  # before SLA tracking began: history
        d(7): NOW - timedelta(hours=1),  # passed before the run ended: late
        d(10): NOW + timedelta(hours=1),  # the run ended in time
    }
    assert late_dates(deadlines, since, NOW) == [(d(7), deadlines[d(7)])]
    assert late_dates(deadlines, None, NOW) == []  # no SLA tracked yet


def test_plan_breaches_grouped_by_pipeline_in_plan_order() -> None:
    breaches = (
        SlaBreach("a", d(2), NOW),
        SlaBreach("b", d(1), NOW),
        SlaBreach("a", d(1), NOW),
    )
    grouped = plan_breaches(Plan(now=NOW, pipelines=2, sla_breaches=breaches))
    assert grouped == {"a": [(d(2), NOW), (d(1), NOW)], "b": [(d(1), NOW)]}


def test_dates_out_of_retries_come_from_exhausted_gaps_with_a_known_run() -> None:
    gaps = GapList(
        [
            ListedGaps(
                (
                    Gap("p", (d(2), d(3)), "retries_exhausted"),
                    Gap("p", (d(5),), "auto_backfill_disabled"),
                )
            ),
            GapRun(pipeline_id="q", ordinals=[d(4).toordinal()], step=1,
                   reason="retries_exhausted"),
        ]
    )  # fmt: skip
    failed = {
        d(2): Failed(attempt=3, ended_at=NOW, request_id="r1", run_id="b2"),
        d(3): Failed(attempt=3, ended_at=None),  # read without its run: nothing to name
        d(5): Failed(attempt=1, ended_at=NOW, run_id="b5"),
    }
    observed = Observed(
        {
            "p": PipelineObserved(failed=failed),
            "q": PipelineObserved(failed={d(4): Failed(attempt=1, ended_at=NOW, run_id="b4")}),
        }
    )
    the_plan = Plan(now=NOW, pipelines=2, gaps=gaps)
    found = dates_out_of_retries(the_plan, observed, {"p", "q"})
    assert found == [
        DateOutOfRetries(pipeline_id="p", date=d(2), run_id=run_row_id("b2", d(2)), attempts=3,
                         request_id="r1"),
        DateOutOfRetries(pipeline_id="q", date=d(4), run_id=run_row_id("b4", d(4)), attempts=1,
                         request_id=None),
    ]  # fmt: skip
    assert [e.pipeline_id for e in dates_out_of_retries(the_plan, observed, {"q"})] == ["q"]
    named = with_errors(found, {found[0].run_id: "exit 1"})
    assert [e.error for e in named] == ["exit 1", None]
