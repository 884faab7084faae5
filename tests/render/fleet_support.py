"""A small fleet with dependencies, planned by the real planner, for the renderer tests.

``orders_daily`` feeds ``revenue``, which feeds ``report``. With ``request`` the
orders get a backfill request over seven covered dates: revenue and report then show
the refreshes it will cause before it runs. ``revenue`` already has three outdated
dates (refresh actions); ``lake`` leaves a hole it will not backfill, so ``mart``,
which reads it, has ``upstream_gap`` gaps.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from reconciler.core.coverage import Observed, PipelineObserved
from reconciler.core.plan import Plan
from reconciler.core.planner import plan
from reconciler.core.spec import BackfillRequest, Dependency, PipelineSpec, Schedule

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
START = date(2026, 1, 1)
DAILY = Schedule(type="daily", start=START)
FIX = BackfillRequest(
    id="fix", start=date(2026, 3, 1), end=date(2026, 3, 7), priority=5, reason="dedupe"
)

ORDERS = PipelineSpec(id="orders_daily", schedule=DAILY)
REVENUE = PipelineSpec(
    id="revenue", schedule=DAILY, depends_on=(Dependency(pipeline="orders_daily"),)
)
REPORT = PipelineSpec(id="report", schedule=DAILY, depends_on=(Dependency(pipeline="revenue"),))
LAKE = PipelineSpec(id="lake", schedule=DAILY, auto_backfill=False)
MART = PipelineSpec(id="mart", schedule=DAILY, depends_on=(Dependency(pipeline="lake"),))


def _covered(*ranges: tuple[date, date]) -> tuple[tuple[date, date], ...]:
    return ranges


OBSERVED = Observed(
    {
        "orders_daily": PipelineObserved(covered=_covered((START, date(2026, 3, 9)))),
        "revenue": PipelineObserved(
            covered=_covered((START, date(2026, 3, 8))),
            outdated=((date(2026, 2, 1), date(2026, 2, 3)),),
        ),
        "report": PipelineObserved(covered=_covered((START, date(2026, 3, 8)))),
        "lake": PipelineObserved(
            covered=_covered((START, date(2026, 2, 9)), (date(2026, 2, 13), date(2026, 3, 10)))
        ),
        "mart": PipelineObserved(
            covered=_covered((START, date(2026, 2, 9)), (date(2026, 2, 13), date(2026, 3, 9)))
        ),
    }
)


def specs(request: bool = True) -> list[PipelineSpec]:
    orders = replace(ORDERS, requests=(FIX,)) if request else ORDERS
    return [orders, REVENUE, REPORT, LAKE, MART]


def fleet_plan(request: bool = True) -> Plan:
    """The fleet's plan at ``NOW``; ``request``: with the orders' backfill request."""
    return plan(specs(request), OBSERVED, NOW)
