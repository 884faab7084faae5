"""A pass builds its config, state and plan with the cyclic collector off and keeps them
frozen while it runs; when it ends, however it ends, the collector is as it was."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apply_helpers import write_pipeline

from reconciler.apply import Applier, ApplyOptions
from reconciler.clock import OffsetClock
from reconciler.errors import ConfigError

NOW = datetime(2026, 1, 3, 12, tzinfo=UTC)


def applier(config: Path, state: Path) -> Applier:
    return Applier(config, str(state), OffsetClock(NOW), ApplyOptions(wait=True))


def test_passes_leave_the_collector_on_and_nothing_frozen(tmp_path: Path) -> None:
    config = tmp_path / "pipelines.d"
    write_pipeline(config, "p", ["true"])
    state = tmp_path / "state.duckdb"
    assert gc.isenabled() and gc.get_freeze_count() == 0
    report = applier(config, state).run()
    assert report.started_dates == 3 and report.succeeded == 3
    assert gc.isenabled() and gc.get_freeze_count() == 0
    again = applier(config, state).run()  # (as `run --interval` does)
    assert again.started == 0 and again.plan is not None and not again.plan.actions
    assert gc.isenabled() and gc.get_freeze_count() == 0


@pytest.mark.parametrize("broken", ["missing", "invalid"])
def test_a_pass_that_fails_leaves_the_collector_as_it_was(tmp_path: Path, broken: str) -> None:
    config = tmp_path / "pipelines.d"
    if broken == "invalid":
        config.mkdir()
        (config / "p.yaml").write_text("id: p\nplatform: local\n")
    with pytest.raises(ConfigError):
        applier(config, tmp_path / "state.duckdb").run()
    assert gc.isenabled() and gc.get_freeze_count() == 0
