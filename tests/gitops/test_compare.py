"""``plan --compare-to``: what a change does, per pipeline and kind, against the base config."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.gitops.helpers import NOW, days, document, import_rows, invoke, pipeline

RETRY = "retry:\n  schedule: every 1 minute\n  max_retries: {n}\n"
REQUEST = (
    "backfill:\n  requests:\n"
    "    - {id: reprocess-2024-03, from: 2024-03-01, to: 2024-03-31, priority: 10,"
    ' reason: "dedupe fix"}\n'
)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(base config, head config, state path): orders_daily and legacy on both sides."""
    base, head = tmp_path / "base", tmp_path / "head"
    for config in (base, head):
        pipeline(config, "orders_daily", "2024-01-01")
        pipeline(config, "legacy", "2024-03-01")
    return base, head, tmp_path / "state" / "state.duckdb"


def compare(base: Path, head: Path, state: Path, *more: str) -> tuple[int, str]:
    result = invoke(
        [
            "plan",
            "--config-dir",
            str(head),
            "--state",
            str(state),
            "--now",
            NOW,
            "--compare-to",
            str(base),
            *more,
        ]
    )
    return result.exit_code, result.output


def compare_json(base: Path, head: Path, state: Path) -> dict:
    code, out = compare(base, head, state, "--format", "json")
    assert code == 0, out
    return document(out)


def deltas(doc: dict) -> dict[tuple[str, str, str | None], tuple[int, int]]:
    return {
        (d["pipeline_id"], d["kind"], d["request_id"]): (len(d["added"]), len(d["removed"]))
        for d in doc["compare"]["dates"]
    }


def test_moving_start_back_adds_a_year_of_backfill(dirs: tuple[Path, Path, Path]) -> None:
    base, head, state = dirs
    pipeline(head, "orders_daily", "2023-01-01")
    code, out = compare(base, head, state)
    assert code == 0, out
    assert (
        "+365 backfill dates because schedule.start moved from 2024-01-01 to 2023-01-01: "
        "2023-01-01..2023-12-31 (365 dates)"
    ) in out
    assert 'schedule.start: "2024-01-01" -> "2023-01-01"' in out
    doc = compare_json(base, head, state)
    assert deltas(doc) == {("orders_daily", "backfill", None): (365, 0)}
    assert doc["compare"]["config_changes"] == [
        {
            "pipeline_id": "orders_daily",
            "change": "update",
            "fields": {"schedule.start": ["2024-01-01", "2023-01-01"]},
        }
    ]
    assert doc["compare"]["summary"] == {
        "added": 365,
        "removed": 0,
        "new_dates": 365,
        "declared": 0,
        "undeclared": 365,
        "refresh": 0,
    }
    # the plan document is intact: the same keys as without --compare-to
    plain = invoke(["plan", "--config-dir", str(head), "--state", str(state), "--now", NOW])
    plain_doc = document(
        invoke(
            [
                "plan",
                "--config-dir",
                str(head),
                "--state",
                str(state),
                "--now",
                NOW,
                "--format",
                "json",
            ]
        ).output
    )
    assert plain.exit_code == 0
    assert {k: v for k, v in doc.items() if k != "compare"} == plain_doc


def test_moving_start_forward_removes_dates(dirs: tuple[Path, Path, Path]) -> None:
    base, head, state = dirs
    pipeline(head, "orders_daily", "2024-03-01")
    doc = compare_json(base, head, state)
    assert deltas(doc) == {("orders_daily", "backfill", None): (0, 60)}
    assert doc["compare"]["summary"]["new_dates"] == 0


def test_adding_a_request_reruns_covered_dates(dirs: tuple[Path, Path, Path]) -> None:
    base, head, state = dirs
    # March is covered already: without the request the plan has nothing for it
    import_rows(base, state, [("orders_daily", d, "success") for d in days("2024-01-01", 91)], NOW)
    pipeline(head, "orders_daily", "2024-01-01", extra=REQUEST)
    code, out = compare(base, head, state)
    assert code == 0, out
    assert (
        "added request reprocess-2024-03: 2024-03-01..2024-03-31, priority 10 (dedupe fix)" in out
    )
    assert (
        "+31 backfill dates from request reprocess-2024-03, added by this change: "
        "2024-03-01..2024-03-31 (31 dates)"
    ) in out
    doc = compare_json(base, head, state)
    assert deltas(doc) == {("orders_daily", "backfill", "reprocess-2024-03"): (31, 0)}
    [entry] = doc["compare"]["dates"]
    assert entry["declared"] is True
    assert doc["compare"]["requests"] == [
        {
            "pipeline_id": "orders_daily",
            "request_id": "reprocess-2024-03",
            "change": "added",
            "old": None,
            "new": {
                "from": "2024-03-01",
                "to": "2024-03-31",
                "priority": 10,
                "reason": "dedupe fix",
            },
        }
    ]
    # the requests list is shown request by request, not as one changed field
    assert doc["compare"]["config_changes"] == []
    assert doc["compare"]["summary"]["undeclared"] == 0


