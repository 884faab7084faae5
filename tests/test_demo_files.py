"""Every file in pipelines.d/ and examples/pipelines/ is a test case: it loads, cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.config.loading import load_file, load_files

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schemas" / "pipeline.schema.json"
MODELINE = "# yaml-language-server: $schema="
FILES = sorted([*ROOT.glob("pipelines.d/*.yaml"), *ROOT.glob("examples/pipelines/*.yaml")])
needs_files = pytest.mark.skipif(not FILES, reason="no demo or example files yet")


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@needs_files
@pytest.mark.parametrize("path", FILES, ids=_id)
def test_file_loads_without_problems(path: Path) -> None:
    loaded, problems = load_file(path)
    assert [str(p) for p in problems] == []
    assert loaded is not None
    # pipelines.d/<id>.yaml, one pipeline per file
    assert loaded.id == path.stem


@needs_files
@pytest.mark.parametrize("path", FILES, ids=_id)
def test_file_names_the_schema_for_editors(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(MODELINE)
    target = (path.parent / first.removeprefix(MODELINE).strip()).resolve()
    assert target == SCHEMA


@needs_files
def test_ids_are_unique_across_demo_and_examples() -> None:
    loaded, problems = load_files(FILES)
    assert problems == []
    assert len({p.id for p in loaded}) == len(FILES)


@pytest.mark.skipif(not list(ROOT.glob("pipelines.d/*.yaml")), reason="no demo yet")
def test_validate_the_demo_directory() -> None:
    result = CliRunner().invoke(
        main, ["validate", "--config-dir", str(ROOT / "pipelines.d")], env={"GITHUB_ACTIONS": None}
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("valid.\n")
