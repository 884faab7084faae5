"""Outdated dates become refreshes: marks on covered dates, the version change a plan
shows before it is applied, and the request id that tells one round from the next."""

from __future__ import annotations

from datetime import UTC, date, datetime

from reconciler.core.applied import AppliedConfigs
from reconciler.core.coverage import InFlight, Observed, PipelineObserved
from reconciler.core.planner import plan
from reconciler.core.spec import PipelineSpec, Schedule

NOW = datetime(2026, 1, 11, 6, tzinfo=UTC)  # dates 01-01..01-10 due (offset 1)
SPEC = PipelineSpec(id="p", schedule=Schedule(type="daily", start=date(2026, 1, 1), offset=1))
ALL = [(date(2026, 1, 1), date(2026, 1, 10))]
STAMP = datetime(2026, 1, 11, 5, 30, tzinfo=UTC)


def d(day: int) -> date:
    return date(2026, 1, day)


def refreshed(observed: Observed, spec: PipelineSpec = SPEC) -> list[tuple[date, ...]]:
    return [a.dates for a in plan([spec], observed, NOW).actions if a.kind == "refresh"]


def test_marked_covered_dates_are_refreshed_under_one_request_id() -> None:
    obs = PipelineObserved(covered=ALL, outdated=[(d(3), d(4))], outdated_since=STAMP)
    actions = [a for a in plan([SPEC], Observed({"p": obs}), NOW).actions if a.kind == "refresh"]
    assert [a.dates for a in actions] == [(d(3),), (d(4),)]
    assert {a.request_id for a in actions} == {"refresh-20260111T053000000000"}


def test_a_mark_on_a_date_never_covered_or_in_flight_is_no_refresh() -> None:
    obs = PipelineObserved(
        covered=[(d(1), d(5))],
        outdated=[(d(4), d(7))],
        in_flight={d(4): InFlight(run_id="r1")},
    )
    kinds = {(a.kind, a.dates) for a in plan([SPEC], Observed({"p": obs}), NOW).actions}
    assert ("refresh", (d(5),)) in kinds
    assert not any(k == "refresh" and dates != (d(5),) for k, dates in kinds)
    assert ("backfill", (d(6),)) in kinds and ("backfill", (d(7),)) in kinds


def test_a_version_change_that_asks_for_it_refreshes_every_covered_date() -> None:
    spec = PipelineSpec(id="p", schedule=SPEC.schedule, version="2", refresh_on_version_change=True)
    applied = AppliedConfigs.parsed({"p": {"id": "p", "version": "1"}})
    observed = Observed({"p": PipelineObserved(covered=ALL)}, applied_config=applied)
    assert refreshed(observed, spec) == [(d(k),) for k in range(1, 11)]
    # an integer version in the applied config is the same text
    same = AppliedConfigs.parsed({"p": {"id": "p", "version": 2}})
    assert (
        refreshed(Observed({"p": PipelineObserved(covered=ALL)}, applied_config=same), spec) == []
    )


def test_a_version_change_without_the_flag_or_for_a_new_pipeline_refreshes_nothing() -> None:
    quiet = PipelineSpec(id="p", schedule=SPEC.schedule, version="2")
    applied = AppliedConfigs.parsed({"p": {"id": "p", "version": "1"}})
    observed = Observed({"p": PipelineObserved(covered=ALL)}, applied_config=applied)
    assert refreshed(observed, quiet) == []
    loud = PipelineSpec(id="p", schedule=SPEC.schedule, version="2", refresh_on_version_change=True)
    assert refreshed(Observed({"p": PipelineObserved(covered=ALL)}), loud) == []
