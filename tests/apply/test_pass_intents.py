"""A pass's intents come from the plan as they are read, in start order; which pipelines
start anything (and the skipped notes) is known before the first one is read. A cascade
round plans only the pipelines the last round's outcomes can change."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from reconciler.config.loading import LoadedPipeline
from reconciler.config.models import PIPELINE_ADAPTER
from reconciler.reconcile.intents import pass_intents
from reconciler.reconcile.pass_report import ApplyReport
from reconciler.reconcile.pass_rounds import _round_pipelines
from reconciler.reconcile.planning import plan_pipelines
from reconciler.state.store import open_store

NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def pipeline(pid: str, start: str = "2016-11-27", **extra: Any) -> LoadedPipeline:
    data = {
        "id": pid,
        "platform": "local",
        "trigger": {"command": ["true"]},
        "schedule": {"type": "daily", "start": start},
        **extra,
    }
    return LoadedPipeline.of(PIPELINE_ADAPTER.validate_python(data), f"{pid}.yaml", pid, "")


def test_intents_are_read_in_start_order_and_counted_without_being_listed(
    tmp_path: Path,
) -> None:
    fleet = [
        pipeline("a"),
        pipeline("b"),
        pipeline("held", pause=True, pause_reason="migration"),
    ]
    plan = plan_pipelines(fleet, open_store(str(tmp_path / "state.duckdb")), NOW).plan
    report = ApplyReport()
    platforms: dict[str, Any] = {"local": None}  # (only the names are looked at)
    intents = pass_intents(plan, {p.id: p for p in fleet}, platforms, report)
    # known before any intent is read
    assert report.skipped == ["held: paused (migration)"]
    per_pipeline = (date(2026, 11, 27) - date(2016, 11, 27)).days + 1  # (today's is due)
    assert intents.total == 2 * per_pipeline
    first = list(islice(intents.stream, 6))
    assert [(i.pipeline_id, i.dates[0].isoformat(), i.kind) for i in first] == [
        ("a", "2026-11-27", "run"),
        ("b", "2026-11-27", "run"),
        ("a", "2016-11-27", "backfill"),
        ("b", "2016-11-27", "backfill"),
        ("a", "2016-11-28", "backfill"),
        ("b", "2016-11-28", "backfill"),
    ]
    rest = sum(1 for _ in intents.stream)
    assert rest + 6 == intents.total
    assert len({i.batch_id for i in first}) == 6
    elsewhere = ApplyReport()
    none = pass_intents(plan, {p.id: p for p in fleet}, {}, elsewhere)
    assert none.total == 0 and next(none.stream, None) is None
    assert "a: platform 'local' is not available in apply" in elsewhere.skipped


def test_a_cascade_round_plans_what_the_outcomes_can_change() -> None:
    up = pipeline("up")
    mid = pipeline("mid", depends_on=[{"pipeline": "up"}])
    low = pipeline("low", depends_on=[{"pipeline": "mid"}])
    alone = pipeline("alone")
    every = [up, mid, low, alone]
    by_id = {p.id: p for p in every}
    assert set(_round_pipelines({"up"}, by_id, every)) == {"up", "mid", "low"}
    # a dependant's round reads its upstreams (readiness) and plans its own dependants
    assert set(_round_pipelines({"mid"}, by_id, every)) == {"up", "mid", "low"}
    assert set(_round_pipelines({"alone"}, by_id, every)) == {"alone"}
    assert _round_pipelines({"gone"}, by_id, every) == {}
