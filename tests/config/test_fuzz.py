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
from reconciler.config.loading import load_files, load_some_files
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
    # validate FILE also checks its depends_on against the config directory (none here)
    no_config = tmp_path / "no-config"
    _, all_problems = load_some_files([path], no_config)
    assert set(problems) <= set(all_problems)
    result = CliRunner().invoke(
        main,
        ["validate", "--config-dir", str(no_config), str(path)],
        env={"GITHUB_ACTIONS": "true"},
    )
    output = result.stdout + result.stderr
    assert result.exit_code == (1 if all_problems else 0), output
    assert "Traceback" not in output
    assert "internal error" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- the regression corpus: files that once validated and then crashed a pass, or hung
# validation, or echoed what they should not --------------------------------------------

CORPUS = sorted((FIXTURES / "corpus").glob("*.yaml"))
PLAIN = """\
id: plain
platform: local
trigger: {command: ["true"]}
schedule: {type: daily, start: 2026-01-01}
"""


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_file_is_refused_with_problem_lines(tmp_path: Path, path: Path) -> None:
    config = tmp_path / "pipelines.d"
    config.mkdir()
    (config / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (config / "plain.yaml").write_text(PLAIN)
    env = {"GITHUB_ACTIONS": "true", "RECONCILER_CACHE_DIR": "off"}
    state = str(tmp_path / "state.duckdb")
    runner = CliRunner()
    for args in (
        ["validate", "--config-dir", str(config)],
        ["plan", "--config-dir", str(config), "--state", state, "--now", "2026-03-01T06:00"],
        ["apply", "--config-dir", str(config), "--state", state, "--now", "2026-03-01T06:00"],
    ):
        result = runner.invoke(main, args, env=env)
        output = result.stdout + result.stderr
        assert result.exit_code == 1, output
        assert result.exception is None or isinstance(result.exception, SystemExit), output
        assert "Traceback" not in output and "internal error" not in output, output
        problems = [line for line in result.stderr.splitlines() if line.startswith(str(config))]
        assert problems and all(f"{path.name}:" in line for line in problems), output
        assert "abc123" not in output  # url_credential: the query's value is masked
        commands = [line for line in output.splitlines() if line.lstrip().startswith("::")]
        assert all(line.startswith("::error file=") for line in commands), output


@pytest.mark.parametrize("now", ["9999-12-31T23:59:59", "0001-01-01T00:00:00", "3000-01-01"])
def test_now_beyond_the_date_bounds_is_refused(tmp_path: Path, now: str) -> None:
    config = tmp_path / "pipelines.d"
    config.mkdir()
    (config / "plain.yaml").write_text(PLAIN)
    state = str(tmp_path / "state.duckdb")
    for command in ("plan", "apply"):
        result = CliRunner().invoke(
            main,
            [command, "--config-dir", str(config), "--state", state, "--now", now],
            env={"RECONCILER_CACHE_DIR": "off"},
        )
        assert result.exit_code == 1, result.output
        assert "--now: expected an instant from 1900-01-01 to 2999-12-31" in result.stderr
