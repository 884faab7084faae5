"""depends_on, version and the refresh flags: what they load as, and every way a fleet's
dependencies can be wrong, as validate, plan and apply report it (one line each, exit 1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.config.cache import FORMAT
from reconciler.config.cycles import one_circle_each
from reconciler.config.loading import load_config
from reconciler.config.specs import flat_config
from reconciler.core.spec import Dependency

CONFIG = "pipelines.d"


def pipeline(pid: str, *extra: str, schedule: str = "{type: daily, start: 2026-01-01}") -> str:
    """A valid file (lines 1-4) followed by ``extra`` lines from line 5 on."""
    head = (
        f"id: {pid}\nplatform: local\ntrigger: {{command: [echo, '{{date}}']}}\n"
        f"schedule: {schedule}\n"
    )
    return head + "".join(f"{line}\n" for line in extra)


def deps(*upstreams: str) -> tuple[str, ...]:
    """``depends_on:`` (line 5) and one entry a line: upstream i is on line 6 + i."""
    return ("depends_on:", *(f"  - pipeline: {u}" for u in upstreams))


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``pipelines.d`` in the current directory, so messages name relative paths."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path / "cache"))
    for name in list(os.environ):
        if name.startswith("GITHUB_"):
            monkeypatch.delenv(name)
    (tmp_path / CONFIG).mkdir()
    return tmp_path / CONFIG


def write(config: Path, name: str, text: str) -> None:
    (config / f"{name}.yaml").write_text(text, encoding="utf-8")


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def problem_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith(f"{CONFIG}/")]


def assert_refused_everywhere(tmp_path: Path, expected: list[str]) -> None:
    """validate, plan and apply all exit 1 with exactly these problem lines, no traceback."""
    state = str(tmp_path / "state.duckdb")
    now = "2026-01-10T06:00"
    for args in (
        ["validate", "--config-dir", CONFIG],
        ["plan", "--config-dir", CONFIG, "--state", state, "--now", now],
        ["apply", "--config-dir", CONFIG, "--state", state, "--now", now],
    ):
        result = run(*args)
        output = result.stdout + result.stderr
        assert result.exit_code == 1, (args, output)
        assert "Traceback" not in output
        assert problem_lines(result) == expected, (args, output)
    assert not Path(state).exists()  # nothing was written


# --- what valid files load as -------------------------------------------------------------


def test_defaults_without_the_new_keys(fleet: Path) -> None:
    write(fleet, "a", pipeline("a"))
    (loaded,) = load_config(fleet)
    spec = loaded.spec
    assert (spec.depends_on, spec.version) == ((), None)
    assert (spec.refresh_on_upstream_change, spec.refresh_on_version_change) == (True, False)
    model = loaded.model
    assert model.depends_on == [] and model.version is None
    # left out of the flat config at their defaults: a state synced before they existed
    # sees no change
    assert not {"depends_on", "version"} & loaded.flat.keys()
    assert not any(key.startswith("backfill.refresh_on") for key in loaded.flat)


def test_every_key_loads_into_the_spec(fleet: Path) -> None:
    write(fleet, "daily", pipeline("daily"))
    write(fleet, "fx", pipeline("fx"))
    write(
        fleet,
        "weekly",
        pipeline(
            "weekly",
            "depends_on:",
            "  - pipeline: daily",
            "  - {pipeline: fx, dates: latest, offset: -1}",
            "  - {pipeline: monthly, dates: same, offset: 366}",
            'version: "2024-06"',
            "backfill: {refresh_on_upstream_change: false, refresh_on_version_change: true}",
            schedule="{type: weekly, days: [sun], start: 2026-01-04}",
        ),
    )
    write(fleet, "monthly", pipeline("monthly", "depends_on: [{pipeline: fx, offset: -366}]"))
    specs = {p.id: p.spec for p in load_config(fleet)}
    weekly = specs["weekly"]
    assert weekly.depends_on == (
        Dependency(pipeline="daily", dates="period", offset=0),
        Dependency(pipeline="fx", dates="latest", offset=-1),
        Dependency(pipeline="monthly", dates="same", offset=366),
    )
    assert weekly.version == "2024-06"
    assert (weekly.refresh_on_upstream_change, weekly.refresh_on_version_change) == (False, True)
    assert specs["monthly"].depends_on == (Dependency(pipeline="fx", offset=-366),)


@pytest.mark.parametrize(
    "written, model_value, spec_value",
    [
        ('"2024-06"', "2024-06", "2024-06"),
        ("2024-06", "2024-06", "2024-06"),
        ("7", 7, "7"),
        ("-3", -3, "-3"),
        ("1.10", "1.10", "1.10"),  # as written, not the number 1.1
        ("2024-06-01", "2024-06-01", "2024-06-01"),  # a date is kept as its text
        ("v2 (dedupe fix)", "v2 (dedupe fix)", "v2 (dedupe fix)"),
    ],
)
def test_version_is_kept_as_written(
    fleet: Path, written: str, model_value: str | int, spec_value: str
) -> None:
    write(fleet, "a", pipeline("a", f"version: {written}"))
    (loaded,) = load_config(fleet)
    assert loaded.model.version == model_value
    assert loaded.spec.version == spec_value
    assert flat_config(loaded.model)["version"] == model_value
    # and the same from the config cache, whose model is validated again from the text
    (cached,) = load_config(fleet)
    assert cached.cached and cached.spec.version == spec_value


def test_the_cache_round_trips_the_new_fields(fleet: Path, tmp_path: Path) -> None:
    assert FORMAT >= 5  # entries written before the new spec fields are never read
    write(fleet, "up", pipeline("up"))
    write(
        fleet,
        "down",
        pipeline(
            "down",
            "depends_on: [{pipeline: up, dates: latest, offset: -2}]",
            "version: 3",
            "backfill: {refresh_on_upstream_change: false, refresh_on_version_change: true}",
        ),
    )
    first = {p.id: p for p in load_config(fleet)}
    assert list((tmp_path / "cache").glob("config-*.msgpack"))
    second = {p.id: p for p in load_config(fleet)}
    for pid in ("up", "down"):
        assert second[pid].cached and second[pid]._model is None
        assert second[pid].spec == first[pid].spec
        assert second[pid].flat == first[pid].flat
    assert second["down"].spec.depends_on == (Dependency(pipeline="up", dates="latest", offset=-2),)
    assert second["down"].spec.version == "3"
    assert second["down"].spec.refresh_on_version_change is True


def test_a_valid_fleet_validates(fleet: Path) -> None:
    write(fleet, "a", pipeline("a"))
    write(fleet, "b", pipeline("b", *deps("a")))
    write(fleet, "c", pipeline("c", *deps("a", "b")))
    result = run("validate", "--config-dir", CONFIG)
    assert result.exit_code == 0, result.stderr
    assert "3 pipeline(s) in 3 file(s): valid." in result.stdout


# --- fleet errors -------------------------------------------------------------------------


def test_unknown_upstream_with_a_suggestion(fleet: Path, tmp_path: Path) -> None:
    write(fleet, "orders_daily", pipeline("orders_daily"))
    write(fleet, "revenue", pipeline("revenue", *deps("orders_daily", "order_daily")))
    assert_refused_everywhere(
        tmp_path,
        [
            f"{CONFIG}/revenue.yaml:7:15: depends_on[1].pipeline: unknown pipeline "
            f"'order_daily': 'revenue' depends on it, but no file in {CONFIG} defines it; "
            "did you mean 'orders_daily'?"
        ],
    )


def test_deleting_an_upstream_names_each_dependant(fleet: Path, tmp_path: Path) -> None:
    write(fleet, "orders_daily", pipeline("orders_daily"))
    write(fleet, "revenue", pipeline("revenue", *deps("orders_daily")))
    write(fleet, "weekly", pipeline("weekly", *deps("revenue", "orders_daily")))
    assert run("validate", "--config-dir", CONFIG).exit_code == 0
    (fleet / "orders_daily.yaml").unlink()
    assert_refused_everywhere(
        tmp_path,
        [
            f"{CONFIG}/revenue.yaml:6:15: depends_on[0].pipeline: unknown pipeline "
            f"'orders_daily': 'revenue' depends on it, but no file in {CONFIG} defines it",
            f"{CONFIG}/weekly.yaml:7:15: depends_on[1].pipeline: unknown pipeline "
            f"'orders_daily': 'weekly' depends on it, but no file in {CONFIG} defines it",
        ],
    )


def test_an_upstream_whose_file_is_invalid_is_not_called_missing(fleet: Path) -> None:
    write(fleet, "orders_daily", pipeline("orders_daily", "retyr: {}"))
    write(fleet, "revenue", pipeline("revenue", *deps("orders_daily")))
    result = run("validate", "--config-dir", CONFIG)
    assert result.exit_code == 1
    assert problem_lines(result)[-1] == (
        f"{CONFIG}/revenue.yaml:6:15: depends_on[0].pipeline: unknown pipeline "
        f"'orders_daily': 'revenue' depends on it, but no valid file in {CONFIG} defines it"
    )


def test_self_dependency(fleet: Path, tmp_path: Path) -> None:
    write(fleet, "a", pipeline("a", *deps("a")))
    assert_refused_everywhere(
        tmp_path,
        [f"{CONFIG}/a.yaml:6:15: depends_on[0].pipeline: pipeline 'a' cannot depend on itself"],
    )


def test_an_entry_repeated_word_for_word(fleet: Path, tmp_path: Path) -> None:
    write(fleet, "up", pipeline("up"))
    write(fleet, "down", pipeline("down", *deps("up"), "  - {pipeline: up, dates: period}"))
    assert_refused_everywhere(
        tmp_path,
        [
            f"{CONFIG}/down.yaml:7:16: depends_on[1].pipeline: repeats depends_on[0] ('up', "
            "dates period, offset 0); list each entry once"
        ],
    )


def test_one_upstream_read_two_ways_is_valid(fleet: Path) -> None:
    write(fleet, "up", pipeline("up"))
    write(
        fleet,
        "down",
        pipeline("down", *deps("up"), "  - {pipeline: up, dates: same, offset: -1}"),
    )
    done = run("validate", "--config-dir", CONFIG)
    assert done.exit_code == 0, done.stderr


def test_a_cycle_of_three_files_names_each_file_and_line(fleet: Path, tmp_path: Path) -> None:
    write(fleet, "a", pipeline("a", *deps("b")))
    write(fleet, "b", pipeline("b", *deps("x", "c")))
    write(fleet, "c", pipeline("c", *deps("a")))
    write(fleet, "x", pipeline("x"))
    write(fleet, "y", pipeline("y", *deps("a")))  # depends on the cycle, not part of it
    assert_refused_everywhere(
        tmp_path,
        [
            f"{CONFIG}/a.yaml:6:15: depends_on[0].pipeline: depends_on cycle: "
            f"a ({CONFIG}/a.yaml:6) -> b ({CONFIG}/b.yaml:7) -> c ({CONFIG}/c.yaml:6) -> a"
        ],
    )


def test_two_cycles_are_two_problems(fleet: Path) -> None:
    write(fleet, "a", pipeline("a", *deps("b")))
    write(fleet, "b", pipeline("b", *deps("a")))
    write(fleet, "c", pipeline("c", *deps("d")))
    write(fleet, "d", pipeline("d", *deps("c")))
    result = run("validate", "--config-dir", CONFIG)
    assert result.exit_code == 1
    assert [line.split(": ", 2)[2] for line in problem_lines(result)] == [
        f"depends_on cycle: a ({CONFIG}/a.yaml:6) -> b ({CONFIG}/b.yaml:6) -> a",
        f"depends_on cycle: c ({CONFIG}/c.yaml:6) -> d ({CONFIG}/d.yaml:6) -> c",
    ]


def test_cycles_found_in_the_cache_too(fleet: Path) -> None:
    write(fleet, "a", pipeline("a", *deps("b")))
    write(fleet, "b", pipeline("b"))
    assert run("validate", "--config-dir", CONFIG).exit_code == 0
    run("plan", "--config-dir", CONFIG, "--state", "s.duckdb", "--now", "2026-01-02")  # caches
    write(fleet, "b", pipeline("b", *deps("a")))  # a.yaml comes from the cache
    result = run("plan", "--config-dir", CONFIG, "--state", "s.duckdb", "--now", "2026-01-02")
    assert result.exit_code == 1
    assert problem_lines(result) == [
        f"{CONFIG}/a.yaml:6:15: depends_on[0].pipeline: depends_on cycle: "
        f"a ({CONFIG}/a.yaml:6) -> b ({CONFIG}/b.yaml:6) -> a"
    ]


# --- validate FILES: upstreams may live in the config directory ---------------------------


def test_validating_one_file_finds_its_upstream_in_the_config_dir(fleet: Path) -> None:
    write(fleet, "up", pipeline("up"))
    write(fleet, "down", pipeline("down", *deps("up")))
    result = run("validate", "--config-dir", CONFIG, f"{CONFIG}/down.yaml")
    assert result.exit_code == 0, result.stderr
    assert "1 pipeline(s) in 1 file(s): valid." in result.stdout


def test_validating_one_file_reports_an_unknown_upstream(fleet: Path) -> None:
    write(fleet, "up", pipeline("up"))
    write(fleet, "down", pipeline("down", *deps("upp")))
    result = run("validate", "--config-dir", CONFIG, f"{CONFIG}/down.yaml")
    assert result.exit_code == 1
    assert problem_lines(result) == [
        f"{CONFIG}/down.yaml:6:15: depends_on[0].pipeline: unknown pipeline 'upp': 'down' "
        f"depends on it, but no file in {CONFIG} or the files given defines it; "
        "did you mean 'up'?"
    ]


def test_validating_one_file_sees_a_cycle_through_the_config_dir(fleet: Path) -> None:
    write(fleet, "a", pipeline("a", *deps("b")))
    write(fleet, "b", pipeline("b", *deps("a")))
    result = run("validate", "--config-dir", CONFIG, f"{CONFIG}/b.yaml")
    assert result.exit_code == 1
    assert problem_lines(result) == [
        f"{CONFIG}/b.yaml:6:15: depends_on[0].pipeline: depends_on cycle: "
        f"b ({CONFIG}/b.yaml:6) -> a ({CONFIG}/a.yaml:6) -> b"
    ]


# --- the circle finder --------------------------------------------------------------------


def test_one_circle_each_starts_at_the_first_member_and_skips_acyclic_parts() -> None:
    refs = {"a": ["b"], "b": ["c", "d"], "c": ["a"], "d": [], "e": ["e"], "f": ["a"]}
    assert one_circle_each(["f", "d", "c", "b", "a", "e"], refs) == [
        ["c", "a", "b", "c"],
        ["e", "e"],
    ]


def test_the_reference_documents_every_dependency_key() -> None:
    from reconciler.config.dependency_models import DependencyModel
    from reconciler.config.models import BackfillModel

    text = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    keys = [f"depends_on[].{name}" for name in DependencyModel.model_fields]
    keys += [f"backfill.{n}" for n in BackfillModel.model_fields if n.startswith("refresh_on")]
    for key in ["depends_on", "version", *keys]:
        assert f"| `{key}` |" in text, key
