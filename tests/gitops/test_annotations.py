"""GitHub annotations from ``validate`` and ``plan``: escaped as workflow commands require."""

from __future__ import annotations

from pathlib import Path

from reconciler.errors import Problem
from reconciler.render.annotations import error_annotation
from tests.gitops.helpers import NOW, invoke, pipeline

ODD_DIR = "team:a,b 100%"  # a directory name with every character a property must escape


def escaped(path: Path) -> str:
    return str(path).replace("%", "%25").replace(":", "%3A").replace(",", "%2C")


def annotations(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("::")]


def bad_file(tmp_path: Path) -> Path:
    config = tmp_path / ODD_DIR
    config.mkdir()
    path = config / "orders.yaml"
    # an id that breaks the pattern: the message quotes it, % included
    path.write_text(
        'id: "Orders 100%"\nplatform: local\ntrigger:\n  command: [x]\n'
        "schedule:\n  type: daily\n  start: 2024-01-01\n",
        encoding="utf-8",
    )
    return path


def test_validate_escapes_paths_and_messages(tmp_path: Path) -> None:
    path = bad_file(tmp_path)
    result = invoke(["validate", "--config-dir", str(path.parent)], GITHUB_ACTIONS="true")
    assert result.exit_code == 1
    [line] = annotations(result.output)
    assert line.startswith(f"::error file={escaped(path)},line=1,col=5,title=reconciler validate::")
    message = line.split("::", 2)[2]
    assert "100%25" in message and "100%" not in message.replace("%25", "")
    # the plain line for people is not escaped
    assert f"{path}:1:5: id:" in result.output


def test_validate_without_github_prints_no_annotations(tmp_path: Path) -> None:
    path = bad_file(tmp_path)
    result = invoke(["validate", "--config-dir", str(path.parent)])
    assert annotations(result.output) == []


def test_plan_escapes_paths_and_messages(tmp_path: Path) -> None:
    path = bad_file(tmp_path)
    result = invoke(
        ["plan", "--config-dir", str(path.parent), "--state", str(tmp_path / "s.db"), "--now", NOW],
        GITHUB_ACTIONS="true",
    )
    assert result.exit_code == 1
    [line] = annotations(result.output)
    assert line.startswith(f"::error file={escaped(path)},line=1,col=5,title=reconciler::")
    assert "100%25" in line


def test_plan_guard_annotation_escapes_the_file(tmp_path: Path) -> None:
    base, head = tmp_path / "base", tmp_path / ODD_DIR
    pipeline(base, "orders_daily", "2024-01-01")
    path = pipeline(head, "orders_daily", "2023-01-01")
    result = invoke(
        [
            "plan",
            "--config-dir",
            str(head),
            "--state",
            str(tmp_path / "s.db"),
            "--now",
            NOW,
            "--compare-to",
            str(base),
            "--max-new-dates",
            "5",
        ],
        GITHUB_ACTIONS="true",
    )
    assert result.exit_code == 1
    [line] = annotations(result.output)
    assert line.startswith(f"::error file={escaped(path)},line=7,col=10,")
    assert "title=mass-backfill guard (--max-new-dates 5)::+365 backfill dates" in line


def test_newlines_and_carriage_returns_stay_on_one_line() -> None:
    problem = Problem(
        file="a:b,c%/p.yaml",
        line=3,
        col=4,
        message="first line\r\nsecond 50%",
        field="schedule.start",
    )
    line = error_annotation(problem)
    assert "\n" not in line and "\r" not in line
    assert line == (
        "::error file=a%3Ab%2Cc%25/p.yaml,line=3,col=4,title=reconciler validate::"
        "schedule.start: first line%0D%0Asecond 50%25"
    )
    titled = error_annotation(Problem(file="p.yaml", line=1, col=1, message="m"), "plan: a, b")
    assert "title=plan%3A a%2C b::m" in titled
