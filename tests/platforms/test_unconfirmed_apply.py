"""An unconfirmed start through ``reconciler apply``: no run id recorded, then confirmed.

A trigger whose every reply is lost may have made a run. Apply records the batch as
running with no platform run id (never a made-up one), and the next pass repeats the
idempotent start, finds the run the first pass made and follows it to the end.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest
from platform_harness import (
    STATE,
    apply_env,
    command,
    created_per_key,
    query,
    run_cli,
    write_config,
)

NOW = "2026-01-01T06:00:00"  # one daily date due: 2026-01-01


@pytest.mark.parametrize("older_state", [False, True])
def test_an_unconfirmed_start_is_recorded_without_a_run_id_and_confirmed_next_pass(
    databricks_server, tmp_path: Path, older_state: bool
) -> None:
    databricks_server.run_seconds = 0
    write_config(tmp_path, "databricks", databricks_server, retry={"enabled": False})
    databricks_server.fail("drop", "run-now", times=1000)
    first = subprocess.run(
        command("apply", "--now", NOW),
        cwd=tmp_path,
        env=apply_env(RECONCILER_HTTP_DEADLINE="1.5"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    assert len(databricks_server.created) == 1  # made, though no reply said so
    rows = query(tmp_path, "SELECT status, platform_run_id FROM pipeline_run_log")
    assert rows == [("running", None)]
    if older_state:  # older versions wrote the word "unconfirmed" as the run id
        with duckdb.connect(str(tmp_path / STATE)) as conn:
            conn.execute("UPDATE pipeline_run_log SET platform_run_id = 'unconfirmed'")
    databricks_server.fail_next.clear()
    second = run_cli(tmp_path, "apply", "--wait", "--now", NOW)
    assert second.returncode == 0, second.stderr
    assert list(created_per_key(databricks_server).values()) == [1]  # never a second run
    run_id = str(databricks_server.created[0]["run_id"])
    rows = query(tmp_path, "SELECT status, platform_run_id FROM pipeline_run_log")
    assert rows == [("success", run_id)]