def test_request_over_dates_already_planned_moves_them_not_adds(
    dirs: tuple[Path, Path, Path],
) -> None:
    base, head, state = dirs  # empty state: March is an auto backfill on both sides
    pipeline(head, "orders_daily", "2024-01-01", extra=REQUEST)
    doc = compare_json(base, head, state)
    assert deltas(doc) == {}
    assert [r["change"] for r in doc["compare"]["requests"]] == ["added"]


def test_changing_retries_turns_gaps_into_retries(dirs: tuple[Path, Path, Path]) -> None:
    base, head, state = dirs
    pipeline(base, "orders_daily", "2024-01-01", extra=RETRY.format(n=0))
    pipeline(head, "orders_daily", "2024-01-01", extra=RETRY.format(n=3))
    rows = [("orders_daily", d, "success") for d in days("2024-01-01", 91)]
    rows[-5:] = [("orders_daily", d, "failed") for _, d, _ in rows[-5:]]
    import_rows(base, state, rows, "2024-04-01T05:00:00")
    code, out = compare(base, head, state)
    assert code == 0, out
    assert "retry.max_retries: 0 -> 3" in out
    assert "+5 retry dates because retry.max_retries changed from 0 to 3" in out
    assert "-5 gap dates because retry.max_retries changed from 0 to 3" in out
    doc = compare_json(base, head, state)
    assert deltas(doc) == {
        ("orders_daily", "retry", None): (5, 0),
        ("orders_daily", "gap", None): (0, 5),
    }
    assert doc["compare"]["summary"]["new_dates"] == 5


def test_deleting_a_pipeline(dirs: tuple[Path, Path, Path]) -> None:
    base, head, state = dirs
    (head / "legacy.yaml").unlink()
    code, out = compare(base, head, state)
    assert code == 0, out
    assert "  - legacy (delete)" in out
    assert "-1 run date because the pipeline is deleted: 2024-04-01" in out
    assert "-31 backfill dates because the pipeline is deleted" in out
    doc = compare_json(base, head, state)
    assert doc["compare"]["config_changes"] == [
        {"pipeline_id": "legacy", "change": "delete", "fields": {}}
    ]
    assert deltas(doc) == {("legacy", "run", None): (0, 1), ("legacy", "backfill", None): (0, 31)}


def test_adding_a_pipeline_and_a_missing_base(
    dirs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    base, head, state = dirs
    pipeline(head, "events", "2024-03-30")
    doc = compare_json(base, head, state)
    assert deltas(doc) == {("events", "run", None): (1, 0), ("events", "backfill", None): (2, 0)}
    code, out = compare(tmp_path / "nowhere", head, state)
    assert code == 0, out
    assert "(not found: compared with an empty config)" in out
    assert "because the pipeline is new" in out


def test_no_difference(dirs: tuple[Path, Path, Path]) -> None:
    base, head, state = dirs
    code, out = compare(base, head, state)
    assert code == 0
    assert "No difference: the plan is the same with and without this change." in out


def test_invalid_base_is_one_clear_error(dirs: tuple[Path, Path, Path]) -> None:
    base, head, state = dirs
    (base / "legacy.yaml").write_text("id: legacy\n", encoding="utf-8")
    code, out = compare(base, head, state)
    assert code == 1
    assert f"Error: --compare-to {base}: the base config is invalid" in out
    assert "Traceback" not in out


def test_markdown_shows_the_change_under_the_headline(dirs: tuple[Path, Path, Path]) -> None:
    base, head, state = dirs
    pipeline(head, "orders_daily", "2023-01-01")
    code, out = compare(base, head, state, "--format", "markdown", "--compare-name", "main")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "<!-- reconciler-plan -->"
    section = lines.index("#### What this change does (against `main`)")
    assert section < lines.index(
        "| pipeline | run | retry | backfill | refresh | poll | waiting | gap | SLA breach |"
    )
    assert (
        "- **+365** backfill dates for `orders_daily` because schedule.start moved from "
        "2024-01-01 to 2023-01-01 — 2023-01-01..2023-12-31 (365 dates)"
    ) in lines
    assert (
        '| `orders_daily` | update | `schedule.start` | `"2024-01-01"` | `"2023-01-01"` |' in lines
    )


def test_pipeline_filter_applies_to_both_sides(dirs: tuple[Path, Path, Path]) -> None:
    base, head, state = dirs
    pipeline(head, "orders_daily", "2023-01-01")
    pipeline(head, "events", "2024-03-30")
    code, out = compare(base, head, state, "--pipeline", "events", "--format", "json")
    assert code == 0, out
    doc = document(out)
    assert {d["pipeline_id"] for d in doc["compare"]["dates"]} == {"events"}


def test_base_copy_of_head_is_no_change(dirs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _base, head, state = dirs
    copy = tmp_path / "copy"
    shutil.copytree(head, copy)
    doc = compare_json(copy, head, state)
    assert doc["compare"]["dates"] == [] and doc["compare"]["config_changes"] == []
