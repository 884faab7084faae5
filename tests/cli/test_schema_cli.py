"""``reconciler schema --check``: stale, missing and absent schemas are told apart."""

from __future__ import annotations

from pathlib import Path

from reconciler.schemas import committed_schemas


def test_check_outside_the_repository_says_the_directory_is_missing(tmp_path: Path, cli) -> None:
    done = cli("schema", "--check")
    assert done.returncode == 1
    assert "no schemas directory" in done.stderr and "stale" not in done.stderr, done.stderr
    assert "--dir" in done.stderr and "--write" in done.stderr


def test_check_names_missing_and_stale_files(tmp_path: Path, cli) -> None:
    assert cli("schema", "--write").returncode == 0
    names = sorted(committed_schemas())
    assert cli("schema", "--check").returncode == 0
    (tmp_path / "schemas" / names[0]).unlink()
    (tmp_path / "schemas" / names[1]).write_text("{}\n", encoding="utf-8")
    done = cli("schema", "--check")
    assert done.returncode == 1
    assert f"missing: schemas/{names[0]}" in done.stderr, done.stderr
    assert f"stale: schemas/{names[1]}" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_check_of_a_directory_that_is_a_file(tmp_path: Path, cli) -> None:
    (tmp_path / "schemas").write_text("", encoding="utf-8")
    done = cli("schema", "--check")
    assert done.returncode == 1 and "Traceback" not in done.stderr
