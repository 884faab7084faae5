"""Plans rendered as text, markdown and JSON, from hand-built ``Plan`` values."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from plan_documents import expanded_and_checked

from reconciler.core.plan import (
    Action,
    ActionList,
    ConfigChange,
    Gap,
    GapList,
    Plan,
    SlaBreach,
    Waiting,
)
from reconciler.render.dates import compress, expand, format_dates, format_run
from reconciler.render.plan_json import plan_from_dict, plan_to_dict, plan_to_json
from reconciler.render.plan_json_v2 import plan_to_v2_dict
from reconciler.render.plan_markdown import LIMIT, render_markdown
from reconciler.render.plan_schema import PLAN_SCHEMA, SCHEMA_FILE, plan_problems, plan_schema_text
from reconciler.render.plan_text import render_text
from reconciler.render.plan_view import summary_line

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2024, 4, 2, 6, 0, tzinfo=UTC)
ANSI = re.compile(r"\x1b\[")


def days(first: str, count: int) -> tuple[date, ...]:
    start = date.fromisoformat(first)
    return tuple(start + timedelta(days=i) for i in range(count))


def valid(text_or_plan: str | Plan) -> dict[str, object]:
    """The JSON document, checked against the published schema."""
    if isinstance(text_or_plan, Plan):
        return expanded_and_checked(plan_to_json(text_or_plan), text_or_plan)
    document = json.loads(text_or_plan)
    assert plan_problems(document) == []
    return dict(document)


EXAMPLE = Plan(
    now=NOW,
    pipelines=3,
    config_changes=(
        ConfigChange("orders_daily", "update", {"retry.max_retries": (3, 5)}),
        ConfigChange("new_one", "create"),
        ConfigChange("old_one", "delete"),
    ),
    actions=ActionList.of(
        [
            Action("orders_daily", "poll", days("2024-03-30", 1), run_id="run-7"),
            Action("orders_daily", "retry", days("2024-03-28", 1), attempt=2),
            Action("events", "retry", days("2024-03-29", 1), attempt=3),
            Action("orders_daily", "run", days("2024-04-01", 1)),
            Action(
                "orders_daily", "backfill", days("2024-03-01", 30), 10, 1, "fix-1", "dedupe bug"
            ),
            Action("orders_daily", "notify", days("2024-03-31", 1), event="sla_breach"),
        ]
    ),
    waiting=(
        Waiting(
            pipeline_id="events",
            dates=days("2024-03-27", 1),
            next_retry_at=NOW + timedelta(minutes=5),
            attempt=2,
        ),
    ),
    gaps=GapList.of([Gap("events", days("2024-03-20", 3), "retries_exhausted")]),
    sla_breaches=(SlaBreach("orders_daily", date(2024, 3, 31), NOW - timedelta(days=1)),),
)


# --- text ----------------------------------------------------------------------------------


def test_text_groups_by_pipeline_compresses_dates_and_sums_up() -> None:
    text = render_text(EXAMPLE)
    assert text.splitlines()[-1] == (
        "Plan: 1 run, 30 backfill dates, 2 retries, 1 poll, 3 gaps, 1 SLA breach, "
        "1 notification, 1 waiting for a retry; config: 1 to create, 1 to update, 1 to delete."
    )
    assert "2024-03-01..2024-03-30 (30 dates)" in text
    assert "  ~ orders_daily (update)" in text
    assert "      retry.max_retries: 3 -> 5" in text
    assert "  - old_one (delete; stops it, keeps its history)" in text
    assert text.index("\nevents\n") < text.index("\norders_daily\n")
    assert "request fix-1, priority 10: dedupe bug" in text
    assert "retries_exhausted" in text and "run run-7" in text
    assert not ANSI.search(text)


def test_text_summary_line_reads_like_the_issue() -> None:
    plan = Plan(
        now=NOW,
        pipelines=2,
        actions=ActionList.of(
            [
                Action("a", "retry", days("2024-03-01", 1), attempt=2),
                Action("a", "retry", days("2024-03-02", 1), attempt=2),
                Action("a", "run", days("2024-04-01", 1)),
                Action("b", "backfill", days("2024-01-01", 30)),
            ]
        ),
        gaps=GapList.of([Gap("b", days("2024-02-01", 3), "auto_backfill_disabled")]),
        sla_breaches=(SlaBreach("a", date(2024, 3, 31), NOW),),
    )
    assert summary_line(plan) == "Plan: 1 run, 30 backfill dates, 2 retries, 3 gaps, 1 SLA breach."
    valid(plan)


def test_singulars_and_nothing_to_do() -> None:
    one = Plan(
        now=NOW,
        pipelines=1,
        actions=ActionList.of([Action("a", "backfill", days("2024-01-01", 1))]),
    )
    assert summary_line(one) == "Plan: 0 runs, 1 backfill date, 0 retries, 0 gaps, 0 SLA breaches."
    empty = Plan(now=NOW, pipelines=1)
    assert summary_line(empty) == "No changes. Coverage is complete and nothing is due."
    assert render_text(empty).endswith("No changes. Coverage is complete and nothing is due.\n")


def test_colour_only_when_asked() -> None:
    assert ANSI.search(render_text(EXAMPLE, colour=True))
    assert not ANSI.search(render_text(EXAMPLE, colour=False))


def test_weekly_dates_compress_with_the_schedule_adjacency() -> None:
    mondays = tuple(date(2024, 1, 1) + timedelta(weeks=i) for i in range(5))
    plan = Plan(now=NOW, pipelines=1, actions=ActionList.of([Action("w", "backfill", mondays)]))
    weekly = {"w": lambda d: d + timedelta(weeks=1)}
    assert "2024-01-01..2024-01-29 (5 dates)" in render_text(plan, weekly)
    assert "2024-01-01, 2024-01-08" in render_text(plan)


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        ([], ""),
        (days("2024-03-01", 1), "2024-03-01"),
        (days("2024-03-01", 31), "2024-03-01..2024-03-31 (31 dates)"),
        (
            days("2024-02-28", 2) + days("2024-03-02", 1),
            "2024-02-28..2024-02-29 (2 dates), 2024-03-02",
        ),
        (
            tuple(date(2024, 1, 1) + timedelta(days=2 * i) for i in range(8)),
            "2024-01-01, 2024-01-03, 2024-01-05, 2024-01-07, 2024-01-09, 2024-01-11, "
            "+2 more dates in 2 runs",
        ),
    ],
    ids=["none", "one", "month", "leap", "limit"],
)
def test_format_dates(dates: tuple[date, ...], expected: str) -> None:
    assert format_dates(dates) == expected


def test_compress_dedupes_sorts_and_expand_refuses_a_wrong_count() -> None:
    runs = compress([date(2024, 1, 3), date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 2)])
    assert runs == [(date(2024, 1, 1), date(2024, 1, 3), 3)]
    assert format_run(runs[0]) == "2024-01-01..2024-01-03 (3 dates)"
    assert expand(runs) == list(days("2024-01-01", 3))
    with pytest.raises(ValueError, match="does not hold"):
        expand([(date(2024, 1, 1), date(2024, 1, 5), 3)])


# --- JSON ----------------------------------------------------------------------------------


def test_json_has_exactly_the_spec_shape() -> None:
    document = valid(EXAMPLE)
    assert list(document) == [
        "format_version",
        "now",
        "config_changes",
        "actions",
        "waiting",
        "gaps",
        "sla_breaches",
        "summary",
    ]
    assert document["now"] == "2024-04-02T06:00:00+00:00"
    assert document["config_changes"] == [
        {
            "pipeline_id": "orders_daily",
            "change": "update",
            "fields": {"retry.max_retries": [3, 5]},
        },
        {"pipeline_id": "new_one", "change": "create", "fields": {}},
        {"pipeline_id": "old_one", "change": "delete", "fields": {}},
    ]
    actions = document["actions"]
    assert isinstance(actions, list)
    assert actions[4] == {
        "pipeline_id": "orders_daily",
        "kind": "backfill",
        "dates": [d.isoformat() for d in days("2024-03-01", 30)],
        "priority": 10,
        "attempt": 1,
        "request_id": "fix-1",
        "reason": "dedupe bug",
    }
    assert actions[0]["run_id"] == "run-7" and actions[5]["event"] == "sla_breach"
    assert document["waiting"] == [
        {
            "pipeline_id": "events",
            "dates": ["2024-03-27"],
            "reason": "retry",
            "next_retry_at": "2024-04-02T06:05:00+00:00",
            "attempt": 2,
            "upstream": [],
            "refresh": False,
        }
    ]
    assert document["sla_breaches"] == [
        {
            "pipeline_id": "orders_daily",
            "date": "2024-03-31",
            "deadline": "2024-04-01T06:00:00+00:00",
        }
    ]
    assert document["summary"] == {
        "pipelines": 3,
        "run": 1,
        "retry": 2,
        "backfill": 30,
        "refresh": 0,
        "poll": 1,
        "waiting": 1,
        "gap": 3,
    }


def test_json_round_trips_and_refuses_other_versions() -> None:
    assert plan_from_dict(plan_to_dict(EXAMPLE)) == EXAMPLE
    # a plan saved in the expanded form of version 2 is still read
    assert plan_from_dict(plan_to_v2_dict(EXAMPLE)) == EXAMPLE
    with pytest.raises(ValueError, match="format_version 4"):
        plan_from_dict({**plan_to_dict(EXAMPLE), "format_version": 4})
    with pytest.raises(ValueError, match=r"format_version 1.*re-run `reconciler plan --out"):
        plan_from_dict({**plan_to_dict(EXAMPLE), "format_version": 1})


def test_json_writes_dates_of_config_values_as_text() -> None:
    change = ConfigChange("a", "update", {"schedule.start": (date(2024, 1, 1), "2024-02-01")})
    document = valid(Plan(now=NOW, pipelines=1, config_changes=(change,)))
    assert document["config_changes"] == [
        {
            "pipeline_id": "a",
            "change": "update",
            "fields": {"schedule.start": ["2024-01-01", "2024-02-01"]},
        }
    ]


# --- the schema ----------------------------------------------------------------------------


def test_schema_is_draft7_and_committed() -> None:
    Draft7Validator.check_schema(PLAN_SCHEMA)
    assert (ROOT / "schemas" / SCHEMA_FILE).read_text(encoding="utf-8") == plan_schema_text()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("actions", 0, "kind"), "rerun"),
        (("actions", 0, "ranges", 0, 0), "2024/03/01"),
        (("actions", 0, "every"), 0),
        (("actions", 0, "order"), "random"),
        (("actions", 0, "surprise"), 1),
        (("gaps", 0, "reason"), "because"),
        (("summary", "run"), -1),
        (("format_version",), 1),
        (("waiting", 0, "reason"), "later"),
        (("waiting", 0, "upstream"), [{"pipeline_id": "up", "first": "2024-03-01"}]),
        (("gaps", 0, "upstream"), [{"pipeline_id": "up", "first": "x", "last": "x"}]),
        (("gaps", 0, "reason"), "upstream_gap"),
        (("now",), "yesterday"),
        (("config_changes", 0, "fields", "x"), [1]),
    ],
)
def test_schema_refuses_what_the_spec_does_not_allow(
    path: tuple[object, ...], value: object
) -> None:
    document = plan_to_dict(EXAMPLE)
    node: object = document
    for key in path[:-1]:
        node = node[key]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]
    assert plan_problems(document)


# --- markdown ------------------------------------------------------------------------------


def test_markdown_has_summary_table_and_collapsible_details() -> None:
    text = render_markdown(EXAMPLE)
    assert text.startswith("<!-- reconciler-plan -->\n### Reconciler plan\n")
    assert "| `orders_daily` | update | `retry.max_retries` | `3` | `5` |" in text
    header = "| pipeline | run | retry | backfill | refresh | poll | waiting | gap | SLA breach |"
    assert header in text
    assert "| `events` | 0 | 1 | 0 | 0 | 0 | 1 | 3 | 0 |" in text
    assert "| `orders_daily` | 1 | 1 | 30 | 0 | 1 | 0 | 0 | 1 |" in text
    assert text.count("<details>") == text.count("</details>") == 2
    assert "Cut to fit" not in text


def test_markdown_escapes_reasons_written_in_yaml() -> None:
    reason = "</details><script>x</script> | pipe"
    plan = Plan(
        now=NOW,
        pipelines=1,
        actions=ActionList.of([Action("a", "backfill", days("2024-01-01", 1), 0, 1, "r", reason)]),
    )
    text = render_markdown(plan)
    assert "<script>" not in text and "</details><script>" not in text
    assert text.count("</details>") == 1


def huge_plan(pipelines: int, with_changes: bool = False) -> Plan:
    actions, gaps = [], []
    for i in range(pipelines):
        pid = f"pipeline_with_a_long_name_{i:05d}"
        actions.append(Action(pid, "run", days("2024-04-01", 1)))
        holes = tuple(date(2023, 1, 1) + timedelta(days=3 * k) for k in range(40))
        gaps.append(Gap(pid, holes, "auto_backfill_disabled"))
    changes = (
        tuple(
            ConfigChange(a.pipeline_id, "update", {"retry.max_retries": (2, 3), "name": ("x", "y")})
            for a in actions
        )
        if with_changes
        else ()
    )
    return Plan(
        now=NOW,
        pipelines=pipelines,
        config_changes=changes,
        actions=ActionList.of(actions),
        waiting=(),
        gaps=GapList.of(gaps),
    )


@pytest.mark.parametrize(("pipelines", "with_changes"), [(400, False), (3000, False), (3000, True)])
def test_markdown_is_cut_to_fit_with_a_note(pipelines: int, with_changes: bool) -> None:
    text = render_markdown(huge_plan(pipelines, with_changes))
    assert len(text) < LIMIT
    assert "> **Cut to fit:** left out" in text
    assert "Run `reconciler plan --format json` for the full plan." in text
    assert text.count("<details>") == text.count("</details>")
    assert "**Plan: " in text  # the summary is never cut


def test_markdown_that_fits_is_not_cut() -> None:
    text = render_markdown(huge_plan(20))
    assert "Cut to fit" not in text and text.count("<details>") == 20
