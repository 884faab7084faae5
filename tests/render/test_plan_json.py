"""The JSON plan writer's fast path for actions says what ``json.dumps`` would."""

from __future__ import annotations

import json
from datetime import date

from reconciler.core.plan import Action
from reconciler.render.plan_json import _action, action_json


def test_fast_action_encoding_is_json_dumps_byte_for_byte() -> None:
    d1, d2 = date(2024, 2, 29), date(2024, 3, 1)
    actions = [
        Action("p", "backfill", (d1,)),
        Action('we"ird\\ id é', "retry", (d1, d2), -3, 2, 'req "1" ü', "why\n\u2603"),
        Action("p", "poll", (d1,), 1, 1, None, None, "run-9"),
        Action("p", "notify", (d1, d2), event="sla_breach"),
        Action("p", "run", (d2,), 10**6, 1, "", ""),
    ]
    for action in actions:
        assert action_json(action) == json.dumps(_action(action))
        assert json.loads(action_json(action))["dates"] == [d.isoformat() for d in action.dates]


def test_compact_blocks_write_the_same_json_as_listed_actions() -> None:
    import dataclasses
    from datetime import UTC, datetime

    from reconciler.core.coverage import Observed, PipelineObserved
    from reconciler.core.intervals import from_dates
    from reconciler.core.planner import plan
    from reconciler.core.spec import PipelineSpec, Schedule
    from reconciler.render.plan_json import plan_to_json

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
    listed = dataclasses.replace(result, actions=tuple(result.actions))
    assert len(result.actions) > 20
    assert plan_to_json(result) == plan_to_json(listed)
