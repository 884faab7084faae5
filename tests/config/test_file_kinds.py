"""Only regular files, and links that stay in their directory, are read as pipelines.

Everything else with a YAML name (a link out of the directory, a loop, a dangling
link, a FIFO, a directory) is one problem line, and nothing of a link's target is read
or echoed: not in the problem line, not in the ``::error`` annotation.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from validate_support import VALID, run_validate

from reconciler.config.loading import load_config
from reconciler.errors import ConfigError

TOKEN = "ghp_" + "Zq7" * 12


@pytest.fixture
def config(tmp_path: Path) -> Path:
    directory = tmp_path / "pipelines.d"
    directory.mkdir()
    (tmp_path / "credentials").write_text(f"https://me:{TOKEN}@github.com\n")
    return directory


def validate_dir(config: Path) -> tuple[int, str, list[str]]:
    outcome = run_validate("--config-dir", str(config), env={"GITHUB_ACTIONS": "true"})
    lines = [f"{p.file}:{p.line}:{p.col}: {p.rest}" for p in outcome.problems]
    return outcome.exit_code, outcome.stdout + outcome.stderr, lines


def test_a_link_out_of_the_directory_is_refused_and_never_read(config: Path) -> None:
    (config / "p.yaml").symlink_to(config.parent / "credentials")
    code, output, lines = validate_dir(config)
    assert code == 1
    assert lines == [
        f"{config / 'p.yaml'}:1:1: a symbolic link that leads out of its directory; refusing "
        "to read it (copy the file in, or link to a file inside the directory)"
    ]
    assert TOKEN not in output and "github.com" not in output
    assert "::error file=" in output


def test_a_relative_link_that_climbs_out_is_refused(config: Path) -> None:
    (config / "p.yaml").symlink_to("../credentials")
    assert "leads out of its directory" in validate_dir(config)[2][0]


def test_a_link_inside_the_directory_is_read(config: Path) -> None:
    (config / "shared").mkdir()
    (config / "shared" / "orders.txt").write_text(VALID)
    (config / "orders.yaml").symlink_to("shared/orders.txt")
    code, output, lines = validate_dir(config)
    assert (code, lines) == (0, []), output
    assert [p.id for p in load_config(config)] == ["orders"]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.symlink_to(p), "a symbolic link that loops"),
        (lambda p: p.symlink_to(p.parent / "missing.yaml"), "a symbolic link to a file that does"),
        (lambda p: os.mkfifo(p), "a FIFO (named pipe), not a pipeline file"),
        (lambda p: p.mkdir(), "a directory, not a pipeline file"),
    ],
    ids=["loop", "dangling", "fifo", "directory"],
)
def test_other_kinds_are_one_problem_each(config: Path, make: object, message: str) -> None:
    (config / "good.yaml").write_text(VALID)
    make(config / "odd.yaml")  # type: ignore[operator]
    code, _, lines = validate_dir(config)
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith(f"{config / 'odd.yaml'}:1:1: {message}")


def test_a_cached_link_retargeted_out_of_the_directory_is_refused(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path / "cache"))
    (config / "real.txt").write_text(VALID)
    link = config / "orders.yaml"
    link.symlink_to("real.txt")
    assert [p.id for p in load_config(config)] == ["orders"]
    outside = tmp_path / "outside.yaml"
    outside.write_text(VALID)  # the same bytes: a digest check alone would accept it
    link.unlink()
    link.symlink_to(outside)
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "leads out of its directory" in str(caught.value)
