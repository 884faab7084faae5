"""Migrations of older state files, and clear errors for files that are not a state."""

from __future__ import annotations

import json
import random
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from reconciler.state.connection import current_version, transaction
from reconciler.state.schema import MIGRATIONS, SCHEMA_VERSION
from reconciler.state.store import open_store

NOW = "2026-01-08T06:00:00"
D = [date(2025, 12, 31) + timedelta(days=i) for i in range(33)]  # D[1] is 2026-01-01


def make_v1_state(path: Path) -> None:
    """A state file as version 1 made it, with some history."""
    conn = duckdb.connect(str(path))
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (1, TIMESTAMP '2025-12-31 00:00:00', '0.0.1')")
    conn.execute(
        "INSERT INTO pipelines (pipeline_id, pipeline_name, platform, created_at, updated_at) "
        "VALUES ('p', 'p', 'local', TIMESTAMP '2025-12-31', TIMESTAMP '2025-12-31')"
    )
    rows = [  # run_id, date, status, start, retry_attempts
        ("r1", D[1], "success", "2026-01-02 01:00", 0),
        ("r2", D[2], "success", "2026-01-03 01:00", 0),
        ("r3a", D[3], "failed", "2026-01-04 01:00", 0),
        ("r3b", D[3], "success", "2026-01-04 02:00", 1),  # a retry that worked
        ("r4", D[4], "failed", "2026-01-05 01:00", 0),
        ("r5a", D[5], "success", "2026-01-06 01:00", 0),
        ("r5b", D[5], "failed", "2026-01-06 09:00", 0),  # a re-run that failed
        ("r7", D[7], "success", "2026-01-08 01:00", 0),
    ]
    for run_id, day, status, started, retries in rows:
        conn.execute(
            """INSERT INTO pipeline_run_log (run_id, pipeline_id, run_date, status, start_time,
                   end_time, retry_attempts, is_backfill)
               VALUES (?, 'p', ?, ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP) + INTERVAL 5 MINUTE,
                       ?, false)""",
            [run_id, day, status, started, started, retries],
        )
    conn.close()


def pipeline_file(config_dir: Path) -> None:
    config_dir.mkdir(exist_ok=True)
    (config_dir / "p.yaml").write_text(
        "\n".join(
            [
                "id: p",
                "platform: local",
                "trigger:",
                f"  command: [{json.dumps(sys.executable)}, -c, 'pass']",
                "schedule:",
                "  type: daily",
                "  start: 2026-01-01",
                "",
            ]
        ),
        encoding="utf-8",
    )


def test_a_version_1_file_is_migrated_with_coverage_from_its_history(tmp_path: Path) -> None:
    state = tmp_path / "state.duckdb"
    make_v1_state(state)
    with transaction(str(state)) as conn:
        assert current_version(conn) == SCHEMA_VERSION
        coverage = conn.execute(
            "SELECT range_start, range_end FROM coverage ORDER BY range_start"
        ).fetchall()
        open_dates = conn.execute(
            "SELECT run_date, status FROM open_dates ORDER BY run_date"
        ).fetchall()
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version").fetchall()]
    assert coverage == [(D[1], D[3]), (D[7], D[7])]
    assert open_dates == [(D[4], "failed"), (D[5], "failed")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    with open_store(str(state)).read() as session:
        seen = session.observe(["p"]).of("p")
        history = session.history("p", 20)
    assert seen.covered == ((D[1], D[3]), (D[7], D[7]))
    assert seen.failed[D[4]].attempt == 1
    assert seen.failed[D[4]].ended_at == datetime(2026, 1, 5, 1, 5, tzinfo=UTC)
    assert len(history) == 8 and history[0].run_id == "r7"
    assert {r.attempt for r in history if r.run_id == "r3b"} == {2}
    # opening again changes nothing
    with transaction(str(state)) as conn:
        assert current_version(conn) == SCHEMA_VERSION


def test_plan_refuses_an_old_file_and_apply_migrates_it(tmp_path: Path, cli) -> None:
    make_v1_state(tmp_path / "state.duckdb")
    pipeline_file(tmp_path / "pipelines.d")
    plan = cli("plan", "--state", "state.duckdb", "--now", NOW)
    assert plan.returncode == 1
    assert "Traceback" not in plan.stderr
    [line] = plan.stderr.strip().splitlines()
    assert "schema version 1" in line and "reconciler apply" in line
    apply = cli("apply", "--wait", "--state", "state.duckdb", "--now", NOW)
    assert apply.returncode == 0, apply.stderr
    after = cli("plan", "--state", "state.duckdb", "--now", NOW, "--format", "json")
    assert after.returncode == 0, after.stderr
    # the failed dates were retried by the apply; the never-run date 6 was backfilled
    status = duckdb.connect(str(tmp_path / "state.duckdb"), read_only=True)
    try:
        ranges = status.execute("SELECT range_start, range_end FROM coverage").fetchall()
    finally:
        status.close()
    assert ranges == [(D[1], D[8])]


def _write_corrupt(path: Path) -> None:
    path.write_bytes(random.Random(4).randbytes(8192))


def _write_foreign(path: Path) -> None:
    conn = duckdb.connect(str(path))
    conn.execute("CREATE TABLE customers (id INTEGER, name VARCHAR)")
    conn.execute("INSERT INTO customers VALUES (1, 'a')")
    conn.close()


def _write_newer(path: Path) -> None:
    conn = duckdb.connect(str(path))
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (99, now(), '9.9')")
    conn.close()


@pytest.mark.parametrize(
    ("maker", "words"),
    [
        (_write_corrupt, "not a DuckDB database"),
        (_write_foreign, "not a reconciler state"),
        (_write_newer, "newer than this reconciler"),
    ],
    ids=["corrupt", "foreign", "newer"],
)
@pytest.mark.parametrize(
    "command",
    [
        ("plan", "--now", NOW),
        ("apply", "--now", NOW),
        ("history", "p"),
        ("status", "--now", NOW),
        ("backfill", "p", "--from", "2026-01-01", "--to", "2026-01-02"),
    ],
    ids=lambda c: c[0],
)
def test_a_file_that_is_not_a_usable_state_is_a_one_line_error(
    tmp_path: Path, cli, maker, words: str, command: tuple[str, ...]
) -> None:
    pipeline_file(tmp_path / "pipelines.d")
    state = tmp_path / "bad.duckdb"
    maker(state)
    before = state.read_bytes()
    done = cli(*command, "--state", "bad.duckdb")
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ") and words in lines[0]
    assert "bad.duckdb" in lines[0] or words == "not a reconciler state"
    assert state.read_bytes() == before  # never "repaired" or overwritten


def test_an_empty_duckdb_file_reads_as_an_empty_state(tmp_path: Path, cli) -> None:
    pipeline_file(tmp_path / "pipelines.d")
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    plan = cli("plan", "--state", "empty.duckdb", "--now", NOW, "--format", "json")
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["summary"]["backfill"] == 7
    history = cli("history", "p", "--state", "empty.duckdb")
    assert history.returncode == 0, history.stderr
