"""A pass builds its config, state and plan with the cyclic collector off and keeps them
frozen while it runs; when it ends, however it ends, the collector is as it was."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apply_helpers import write_pipeline

from reconciler.clock import OffsetClock
from reconciler.errors import ConfigError
from reconciler.reconcile.apply_pass import ApplyOptions, apply_pass
from reconciler.reconcile.pass_report import ApplyReport

NOW = datetime(2026, 1, 3, 12, tzinfo=UTC)


def one_pass(config: Path, state: Path) -> ApplyReport:
    return apply_pass(config, str(state), OffsetClock(NOW), ApplyOptions(wait=True))


def test_passes_leave_the_collector_on_and_nothing_frozen(tmp_path: Path) -> None:
    config = tmp_path / "pipelines.d"
    write_pipeline(config, "p", ["true"])
    state = tmp_path / "state.duckdb"
    assert gc.isenabled() and gc.get_freeze_count() == 0
    report = one_pass(config, state)
    assert report.started_dates == 3 and report.succeeded == 3
    assert gc.isenabled() and gc.get_freeze_count() == 0
    again = one_pass(config, state)  # (as `run --interval` does)
    assert again.started == 0 and again.plan is not None and not again.plan.actions
    assert gc.isenabled() and gc.get_freeze_count() == 0


@pytest.mark.parametrize("broken", ["missing", "invalid"])
def test_a_pass_that_fails_leaves_the_collector_as_it_was(tmp_path: Path, broken: str) -> None:
    config = tmp_path / "pipelines.d"
    if broken == "invalid":
        config.mkdir()
        (config / "p.yaml").write_text("id: p\nplatform: local\n")
    with pytest.raises(ConfigError):
        one_pass(config, tmp_path / "state.duckdb")
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_pass_leaves_objects_its_caller_froze_frozen_and_a_disabled_collector_off(
    tmp_path: Path,
) -> None:
    config = tmp_path / "pipelines.d"
    write_pipeline(config, "p", ["true"])
    gc.freeze()  # the caller's own long-lived objects
    gc.disable()
    try:
        one_pass(config, tmp_path / "state.duckdb")
        assert not gc.isenabled()
        # nothing of the caller's was thawed (gc.unfreeze would empty the frozen set)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


def test_plan_leaves_the_collector_on(tmp_path: Path) -> None:
    """``plan`` pauses the collector for its own objects only (it once left it off, so a
    later test in the same process saw a disabled collector)."""
    from click.testing import CliRunner

    from reconciler.cli import main

    config = tmp_path / "pipelines.d"
    write_pipeline(config, "p", ["true"])
    state = tmp_path / "state.duckdb"
    result = CliRunner().invoke(
        main, ["plan", "--config-dir", str(config), "--state", str(state), "--now", NOW.isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert "p" in result.output
    assert gc.isenabled() and gc.get_freeze_count() == 0
