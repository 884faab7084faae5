"""Under GitHub Actions, no user-derived text can print a workflow command.

The runner reads every output line: one that starts with ``::`` is a command, and so is
``##[command]`` anywhere. File names and values with newlines must not start such a
line, and only the ``::error`` annotations reconciler means to print may be commands.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from validate_support import VALID, run_validate

from reconciler.line_safety import safe_line

INJECTED = "\n::warning file=INJECTED::pwned"


def command_lines(output: str) -> list[str]:
    """The lines the Actions runner would take as workflow commands."""
    return [
        line
        for line in output.splitlines()
        if line.lstrip().startswith("::") or "##[" in line.replace("##\\[", "")
    ]


def assert_only_our_annotations(output: str) -> None:
    commands = command_lines(output)
    assert commands, output  # the annotations themselves are still there
    for line in commands:
        assert line.startswith("::error file="), line


def test_a_file_name_with_a_newline_prints_no_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "pipelines.d"
    config.mkdir()
    (config / f"p{INJECTED}.yaml").write_text("id: [\n")
    outcome = run_validate("--config-dir", str(config), env={"GITHUB_ACTIONS": "true"})
    assert outcome.exit_code == 1
    assert_only_our_annotations(outcome.stdout + outcome.stderr)
    # the name is still recognisable, its newline shown as \n
    assert "p\\n::warning file=INJECTED::pwned.yaml:2:1: invalid YAML" in outcome.stderr


def test_a_relative_file_name_that_starts_like_a_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("::warning file=INJECTED::pwned.yaml").write_text("id: [\n")
    outcome = run_validate("::warning file=INJECTED::pwned.yaml", env={"GITHUB_ACTIONS": "true"})
    assert outcome.exit_code == 1
    assert_only_our_annotations(outcome.stdout + outcome.stderr)


def test_a_config_dir_with_a_newline_in_the_error_line(tmp_path: Path) -> None:
    config = tmp_path / f"empty{INJECTED}"
    config.mkdir()
    outcome = run_validate("--config-dir", str(config), env={"GITHUB_ACTIONS": "true"})
    assert outcome.exit_code == 1
    assert command_lines(outcome.stdout + outcome.stderr) == []
    assert "Error: no pipeline files" in outcome.stderr


def test_a_name_or_reason_with_a_newline_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    text = VALID.replace(
        "platform: local", f"platform: local\nname: {INJECTED!r}".replace("'", '"')
    )
    text += "backfill:\n  requests:\n    - {id: r1, from: 2026-01-01, to: 2026-01-02, "
    text += "reason: '##[warning]x'}\n"
    path.write_text(text)
    outcome = run_validate(str(path), env={"GITHUB_ACTIONS": "true"})
    assert outcome.exit_code == 1
    assert [p.field for p in outcome.problems] == ["name"]
    assert_only_our_annotations(outcome.stdout + outcome.stderr)


@pytest.mark.parametrize(
    "text, shown",
    [
        ("a\nb", "a\\nb"),
        ("a\r\n::x", "a\\r\\n::x"),
        ("  ::warning::x", "\\  ::warning::x"),
        ("x ##[error]y", "x ##\\[error]y"),
        ("tab\there\x1b[31m\u2028", "tab\\there\\x1b[31m\\u2028"),
        ("plain text: fine", "plain text: fine"),
    ],
)
def test_safe_line(text: str, shown: str) -> None:
    assert safe_line(text) == shown
