"""``reconciler validate`` as users and CI run it: real processes, exit codes, all errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main

GOOD = """\
# yaml-language-server: $schema=../schemas/pipeline.schema.json
id: {id}
platform: local
trigger:
  command: [python, job.py, "{{date}}"]
schedule:
  type: daily
  start: 2026-01-01
  at: 02:00
notifications:
  - channel: stdout
    on: [failure]
"""


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RECONCILER_"))}
    return {**env, **extra}


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=clean_env(**env),
        timeout=60,
    )


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("Error:")]


def test_valid_directory_exits_0(tmp_path: Path) -> None:
    config = tmp_path / "pipelines.d"
    write(config, "a.yaml", GOOD.format(id="a"))
    write(config, "b.yml", GOOD.format(id="b"))
    write(config, "notes.txt", "not a pipeline")
    result = run("--config-dir", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "2 pipeline(s) in 2 file(s): valid.\n"
    assert result.stderr == ""


def test_config_dir_from_environment(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere"
    write(config, "a.yaml", GOOD.format(id="a") + "oops: 1\n")
    result = run(RECONCILER_CONFIG_DIR=str(config))
    assert result.returncode == 1
    assert f"{config / 'a.yaml'}:13:1: oops: unknown key 'oops'" in result.stderr


def test_default_config_dir_is_pipelines_d(tmp_path: Path) -> None:
    write(tmp_path / "pipelines.d", "a.yaml", GOOD.format(id="a"))
    result = run(cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "id: a\nplatform: local\ntrigger: {command: [x]\n")
    result = run(str(path))
    assert result.returncode == 1
    assert problem_lines(result.stderr) == [
        f"{path}:4:1: invalid YAML: did not find expected ',' or '}}'"
    ]
    assert "Traceback" not in result.stderr


def test_date_pyyaml_rejects(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", GOOD.format(id="a").replace("2026-01-01", "2026-02-30"))
    result = run(str(path))
    assert result.returncode == 1
    assert problem_lines(result.stderr) == [
        f"{path}:8:10: invalid YAML: '2026-02-30' is not a valid date "
        "(day is out of range for month)"
    ]


def test_duplicate_ids_across_files_name_both(tmp_path: Path) -> None:
    config = tmp_path / "pipelines.d"
    first = write(config, "a_first.yaml", GOOD.format(id="orders"))
    second = write(config, "b_second.yaml", "\n\n" + GOOD.format(id="orders"))
    result = run("--config-dir", str(config))
    assert result.returncode == 1
    assert problem_lines(result.stderr) == [
        f"{second}:4:5: id: pipeline id 'orders' is already used by {first}:2; "
        "ids must be unique across files"
    ]
    assert result.stderr.endswith("Error: 1 problem(s) in 1 of 2 file(s)\n")


def test_every_error_of_every_file_in_one_run(tmp_path: Path) -> None:
    config = tmp_path / "pipelines.d"
    one = write(config, "one.yaml", GOOD.format(id="one").replace("every", "x") + "retyr: {}\n")
    write(config, "ok.yaml", GOOD.format(id="ok"))
    two = write(
        config,
        "two.yaml",
        GOOD.format(id="Two").replace("type: daily", "type: daily\n  every: 0"),
    )
    three = write(config, "three.yaml", "- just\n- a list\n")
    result = run("--config-dir", str(config))
    assert result.returncode == 1
    assert problem_lines(result.stderr) == [
        f"{one}:13:1: retyr: unknown key 'retyr'; did you mean 'retry'? (expected one of: "
        "backfill, batch, depends_on, exclude, id, name, notifications, parameters, pause, "
        "pause_reason, platform, quality, retry, schedule, sla, trigger, version)",
        f"{three}:1:1: expected a mapping of pipeline keys (id, platform, ...), found a list",
        f"{two}:2:5: id: expected an id of lowercase letters, digits and _ that starts with a "
        "letter (at most 64 characters), found 'Two'",
        f"{two}:8:10: schedule.every: expected a number >= 1, found 0",
    ]
    assert result.stderr.endswith("Error: 4 problem(s) in 3 of 4 file(s)\n")


def test_files_given_as_arguments(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", GOOD.format(id="good"))
    missing = tmp_path / "missing.yaml"
    result = run(str(good), str(missing))
    assert result.returncode == 1
    assert problem_lines(result.stderr) == [
        f"{missing}:1:1: cannot read file: No such file or directory"
    ]


def test_missing_config_dir(tmp_path: Path) -> None:
    result = run("--config-dir", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "config directory not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    result = CliRunner().invoke(main, ["validate", str(path)], env={"GITHUB_ACTIONS": None})
    assert result.exit_code == 1
    assert f"{path}:1:1: not UTF-8 text" in result.stderr


def test_github_annotations_escape_paths_and_messages(tmp_path: Path) -> None:
    # a directory name with every character Actions needs escaped in a property
    config = tmp_path / "odd,dir:100%\r\nx"
    write(config, "a.yaml", GOOD.format(id="orders"))
    write(config, "b.yaml", GOOD.format(id="orders"))
    bad = GOOD.format(id="other").replace('"{date}"', '"{date:%Y}"')
    write(config, "c.yaml", bad)
    result = run("--config-dir", str(config), GITHUB_ACTIONS="true")
    assert result.returncode == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    escaped_dir = str(config).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    escaped_dir = escaped_dir.replace(":", "%3A").replace(",", "%2C")
    assert escaped_dir.endswith("odd%2Cdir%3A100%25%0D%0Ax")
    message_dir = str(config).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    assert annotations == [
        f"::error file={escaped_dir}/b.yaml,line=2,col=5,title=reconciler validate::"
        f"id: pipeline id 'orders' is already used by {message_dir}/a.yaml:2; "
        "ids must be unique across files",
        f"::error file={escaped_dir}/c.yaml,line=5,col=29,title=reconciler validate::"
        "trigger.command[2]: {date:%25Y} uses a format spec; templates only substitute "
        "plain values",
    ]


def test_no_annotations_outside_github(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "id: a\n")
    result = run(str(path), GITHUB_ACTIONS="false")
    assert result.returncode == 1
    assert "::error" not in result.stdout + result.stderr


@pytest.mark.parametrize("flag", ["--debug", None])
def test_no_traceback_for_config_problems(tmp_path: Path, flag: str | None) -> None:
    path = write(tmp_path, "bad.yaml", "a: &a [*a]\n")
    args = [flag] if flag else []
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", *args, "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert re.search(r"bad\.yaml:1:4: invalid YAML: an alias refers to a value", result.stderr)


def test_an_empty_config_dir_is_an_error_not_a_pass(tmp_path: Path) -> None:
    """A mistyped or empty --config-dir must not let CI go green with nothing checked."""
    (tmp_path / "notes.txt").write_text("not a pipeline")
    result = run("--config-dir", str(tmp_path))
    assert result.returncode == 1
    assert f"no pipeline files (*.yaml, *.yml) in {tmp_path}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_placeholder_is_reported_beside_schema_errors(tmp_path: Path) -> None:
    """Every problem in one run: the placeholder is not held back until the schema is fixed."""
    path = tmp_path / "both.yaml"
    path.write_text(
        "id: both\n"
        "platform: local\n"
        "trigger:\n"
        '  command: [python, "{nope}"]\n'
        "schedule:\n"
        "  type: weekly\n"
        "  days: [funday]\n"
        "  start: 2026-01-01\n"
    )
    result = run(str(path))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert f"{path}:4:21: trigger.command[1]: unknown placeholder {{nope}}" in lines[0]
    assert lines[1].startswith(f"{path}:7:10: schedule.days[0]: expected a weekday")
    assert "2 problem(s) in 1 of 1 file(s)" in result.stderr
