"""Saved plans: ``plan --out`` records a fingerprint; ``apply --plan`` refuses a stale one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gitops.helpers import NOW, document, invoke, pipeline, run_cli

BATCH = "batch: {multi_date: true, max_dates: 31}\n"
LATER = "2024-04-01T06:05"


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    """A config of one pipeline with 4 due dates (a run and a backfill), and the state path."""
    config = tmp_path / "pipelines.d"
    pipeline(config, "orders_daily", "2024-03-29", extra=BATCH)
    return config, tmp_path / ".reconciler" / "state.duckdb"


def save(config: Path, state: Path, now: str = NOW, *more: str) -> Path:
    out = config.parent / "plan.json"
    result = invoke(
        [
            "plan",
            "--config-dir",
            str(config),
            "--state",
            str(state),
            "--now",
            now,
            "--out",
            str(out),
            *more,
        ]
    )
    assert result.exit_code == 0, result.output
    return out


def apply_plan(config: Path, state: Path, plan: Path, now: str = LATER, *more: str):  # type: ignore[no-untyped-def]
    return run_cli(
        [
            "apply",
            "--config-dir",
            str(config),
            "--state",
            str(state),
            "--now",
            now,
            "--wait",
            "--plan",
            str(plan),
            *more,
        ],
        cwd=config.parent,
    )


def test_saved_plan_has_a_fingerprint_and_validates(setup: tuple[Path, Path]) -> None:
    config, state = setup
    doc = document(save(config, state).read_text())
    fingerprint = doc["fingerprint"]
    assert fingerprint["config"] == {
        "orders_daily.yaml": fingerprint["config"]["orders_daily.yaml"]
    }
    assert len(fingerprint["config"]["orders_daily.yaml"]) == 64
    assert fingerprint["state"] == {"exists": False}
    assert fingerprint["pipelines_filter"] == []


def test_fresh_plan_is_applied(setup: tuple[Path, Path]) -> None:
    config, state = setup
    plan = save(config, state)
    result = apply_plan(config, state, plan)
    assert result.returncode == 0, result.stderr
    assert "config and state unchanged since 2024-04-01T06:00:00+00:00; applied it" in result.stdout
    assert "Applied: 2 run(s) started (4 dates), 2 succeeded" in result.stdout
    # a plan made on the state that pass left is fresh too
    plan = save(config, state, "2024-04-01T06:10")
    result = apply_plan(config, state, plan, "2024-04-01T06:11")
    assert result.returncode == 0, result.stderr
    assert "Applied: 0 run(s) started" in result.stdout


def test_config_edited_since_is_refused(setup: tuple[Path, Path]) -> None:
    config, state = setup
    plan = save(config, state)
    pipeline(config, "orders_daily", "2024-03-01", extra=BATCH)
    pipeline(config, "events", "2024-03-31")
    result = apply_plan(config, state, plan)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: config changed since the plan was made (orders_daily.yaml edited, events.yaml "
        "added); make a new plan"
    )
    assert not state.exists()  # refused before anything was written


def test_state_changed_by_an_apply_is_refused(setup: tuple[Path, Path]) -> None:
    config, state = setup
    plan = save(config, state)
    other = run_cli(
        ["apply", "--config-dir", str(config), "--state", str(state), "--now", NOW, "--wait"],
        cwd=config.parent,
    )
    assert other.returncode == 0, other.stderr
    result = apply_plan(config, state, plan)
    assert result.returncode == 1
    assert "Error: state changed since the plan was made (the state file was created; " in (
        result.stderr
    )
    assert "runs were recorded (an apply or import-history ran): pipeline_run_log: 0 -> 4" in (
        result.stderr
    )
    assert "another apply ran" not in result.stderr
    # and once more, with an existing state changed by a second apply
    plan = save(config, state, "2024-04-01T06:10")
    pipeline(config, "orders_daily", "2024-03-20", extra=BATCH)
    assert (
        run_cli(
            ["apply", "--config-dir", str(config), "--state", str(state), "--now", LATER, "--wait"],
            cwd=config.parent,
        ).returncode
        == 0
    )
    pipeline(config, "orders_daily", "2024-03-29", extra=BATCH)  # the same config again
    result = apply_plan(config, state, plan, "2024-04-01T06:11")
    assert result.returncode == 1
    assert "Error: state changed since the plan was made (the applied config changed" in (
        result.stderr
    )
    assert "runs were recorded (an apply or import-history ran): " in result.stderr
    assert "pipeline_run_log: 4 -> 13 rows" in result.stderr


def test_state_changed_by_a_backfill_says_so(setup: tuple[Path, Path]) -> None:
    config, state = setup
    first = run_cli(
        ["apply", "--config-dir", str(config), "--state", str(state), "--now", NOW, "--wait"],
        cwd=config.parent,
    )
    assert first.returncode == 0, first.stderr
    plan = save(config, state, "2024-04-01T06:01")
    queued = run_cli(
        ["backfill", "orders_daily", "--from", "2024-03-29", "--to", "2024-03-30",
         "--config-dir", str(config), "--state", str(state), "--now", "2024-04-01T06:01"],
        cwd=config.parent,
    )  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    result = apply_plan(config, state, plan, "2024-04-01T06:02")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: state changed since the plan was made (an ad-hoc backfill request was added "
        "(reconciler backfill): backfill_requests: 0 -> 1 rows); make a new plan"
    )


def test_plan_too_old_is_refused(setup: tuple[Path, Path]) -> None:
    config, state = setup
    plan = save(config, state)
    result = apply_plan(config, state, plan, "2024-04-01T08:00")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: plan too old: made at 2024-04-01T06:00:00+00:00, 2h ago, more than "
        "--max-plan-age 1h; make a new plan"
    )
    result = apply_plan(config, state, plan, "2024-04-01T06:01", "--max-plan-age", "30s")
    assert result.returncode == 1
    assert "more than --max-plan-age 30s" in result.stderr


def test_plan_overtaken_by_time_is_refused(setup: tuple[Path, Path]) -> None:
    config, state = setup
    plan = save(config, state, "2024-04-01T23:50")
    # ten minutes later the next date is due: the plan is no longer what apply would do
    result = apply_plan(config, state, plan, "2024-04-02T00:00:01")
    assert result.returncode == 1
    assert "Error: plan too old: since it was made at 2024-04-01T23:50:00+00:00 the plan " in (
        result.stderr
    )
    assert "+1 run date for orders_daily" in result.stderr


def test_plans_that_cannot_be_checked_are_refused(setup: tuple[Path, Path]) -> None:
    config, state = setup
    bare = config.parent / "bare.json"
    bare.write_text(
        invoke(
            [
                "plan",
                "--config-dir",
                str(config),
                "--state",
                str(state),
                "--now",
                NOW,
                "--format",
                "json",
            ]
        ).output
    )
    result = apply_plan(config, state, bare)
    assert result.returncode == 1
    assert "has no fingerprint" in result.stderr
    # (plan refuses --pipeline with --out; a file saved with a filter is still refused)
    saved = json.loads(save(config, state).read_text())
    saved["fingerprint"]["pipelines_filter"] = ["orders_daily"]
    filtered = config.parent / "filtered.json"
    filtered.write_text(json.dumps(saved))
    result = apply_plan(config, state, filtered)
    assert result.returncode == 1
    assert "was made with --pipeline orders_daily" in result.stderr
    junk = config.parent / "junk.json"
    junk.write_text("{not json")
    result = apply_plan(config, state, junk)
    assert result.returncode == 1
    assert "is not a saved plan: invalid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_out_with_a_pipeline_filter_is_refused(setup: tuple[Path, Path]) -> None:
    """apply works on every pipeline: a filtered plan could never be applied."""
    config, state = setup
    out = config.parent / "plan.json"
    result = run_cli(
        ["plan", "--config-dir", str(config), "--state", str(state), "--now", NOW,
         "--pipeline", "orders_daily", "--out", str(out)],
        cwd=config.parent,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == "" and not out.exists()
    assert "--out saves a plan for `apply --plan`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
