"""``pause``, ``pause_reason`` and ``exclude`` in pipeline files: what the planner gets,
the errors (file, line, field; exit 1) and the warnings (printed, exit 0)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from validate_support import VALID, Outcome

from reconciler.config.loading import load_file
from reconciler.core.spec import Exclusion

Validate = Callable[[str], tuple[Path, Outcome]]
D = date.fromisoformat


def test_pause_and_exclusions_reach_the_planner(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        VALID
        + "pause: true\n"
        + 'pause_reason: "warehouse migration, until 2026-12-10"\n'
        + "exclude:\n"
        + "  - {from: 2026-03-17, to: 2026-03-19, reason: source outage INC-42}\n"
        + "  - {date: 2026-12-25}\n",
        encoding="utf-8",
    )
    loaded, problems = load_file(path)
    assert problems == [] and loaded is not None
    spec = loaded.spec
    assert spec.paused and spec.pause_reason == "warehouse migration, until 2026-12-10"
    assert spec.exclude == (
        Exclusion(first=D("2026-03-17"), last=D("2026-03-19"), reason="source outage INC-42"),
        Exclusion(first=D("2026-12-25"), last=D("2026-12-25"), reason=""),
    )


def test_the_new_keys_default_to_nothing_and_stay_out_of_the_flat_config(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(VALID, encoding="utf-8")
    loaded, _ = load_file(path)
    assert loaded is not None
    assert not loaded.spec.paused and loaded.spec.exclude == ()
    # a state synced before these keys existed sees no config change
    assert not {"pause", "pause_reason", "exclude"} & set(loaded.flat)


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ("{from: 2026-03-19, to: 2026-03-17}", "exclude[0].to", "2026-03-17 is before from"),
        ("{date: 2026-03-17, to: 2026-03-18}", "exclude[0].date", "either date or from and to"),
        ("{from: 2026-03-17}", "exclude[0]", "a range needs both from and to (to is missing)"),
        ("{reason: outage}", "exclude[0]", "give date, or from and to"),
        ("{date: 2026-03-17, why: outage}", "exclude[0].why", "unknown key 'why'"),
        ("{date: 17.03.2026}", "exclude[0].date", ""),
    ],
)
def test_a_bad_exclusion_is_an_error_at_its_line(
    validate_text: Validate, entry: str, field: str, message: str
) -> None:
    path, outcome = validate_text(VALID + f"exclude:\n  - {entry}\n")
    assert outcome.exit_code == 1
    assert len(outcome.problems) == 1, outcome.stderr
    found = outcome.problems[0]
    assert (found.file, found.line, found.field) == (str(path), 9, field)
    assert message in found.rest
    assert "Traceback" not in outcome.stderr


@pytest.mark.parametrize(
    ("text", "field"),
    [("pause: yes-please\n", "pause"), ("pause_reason: [a, b]\n", "pause_reason")],
)
def test_bad_pause_keys_are_errors(validate_text: Validate, text: str, field: str) -> None:
    _, outcome = validate_text(VALID + text)
    assert outcome.exit_code == 1
    assert [(p.line, p.field) for p in outcome.problems] == [(8, field)]


def test_doubtful_exclusions_are_warnings_and_validate_passes(validate_text: Validate) -> None:
    path, outcome = validate_text(
        VALID.replace("start: 2026-01-01", "start: 2026-01-01\n  end: 2026-12-31")
        + "exclude:\n"
        + "  - {from: 2026-03-17, to: 2026-03-19, reason: outage}\n"  # line 10
        + "  - {date: 2026-03-18, reason: inside the first}\n"  # line 11: overlaps
        + "  - {date: 2025-12-25, reason: before start}\n"  # line 12: unscheduled
        + "  - {date: 2027-01-01}\n"  # line 13: after end
        + "  - {date: 2026-07-01}\n"  # line 14: fine
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert "1 pipeline(s) in 1 file(s): valid." in outcome.stdout
    warnings = [line for line in outcome.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        f"warning: {path}:11:5: exclude[1]: 2026-03-18 overlaps exclude[0]",
        f"warning: {path}:12:5: exclude[2]: 2025-12-25 holds no scheduled date of the pipeline: "
        "it excludes nothing",
        f"warning: {path}:13:5: exclude[3]: 2027-01-01 holds no scheduled date of the pipeline: "
        "it excludes nothing",
    ]


def test_an_exclusion_of_a_weekly_schedule_without_its_weekday_warns(
    validate_text: Validate,
) -> None:
    weekly = VALID.replace("type: daily", "type: weekly\n  days: [sun]")
    _, outcome = validate_text(weekly + "exclude:\n  - {from: 2026-03-16, to: 2026-03-21}\n")
    assert outcome.exit_code == 0
    assert "exclude[0]: 2026-03-16..2026-03-21 holds no scheduled date" in outcome.stderr


def test_on_github_a_warning_is_also_an_annotation(tmp_path: Path) -> None:
    from validate_support import run_validate

    path = tmp_path / "p.yaml"
    path.write_text(VALID + "exclude:\n  - {date: 2025-12-25}\n", encoding="utf-8")
    outcome = run_validate(str(path), env={"GITHUB_ACTIONS": "true"})
    assert outcome.exit_code == 0
    assert f"::warning file={path},line=9,col=5,title=reconciler validate::exclude[0]: " in (
        outcome.stdout
    )
