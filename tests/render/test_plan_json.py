"""The JSON plan writer encodes actions and gaps from their groups (msgspec, a group per
call): every line must be what ``json.dumps`` writes, whatever the group looks like."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from reconciler.core.plan import Action, ActionList, Gap, GapList, Plan
from reconciler.render.plan_json_v2 import _action
from reconciler.render.plan_json_v2 import plan_to_json_v2 as plan_to_json

NOW = datetime(2024, 3, 31, 12, tzinfo=UTC)


def test_action_and_gap_lines_are_json_dumps_byte_for_byte() -> None:
    d1, d2 = date(2024, 2, 29), date(2024, 3, 1)
    actions = [
        Action("p", "backfill", (d1,)),
        Action('we"ird\\ id é', "retry", (d1, d2), -3, 2, 'req "1" ü', "why\n\u2603\x7f😀"),
        Action("p", "poll", (d1,), 1, 1, None, None, "run-9"),
        Action("p", "notify", (d1, d2), event="sla_breach"),
        Action("p", "run", (d2,), 10**6, 1, "", ""),
    ]
    gaps = [Gap("p", (d1, d2), "retries_exhausted"), Gap("é\t", (d2,), "auto_backfill_disabled")]
    plan = Plan(now=NOW, pipelines=2, actions=ActionList.of(actions), gaps=GapList.of(gaps))
    document = plan_to_json(plan)
    assert document.isascii()
    lines = [line.strip().rstrip(",") for line in document.splitlines()]
    for action in actions:
        assert json.dumps(_action(action)) in lines
    for gap in gaps:
        text = {"pipeline_id": gap.pipeline_id, "dates": [d.isoformat() for d in gap.dates]}
        assert json.dumps({**text, "reason": gap.reason}) in lines
    read = json.loads(document)
    assert [a["dates"] for a in read["actions"]] == [
        [d.isoformat() for d in a.dates] for a in actions
    ]


def test_a_lone_surrogate_is_written_as_json_dumps_writes_it() -> None:
    """msgspec refuses one (a hand-edited saved plan can hold it); the writer falls back."""
    action = Action("p", "backfill", (date(2024, 1, 2),), 1, 1, "r", "bad \ud800 text")
    document = plan_to_json(Plan(now=NOW, pipelines=1, actions=ActionList.of([action])))
    assert f"    {json.dumps(_action(action))}\n" in document


def test_compact_blocks_write_the_same_json_as_listed_actions() -> None:
    import dataclasses

    from reconciler.core.coverage import Observed, PipelineObserved
    from reconciler.core.intervals import from_dates
    from reconciler.core.planner import plan
    from reconciler.core.spec import PipelineSpec, Schedule

    start = date(2024, 1, 1)
    holes = {3, 4, 9, 30, 31, 32, 33, 70}
    covered = from_dates(
        date.fromordinal(start.toordinal() + i) for i in range(90) if i not in holes
    )
    specs = [
        PipelineSpec(id="a%", schedule=Schedule(type="daily", start=start)),
        PipelineSpec(
            id='b"',
            schedule=Schedule(type="daily", start=start),
            multi_date=True,
            max_dates=2,
            priority=2,
        ),
        PipelineSpec(id="c", schedule=Schedule(type="daily", start=start), order="newest_first"),
        PipelineSpec(id="d", schedule=Schedule(type="weekly", start=start, every=1)),
    ]
    observed = Observed({s.id: PipelineObserved(covered=covered) for s in specs})
    result = plan(specs, observed, datetime(2024, 3, 31, 12, tzinfo=UTC))
    listed = dataclasses.replace(
        result, actions=ActionList.of(result.actions), gaps=GapList.of(result.gaps)
    )
    assert len(result.actions) > 20
    assert plan_to_json(result) == plan_to_json(listed)
    document = json.loads(plan_to_json(result))
    assert [_action(a) for a in result.actions] == document["actions"]
