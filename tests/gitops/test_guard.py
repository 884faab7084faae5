"""The mass-backfill guard: ``plan --compare-to BASE --max-new-dates N``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitops.helpers import NOW, document, invoke, pipeline

REQUEST_2023 = (
    "backfill:\n  requests:\n"
    '    - {id: history-2023, from: 2023-01-01, to: 2023-12-31, reason: "approved in #7"}\n'
)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    base, head = tmp_path / "base", tmp_path / "head"
    pipeline(base, "orders_daily", "2024-01-01")
    pipeline(head, "orders_daily", "2023-01-01")  # +365 dates to run
    return base, head, tmp_path / "state.duckdb"


def guarded(base: Path, head: Path, state: Path, limit: int, *more: str, **env: str):  # type: ignore[no-untyped-def]
    return invoke(
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
            "--max-new-dates",
            str(limit),
            *more,
        ],
        **env,
    )


def test_over_the_limit_fails_with_a_clear_message(dirs: tuple[Path, Path, Path]) -> None:
    result = guarded(*dirs, 100)
    assert result.exit_code == 1
    assert (
        "Error: this change adds 365 date(s) to run, more than --max-new-dates 100 "
        "(+365 backfill dates for orders_daily because schedule.start moved from 2024-01-01 "
        "to 2023-01-01); declare them as a backfill request"
    ) in result.output
    # the plan itself is still shown, and says why
    assert "Change against" in result.output
    assert "  ! guard: this change adds 365 date(s)" in result.output


def test_under_or_at_the_limit_passes(dirs: tuple[Path, Path, Path]) -> None:
    assert guarded(*dirs, 365).exit_code == 0
    assert guarded(*dirs, 1000).exit_code == 0


def test_dates_declared_as_a_request_pass(dirs: tuple[Path, Path, Path]) -> None:
    base, head, state = dirs
    pipeline(head, "orders_daily", "2023-01-01", extra=REQUEST_2023)
    result = guarded(base, head, state, 10, "--format", "json")
    assert result.exit_code == 0, result.output
    summary = document(result.output)["compare"]["summary"]
    assert summary == {
        "added": 365,
        "removed": 0,
        "new_dates": 365,
        "declared": 365,
        "undeclared": 0,
        "refresh": 0,
    }


def test_a_request_covering_only_part_still_trips(dirs: tuple[Path, Path, Path]) -> None:
    base, head, state = dirs
    partial = REQUEST_2023.replace("from: 2023-01-01", "from: 2023-07-01")
    pipeline(head, "orders_daily", "2023-01-01", extra=partial)
    result = guarded(base, head, state, 100)
    assert result.exit_code == 1
    assert "this change adds 181 date(s) to run" in result.output


def test_guard_in_markdown_and_annotations(dirs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    result = guarded(
        *dirs, 100, "--format", "markdown", GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary)
    )
    assert result.exit_code == 1
    assert "> **Mass-backfill guard:** this change adds 365 date(s)" in result.output
    assert "**Mass-backfill guard:**" in summary.read_text()
    [annotation] = [line for line in result.output.splitlines() if line.startswith("::error")]
    head_file = str(dirs[1] / "orders_daily.yaml").replace(":", "%3A").replace(",", "%2C")
    assert annotation.startswith(f"::error file={head_file},line=7,col=10,")
    assert "title=mass-backfill guard (--max-new-dates 100)::+365 backfill dates" in annotation


def test_guard_needs_compare_to(tmp_path: Path) -> None:
    pipeline(tmp_path / "c", "orders_daily")
    result = invoke(["plan", "--config-dir", str(tmp_path / "c"), "--max-new-dates", "1"])
    assert result.exit_code == 1
    assert "--max-new-dates counts the dates a change adds: give --compare-to" in result.output


def test_removed_dates_never_trip(dirs: tuple[Path, Path, Path]) -> None:
    base, head, state = dirs
    # the reverse change: a year fewer dates
    assert guarded(head, base, state, 0).exit_code == 0
