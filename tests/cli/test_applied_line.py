"""Apply's closing line over a plan with dependencies: refreshes are due dates, named as
such, and dates waiting for their upstream are told apart from those waiting for a retry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from reconciler.commands.apply_cmds import applied_line
from reconciler.core.plan import Action, ActionList, Plan, Waiting
from reconciler.core.plan_records import UpstreamDates
from reconciler.reconcile.pass_report import ApplyReport, after_pass

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
UP = (UpstreamDates("orders_daily", date(2026, 3, 1), date(2026, 3, 2)),)
PLAN = Plan(
    now=NOW,
    pipelines=2,
    actions=ActionList.of(
        [
            Action("orders_daily", "backfill", (date(2026, 3, 1), date(2026, 3, 2))),
            Action("revenue", "refresh", (date(2026, 2, 1),), request_id="refresh-1"),
        ]
    ),
    waiting=(
        Waiting(
            pipeline_id="revenue",
            dates=(date(2026, 3, 1), date(2026, 3, 2)),
            reason="upstream",
            upstream=UP,
            refresh=True,
        ),
        Waiting(pipeline_id="revenue", dates=(date(2026, 3, 10),), reason="upstream", upstream=UP),
        Waiting(
            pipeline_id="orders_daily",
            dates=(date(2026, 3, 9),),
            next_retry_at=NOW + timedelta(minutes=5),
            attempt=2,
        ),
    ),
)


def test_before_any_run_ended_the_line_reads_the_plan() -> None:
    line = applied_line(ApplyReport(plan=PLAN, started=1, started_dates=2))
    assert line.endswith(
        "after it: 0 gap date(s), 1 date(s) waiting for a retry, 1 date(s) due "
        "(1 of them refreshes), 3 date(s) waiting for their upstream dates."
    )


def test_after_the_pass_the_counts_come_from_the_new_plan() -> None:
    """orders_daily ran and was planned again (its backfill done, a retry waiting);
    revenue's entries are the first plan's."""
    again = Plan(now=NOW, pipelines=2, waiting=PLAN.waiting[2:])
    after = after_pass(PLAN, again, {"orders_daily"})
    assert (after.waiting, after.upstream, after.due, after.refresh) == (1, 3, 1, 1)
    line = applied_line(ApplyReport(plan=PLAN, after=after))
    assert "1 date(s) due (1 of them refreshes), 3 date(s) waiting for their upstream" in line


def test_a_fleet_without_dependencies_reads_as_before() -> None:
    plain = Plan(now=NOW, pipelines=1, actions=ActionList.of([Action("a", "run", (NOW.date(),))]))
    line = applied_line(ApplyReport(plan=plain))
    assert line.endswith("after it: 0 gap date(s), 0 date(s) waiting for a retry, 1 date(s) due.")
