"""``reconciler state export DIR`` / ``state import DIR``: Parquet per table, round trip equal."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.gitops.helpers import NOW, invoke, run_cli

FAILS_ON_30TH = (
    "import sys; sys.exit(1 if any(d.endswith('-30') for d in sys.argv[1].split(',')) else 0)"
)


def _pipeline(config: Path) -> None:
    config.mkdir(parents=True, exist_ok=True)
    (config / "orders_daily.yaml").write_text(
        json.dumps(
            {
                "id": "orders_daily",
                "platform": "local",
                "trigger": {"command": ["python", "-c", FAILS_ON_30TH, "{dates}"]},
                "schedule": {"type": "daily", "start": "2024-03-20"},
                "retry": {"schedule": "every 1 minute", "max_retries": 1},
                "quality": {
                    "checks": [{"name": "always", "engine": "duckdb", "sql": "select true"}]
                },
                "sla": {"time": "01:00", "notify": True},
                "notifications": [{"channel": "stdout", "on": ["failure", "sla_breach"]}],
                "parameters": {"target": "data/{date}.parquet"},
            }
        ),
        encoding="utf-8",
    )


def rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a state file, rows sorted (by their text: NULLs sort too)."""
    conn = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1"
            ).fetchall()
        ]
        return {
            t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables
        }
    finally:
        conn.close()


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state with history in every table: runs, a failure and its retry, quality results,
    notifications, parameters, an ad-hoc request, SLA breaches, outdated marks (on dates
    never run, so they change no plan) and the version runs ran with."""
    root = tmp_path_factory.mktemp("source")
    config = root / "pipelines.d"
    _pipeline(config)
    state = root / ".reconciler" / "state.duckdb"
    common = ["--config-dir", str(config), "--state", str(state)]
    for now in (NOW, "2024-04-01T06:02", "2024-04-02T06:00"):
        result = run_cli(["apply", *common, "--now", now, "--wait"], cwd=root)
        assert result.returncode == 0, result.stderr
    result = invoke(
        [
            "backfill",
            "orders_daily",
            "--from",
            "2024-03-21",
            "--to",
            "2024-03-22",
            "--id",
            "redo",
            *common,
            "--now",
            "2024-04-02T06:03",
        ]
    )
    assert result.exit_code == 0, result.output
    _mark_and_version(state)
    return state


def _mark_and_version(state: Path) -> None:
    """Outdated marks (an upstream re-run, a version change) and run versions."""
    from reconciler.state.outdated_marks import OutdatedMark
    from reconciler.state.store import open_store

    later = (date(2030, 1, 1), date(2030, 1, 31))
    with open_store(str(state)).write() as session:
        session.add_outdated_marks(
            [
                OutdatedMark(
                    pipeline_id="orders_daily",
                    dates=later,
                    cause_pipeline="orders_raw",
                    cause_dates=later,
                    cause_batch_id="b-upstream",
                ),
                OutdatedMark.from_version("orders_daily", (date(2030, 2, 1), date.max), "7"),
            ],
            datetime(2024, 4, 2, 6, 5, tzinfo=UTC),
        )
        assert session.conn is not None
        session.conn.execute(
            "UPDATE pipeline_run_log SET version = '6' WHERE run_date < DATE '2024-03-25'"
        )


def test_round_trip_equals_the_original(state: Path, tmp_path: Path) -> None:
    original = rows(state)
    # the fixture really filled the tables this test is about
    for table in (
        "pipelines",
        "pipeline_run_log",
        "pipeline_parameters",
        "backfill_queue",
        "backfill_requests",
        "data_quality_log",
        "pipeline_notifications",
        "coverage",
        "open_dates",
        "sla_breaches",
        "outdated_marks",
        "schema_version",
    ):
        assert original[table], f"{table} is empty in the fixture"
    assert {r[-1] for r in original["pipeline_run_log"]} == {"6", None}  # (version is last)
    export = tmp_path / "export"
    result = invoke(["state", "export", str(export), "--state", str(state)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"exported {len(original)} table(s)")
    assert sorted(p.name for p in export.iterdir()) == sorted(
        [f"{t}.parquet" for t in original] + ["manifest.json"]
    )
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["tables"] == {t: len(r) for t, r in original.items()}
    copy = tmp_path / "new" / "state.duckdb"
    result = invoke(["state", "import", str(export), "--state", str(copy)])
    assert result.exit_code == 0, result.output
    assert rows(copy) == original
    assert sorted(p.name for p in copy.parent.iterdir()) == ["state.duckdb"]  # no leftovers


def test_imported_state_plans_like_the_original(state: Path, tmp_path: Path) -> None:
    export, copy = tmp_path / "export", tmp_path / "copy.duckdb"
    assert invoke(["state", "export", str(export), "--state", str(state)]).exit_code == 0
    assert invoke(["state", "import", str(export), "--state", str(copy)]).exit_code == 0
    config = state.parent.parent / "pipelines.d"

    def plan(path: Path) -> str:
        args = ["plan", "--config-dir", str(config), "--state", str(path), "--format", "json"]
        return invoke([*args, "--now", "2024-04-03T06:00"]).output

    assert plan(copy) == plan(state)


def test_import_refuses_an_existing_state(state: Path, tmp_path: Path) -> None:
    export = tmp_path / "export"
    assert invoke(["state", "export", str(export), "--state", str(state)]).exit_code == 0
    before = rows(state)
    result = invoke(["state", "import", str(export), "--state", str(state)])
    assert result.exit_code == 1
    assert f"Error: state file {state} already holds a state (schema version" in result.output
    assert "import only into a new file" in result.output
    assert rows(state) == before
    # an empty file (0 bytes, or a DuckDB file without tables) is a new state
    empty = tmp_path / "empty.duckdb"
    empty.touch()
    assert invoke(["state", "import", str(export), "--state", str(empty)]).exit_code == 0
    assert rows(empty) == before


def test_import_checks_the_export(state: Path, tmp_path: Path) -> None:
    result = invoke(["state", "import", str(tmp_path), "--state", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 1
    assert "holds no state export (no manifest.json)" in result.output
    export = tmp_path / "export"
    assert invoke(["state", "export", str(export), "--state", str(state)]).exit_code == 0
    manifest = json.loads((export / "manifest.json").read_text())
    manifest["tables"]["coverage"] += 1
    (export / "manifest.json").write_text(json.dumps(manifest))
    target = tmp_path / "t.duckdb"
    result = invoke(["state", "import", str(export), "--state", str(target)])
    assert result.exit_code == 1
    assert "coverage.parquet holds" in result.output and "the manifest says" in result.output
    assert not target.exists()  # a failed import leaves nothing behind
    (export / "locks.parquet").unlink()
    result = invoke(["state", "import", str(export), "--state", str(target)])
    assert "locks.parquet is missing" in result.output
    manifest["schema_version"] = 99
    (export / "manifest.json").write_text(json.dumps(manifest))
    result = invoke(["state", "import", str(export), "--state", str(target)])
    assert "has schema version 99, newer than this reconciler" in result.output


def test_export_of_a_missing_state(tmp_path: Path) -> None:
    result = invoke(["state", "export", str(tmp_path / "x"), "--state", str(tmp_path / "no.db")])
    assert result.exit_code == 1
    assert "no state file at" in result.output


def test_an_older_export_is_migrated_on_import(tmp_path: Path) -> None:
    """An export made at schema version 1 (seed tables only) imports into today's schema."""
    from reconciler.state.schema import MIGRATIONS, SCHEMA_VERSION

    old = tmp_path / "v1.duckdb"
    conn = duckdb.connect(str(old))
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (1, TIMESTAMP '2024-01-01', '0.0.1')")
    conn.execute(
        "INSERT INTO pipeline_run_log (run_id, pipeline_id, run_date, status, start_time, "
        "end_time) VALUES ('r1', 'orders_daily', DATE '2024-03-01', 'success', "
        "TIMESTAMP '2024-03-02 01:00', TIMESTAMP '2024-03-02 01:05')"
    )
    export = tmp_path / "export"
    export.mkdir()
    tables = {}
    for (table,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall():
        conn.execute(f"COPY \"{table}\" TO '{export / (table + '.parquet')}' (FORMAT parquet)")
        count = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        tables[table] = count[0] if count else 0
    conn.close()
    (export / "manifest.json").write_text(
        json.dumps(
            {
                "format": "reconciler-state-export",
                "format_version": 1,
                "schema_version": 1,
                "tables": tables,
            }
        )
    )
    target = tmp_path / "new.duckdb"
    result = invoke(["state", "import", str(export), "--state", str(target)])
    assert result.exit_code == 0, result.output
    imported = rows(target)
    assert [r[0] for r in imported["schema_version"]] == list(range(1, SCHEMA_VERSION + 1))
    # the version 2 migration derived the compact coverage from the imported run log
    assert imported["coverage"] == [
        ("orders_daily", *[r[2] for r in imported["pipeline_run_log"]] * 2)
    ]


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_an_unchanged_state_exports_byte_identical_files(state: Path, tmp_path: Path) -> None:
    """The state branch gets a commit only when the state changed: the same state gives the
    same bytes, exported twice, after an import (the workflow's round trip), and after a
    pass that had nothing to do."""
    work = tmp_path / "work"
    copy = work / ".reconciler" / "state.duckdb"
    config = state.parent.parent / "pipelines.d"
    common = ["--config-dir", str(config), "--state", str(copy)]
    first, again, trip, noop = (tmp_path / n for n in ("first", "again", "trip", "noop"))
    assert invoke(["state", "export", str(first), "--state", str(state)]).exit_code == 0
    assert invoke(["state", "import", str(first), "--state", str(copy)]).exit_code == 0
    # a pass with work (the pending backfill), then the state as the workflow saves it
    result = run_cli(["apply", *common, "--now", "2024-04-02T06:04", "--wait"], cwd=work)
    assert result.returncode == 0 and "2 run(s) started" in result.stdout, result.stderr
    assert invoke(["state", "export", str(first), "--state", str(copy)]).exit_code == 0
    assert invoke(["state", "export", str(again), "--state", str(copy)]).exit_code == 0
    assert _files(again) == _files(first)
    restored = tmp_path / "restored" / "state.duckdb"
    assert invoke(["state", "import", str(first), "--state", str(restored)]).exit_code == 0
    assert invoke(["state", "export", str(trip), "--state", str(restored)]).exit_code == 0
    assert _files(trip) == _files(first)
    # a pass with nothing to do: no new date due, no retry waiting, no request left
    result = run_cli(["apply", *common, "--now", "2024-04-02T06:30", "--wait"], cwd=work)
    assert result.returncode == 0 and "0 run(s) started" in result.stdout, result.stdout
    assert invoke(["state", "export", str(noop), "--state", str(copy)]).exit_code == 0
    assert _files(noop) == _files(first)
    # exporting over an earlier export rewrites the same bytes, and leaves no temporaries
    assert invoke(["state", "export", str(first), "--state", str(copy)]).exit_code == 0
    assert _files(first) == _files(again)
    manifest = json.loads((first / "manifest.json").read_text())
    assert "exported_at" not in manifest
