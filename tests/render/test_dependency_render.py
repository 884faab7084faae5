"""Dependencies in every plan output: refresh actions, dates waiting for their upstream
(and the refreshes a request will cause, shown before it runs), upstream gaps; in JSON
(checked against the schema, read back as saved plans), text, markdown and the strip."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fleet_support import NOW, REVENUE, fleet_plan, specs
from plan_documents import expanded_and_checked

from reconciler.core.plan import Plan, Waiting
from reconciler.core.plan_records import UpstreamDates
from reconciler.render.coverage_strip import MORE_LEGEND, SYMBOLS, marks_by_pipeline, strips_for
from reconciler.render.plan_json import plan_from_dict, plan_to_dict, plan_to_json
from reconciler.render.plan_markdown import render_markdown
from reconciler.render.plan_schema import plan_problems
from reconciler.render.plan_text import render_text
from reconciler.render.plan_view import summary_line


def valid(plan: Plan) -> dict[str, object]:
    """The expanded (version 2) document, checked to be what the range form expands to."""
    return expanded_and_checked(plan_to_json(plan), plan)


def upstream_waits(plan: Plan, pipeline_id: str, refresh: bool) -> list[Waiting]:
    return [
        w
        for w in plan.waiting
        if w.pipeline_id == pipeline_id and w.reason == "upstream" and w.refresh is refresh
    ]


# --- JSON ----------------------------------------------------------------------------------


def test_json_carries_refreshes_upstream_waits_and_upstream_gaps() -> None:
    document = valid(fleet_plan())
    assert document["format_version"] == 2
    actions = document["actions"]
    assert isinstance(actions, list)
    refreshes = [a for a in actions if a["kind"] == "refresh"]
    assert [a["dates"] for a in refreshes] == [["2026-02-01"], ["2026-02-02"], ["2026-02-03"]]
    assert {a["pipeline_id"] for a in refreshes} == {"revenue"}
    waiting = document["waiting"]
    assert isinstance(waiting, list)
    held = [w for w in waiting if w["pipeline_id"] == "revenue" and not w["refresh"]]
    assert held == [
        {
            "pipeline_id": "revenue",
            "dates": ["2026-03-10"],
            "reason": "upstream",
            "next_retry_at": None,
            "attempt": 1,
            "upstream": [
                {"pipeline_id": "orders_daily", "first": "2026-03-10", "last": "2026-03-10"}
            ],
            "refresh": False,
        }
    ]
    previewed = [w for w in waiting if w["pipeline_id"] == "revenue" and w["refresh"]]
    assert sorted(d for w in previewed for d in w["dates"]) == [
        f"2026-03-0{i}" for i in range(1, 8)
    ]
    gaps = document["gaps"]
    assert isinstance(gaps, list)
    assert {"pipeline_id": "lake", "dates": ["2026-02-10", "2026-02-11", "2026-02-12"]}.items() <= (
        gaps[0].items()
    )
    assert "upstream" not in gaps[0]  # only an upstream_gap names its upstream
    assert gaps[1] == {
        "pipeline_id": "mart",
        "dates": ["2026-02-10", "2026-02-11", "2026-02-12"],
        "reason": "upstream_gap",
        "upstream": [{"pipeline_id": "lake", "first": "2026-02-10", "last": "2026-02-12"}],
    }


def test_json_summary_counts_refresh_and_waiting_dates() -> None:
    document = valid(fleet_plan())
    assert document["summary"] == {
        "pipelines": 5,
        "run": 2,
        "retry": 0,
        "backfill": 8,
        "refresh": 3,
        "poll": 0,
        "waiting": 20,  # revenue 1 + 7 previewed, report 2 + 3 + 7 previewed
        "gap": 6,
    }


def test_the_streamed_json_is_the_documents_json() -> None:
    """Actions and gaps are encoded from their groups (msgspec): the same objects as
    ``plan_to_dict`` lists, upstream gaps included."""
    plan = fleet_plan()
    assert json.loads(plan_to_json(plan)) == json.loads(json.dumps(plan_to_dict(plan)))


def test_saved_plans_round_trip_the_dependency_fields() -> None:
    plan = fleet_plan()
    back = plan_from_dict(json.loads(plan_to_json(plan)))
    assert back.waiting == plan.waiting
    assert list(back.gaps) == list(plan.gaps)
    assert list(back.actions) == list(plan.actions)
    assert back.summary == plan.summary


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("actions", 0, "kind"), "reload"),
        (("waiting", 0, "reason"), "sometime"),
        (("waiting", 0, "refresh"), "yes"),
        (("waiting", 0, "upstream", 0, "first"), "March"),
        (("gaps", 1, "upstream"), []),
        (("summary", "refresh"), -1),
    ],
)
def test_the_schema_refuses_malformed_dependency_fields(
    path: tuple[object, ...], value: object
) -> None:
    document = json.loads(plan_to_json(fleet_plan()))
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert plan_problems(document)


def test_the_schema_wants_upstream_on_upstream_gaps_only() -> None:
    document = json.loads(plan_to_json(fleet_plan()))
    del document["gaps"][1]["upstream"]
    assert plan_problems(document)
    document = json.loads(plan_to_json(fleet_plan()))
    document["gaps"][0]["upstream"] = document["gaps"][1]["upstream"]
    assert plan_problems(document)


# --- text and markdown ---------------------------------------------------------------------


def test_text_names_refreshes_upstream_waits_and_the_preview() -> None:
    text = render_text(fleet_plan())
    revenue = text[text.index("\nrevenue\n") :]
    assert "  ± refresh    2026-02-01..2026-02-03 (3 dates)" in revenue
    assert "  … waiting    2026-03-10  [waits for upstream orders_daily 2026-03-10]" in revenue
    assert (
        "  … waiting    2026-03-01..2026-03-07 (7 dates)  "
        "[refresh after upstream orders_daily 2026-03-01..2026-03-07]"
    ) in revenue
    assert (
        "  ! gap        2026-02-10..2026-02-12 (3 dates)  "
        "[upstream_gap: lake 2026-02-10..2026-02-12]"
    ) in text


def test_one_line_per_run_of_waiting_dates_spanning_their_upstream() -> None:
    """The planner lists a refresh preview date by date (each reads its own upstream
    date): the text joins consecutive dates and spans what they wait for."""
    plan = Plan(
        now=NOW,
        pipelines=1,
        waiting=tuple(
            Waiting(
                pipeline_id="down",
                dates=(date(2026, 3, day),),
                reason="upstream",
                upstream=(UpstreamDates("up", date(2026, 3, day), date(2026, 3, day)),),
                refresh=True,
            )
            for day in (1, 2, 3, 6)
        ),
    )
    lines = [line for line in render_text(plan).splitlines() if "[refresh after" in line]
    assert lines == [
        "  … waiting    2026-03-01..2026-03-03 (3 dates)  "
        "[refresh after upstream up 2026-03-01..2026-03-03]",
        "  … waiting    2026-03-06  [refresh after upstream up 2026-03-06]",
    ]


def test_summary_line_counts_refreshes_and_both_kinds_of_upstream_wait() -> None:
    line = summary_line(fleet_plan())
    assert "3 refresh dates" in line
    assert "3 waiting for upstream dates" in line
    assert "17 to refresh after their upstream re-runs" in line
    assert "waiting for a retry" not in line


def test_colour_gives_refreshes_their_own_colour() -> None:
    text = render_text(fleet_plan(), colour=True)
    refresh = next(line for line in text.splitlines() if "± refresh" in line)
    assert refresh.startswith("\x1b[34m")  # blue: neither a backfill's green nor a retry's


def test_markdown_has_a_refresh_column_and_names_the_upstream() -> None:
    text = render_markdown(fleet_plan())
    assert (
        "| pipeline | run | retry | backfill | refresh | poll | waiting | gap | SLA breach |"
        in text
    )
    assert "| `revenue` | 0 | 0 | 1 | 3 | 0 | 8 | 0 | 0 |" in text
    assert "| `mart` | 1 | 0 | 0 | 0 | 0 | 0 | 3 | 0 |" in text
    assert "- ± **refresh** 2026-02-01..2026-02-03 (3 dates)" in text
    assert (
        "- … **waiting** 2026-03-01..2026-03-07 (7 dates) — refresh after upstream "
        "orders_daily 2026-03-01..2026-03-07"
    ) in text


# --- the coverage strip --------------------------------------------------------------------


def test_strip_marks_refreshes_and_previews_outdated_and_held_dates_blocked() -> None:
    marks = marks_by_pipeline(fleet_plan())
    revenue = marks["revenue"]
    assert revenue[date(2026, 2, 1)] == "outdated"  # a refresh action
    assert revenue[date(2026, 3, 4)] == "outdated"  # to refresh after its upstream
    assert revenue[date(2026, 3, 10)] == "blocked"  # waits for its upstream date
    assert marks["mart"][date(2026, 2, 11)] == "blocked"  # an upstream gap
    assert marks["lake"][date(2026, 2, 11)] == "gap"


def test_strip_legend_names_the_new_marks_only_where_they_show() -> None:
    plan = fleet_plan()
    strip_of = strips_for(specs(), plan)
    revenue = strip_of(REVENUE.id)
    assert revenue is not None
    assert SYMBOLS["outdated"] in revenue and MORE_LEGEND["outdated"] in revenue
    lake = strip_of("lake")
    assert lake is not None
    assert not any(text in lake for text in MORE_LEGEND.values())
