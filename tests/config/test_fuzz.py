"""Fuzz: random damage to valid pipeline files gives problems or pipelines, never a crash."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import main
from reconciler.config.loading import load_files
from reconciler.config.yaml_source import parse_yaml

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = sorted(
    [
        *ROOT.glob("pipelines.d/*.yaml"),
        *ROOT.glob("examples/pipelines/*.yaml"),
        *FIXTURES.glob("good_*.yaml"),
    ]
)
TEXTS = [path.read_text(encoding="utf-8") for path in SOURCES]
KEY_VALUE = re.compile(r"^(\s*(?:- )?[\w-]+:\s)(.+)$")
WRONG_VALUES = [
    "[1, 2]",
    "{a: b}",
    "42",
    "-1",
    "0",
    "1.5",
    "true",
    "null",
    "''",
    "2026-02-30",
    "2026-01-01 10:00:00",
    '"{oops}"',
    '"{date"',
    "&anchor x",
    "*undefined",
    "!!binary aGk=",
    "!custom x",
    "dapi0123456789abcdef0123456789abcdef",
    "http://example.com/x",
    "|\n  block",
    "'unterminated",
    "[unclosed",
]


@st.composite
def damaged(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 3))):
        lines = text.splitlines(keepends=True) or [""]
        index = draw(st.integers(0, len(lines) - 1))
        operation = draw(
            st.sampled_from(
                ["delete", "swap", "wrong_type", "indent", "truncate", "duplicate", "insert"]
            )
        )
        if operation == "delete":
            del lines[index]
        elif operation == "swap":
            pairs = [(i, m) for i, line in enumerate(lines) if (m := KEY_VALUE.match(line))]
            if len(pairs) >= 2:
                (i, a), (j, b) = draw(st.lists(st.sampled_from(pairs), min_size=2, max_size=2))
                lines[i] = f"{a.group(1)}{b.group(2)}\n"
                lines[j] = f"{b.group(1)}{a.group(2)}\n"
        elif operation == "wrong_type":
            match = KEY_VALUE.match(lines[index])
            if match:
                lines[index] = f"{match.group(1)}{draw(st.sampled_from(WRONG_VALUES))}\n"
        elif operation == "indent":
            line = lines[index]
            change = draw(st.sampled_from(["more", "less", "tab", "flush"]))
            if change == "more":
                lines[index] = " " * draw(st.integers(1, 5)) + line
            elif change == "less":
                lines[index] = line[draw(st.integers(1, 4)) :] if line.startswith(" ") else line
            elif change == "tab":
                lines[index] = "\t" + line
            else:
                lines[index] = line.lstrip(" ")
        elif operation == "truncate":
            text = "".join(lines)
            text = text[: draw(st.integers(0, len(text)))]
            continue
        elif operation == "duplicate":
            lines.insert(index, lines[index])
        else:
            junk = draw(st.text(st.sampled_from(list(":-[]{}&*!|>'\"#%@`, \n\tab1")), max_size=8))
            lines.insert(index, junk)
        text = "".join(lines)
    return text


def assert_modes_agree(text: str) -> None:
    """The quick parse (no positions) reads the same data, and fails the same way."""
    outcomes = []
    for positions in (True, False):
        try:
            doc = parse_yaml(text, positions=positions)
        except yaml.YAMLError as exc:
            outcomes.append(("error", str(exc)))
        else:
            outcomes.append(("data", repr(doc.data), bool(doc.issues)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.skipif(not TEXTS, reason="no valid pipeline files to damage")
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=damaged())
def test_damaged_files_never_crash(tmp_path: Path, text: str) -> None:
    path = tmp_path / "damaged.yaml"
    path.write_text(text, encoding="utf-8")
    loaded, problems = load_files([path])  # must not raise
    assert bool(loaded) != bool(problems)
    for problem in problems:
        assert problem.file == str(path)
        assert problem.line >= 1 and problem.col >= 1
        assert problem.message
    assert_modes_agree(text)
    result = CliRunner().invoke(main, ["validate", str(path)], env={"GITHUB_ACTIONS": "true"})
    output = result.stdout + result.stderr
    assert result.exit_code == (1 if problems else 0), output
    assert "Traceback" not in output
    assert "internal error" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit)
