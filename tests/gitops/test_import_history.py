"""``reconciler import-history``: only rows that name a due date of the pipeline's schedule
count as covered; invalid rows are named by file row, and import nothing unless asked."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from reconciler.core.calendar import is_scheduled
from reconciler.core.spec import Schedule
from reconciler.state.import_checks import ON_SCHEDULE, create_calendar
from tests.gitops.helpers import invoke, pipeline

NOW = "2026-12-03T09:00"  # orders_daily's last due date is 2026-12-02 (offset 1)
HEADER = "pipeline_id,run_date,status\n"


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    config = tmp_path / "pipelines.d"
    pipeline(config, "orders_daily", "2026-01-01", schedule="  end: 2029-12-31\n  offset: 1\n")
    weekly = pipeline(config, "weekly", "2026-01-05", schedule="  days: [mon, wed]\n")
    weekly.write_text(weekly.read_text().replace("type: daily", "type: weekly"))
    return config, tmp_path / "state.duckdb"


def run(config: Path, state: Path, file: Path, *extra: str) -> tuple[int, str]:
    args = ["import-history", str(file), "--config-dir", str(config), "--state", str(state)]
    result = invoke([*args, "--now", NOW, *extra])
    return result.exit_code, result.output


def logged(state: Path) -> list[tuple[str, str, str]]:
    conn = duckdb.connect(str(state), read_only=True)
    try:
        rows = conn.execute(
            "SELECT pipeline_id, strftime(run_date, '%Y-%m-%d'), status FROM pipeline_run_log "
            "ORDER BY 1, 2"
        ).fetchall()
        return [(str(a), str(b), str(c)) for a, b, c in rows]
    finally:
        conn.close()


BAD_ROWS = [
    "orders_daily,2026-06-01,success",  # line 2: fine
    "orders_daily,2030-01-01,success",  # 3: after end
    "orders_daily,2026-12-03,success",  # 4: not due yet (due 2026-12-04)
    "orders_daily,2025-12-31,success",  # 5: before start
    "weekly,2026-01-06,success",  # 6: a Tuesday: not on the schedule
    "orders_daily,2026-02-30,success",  # 7: no such date
    "orders_daily,2026-06-02,done",  # 8: bad status
    "weekly,2026-01-07,failed",  # 9: fine (a Wednesday)
    "ghost,2026-01-01,success",  # 10: unknown pipeline: skipped as before
    ",2026-01-01,success",  # 11: no pipeline
]
REASONS = [
    ":3: 2030-01-01 is after the schedule's end (2029-12-31)",
    ":4: 2026-12-03 is not due yet at 2026-12-03T09:00:00+00:00 (the last due date is 2026-12-02)",
    ":5: 2025-12-31 is before the schedule's start (2026-01-01)",
    ":6: 2026-01-06 is not a date of the weekly schedule",
    ":7: run_date '2026-02-30' is not a date (YYYY-MM-DD)",
    ":8: status 'done' is not success or failed",
    ":11: pipeline_id is empty",
]


def test_invalid_rows_import_nothing_and_are_named(dirs: tuple[Path, Path]) -> None:
    config, state = dirs
    csv = state.parent / "history.csv"
    csv.write_text(HEADER + "\n".join(BAD_ROWS) + "\n")
    code, out = run(config, state, csv)
    assert code == 1
    lines = out.strip().splitlines()
    assert lines[0] == (
        f"Error: {csv}: 7 invalid row(s), nothing imported (fix them, or --skip-invalid "
        "imports the other rows):"
    )
    assert lines[1:] == [f"{csv}{reason}" for reason in REASONS]
    assert "Traceback" not in out
    assert not state.exists() or logged(state) == []


def test_skip_invalid_imports_the_rest(dirs: tuple[Path, Path]) -> None:
    config, state = dirs
    csv = state.parent / "history.csv"
    csv.write_text(HEADER + "\n".join(BAD_ROWS) + "\n")
    code, out = run(config, state, csv, "--skip-invalid")
    assert code == 0, out
    assert out.splitlines() == [
        "skipped 7 invalid row(s):",
        *[f"  {csv}{reason}" for reason in REASONS],
        "read 10 row(s): 2 imported, 0 already known, 7 invalid",
        f"skipped 1 row(s) of 'ghost': no such pipeline in {config}",
    ]
    assert logged(state) == [
        ("orders_daily", "2026-06-01", "success"),
        ("weekly", "2026-01-07", "failed"),
    ]


def test_a_future_date_is_not_covered_later(dirs: tuple[Path, Path]) -> None:
    """A row for 2030-01-01 would make the plans of 2030 skip that date: never imported."""
    config, state = dirs
    pipeline(config, "orders_daily", "2026-01-01")  # no end now
    csv = state.parent / "history.csv"
    csv.write_text(HEADER + "orders_daily,2030-01-01,success\n")
    code, out = run(config, state, csv)
    assert code == 1
    assert f"{csv}:2: 2030-01-01 is not due yet at 2026-12-03T09:00:00+00:00" in out
    code, out = run(config, state, csv, "--skip-invalid")
    assert code == 0 and "0 imported" in out
    assert logged(state) == []


def test_parquet_rows_are_numbered(dirs: tuple[Path, Path]) -> None:
    config, state = dirs
    parquet = state.parent / "history.parquet"
    conn = duckdb.connect()
    conn.execute(
        f"""COPY (SELECT * FROM (VALUES ('orders_daily', DATE '2026-06-01', 'success'),
                                        ('orders_daily', DATE '2031-01-01', 'success'))
                  t(pipeline_id, run_date, status)) TO '{parquet}' (FORMAT parquet)"""
    )
    conn.close()
    code, out = run(config, state, parquet)
    assert code == 1
    assert f"{parquet}: row 2: 2031-01-01 is after the schedule's end (2029-12-31)" in out


def test_bad_times_are_invalid(dirs: tuple[Path, Path]) -> None:
    config, state = dirs
    csv = state.parent / "history.csv"
    csv.write_text(
        "pipeline_id,run_date,status,start_time,end_time\n"
        "orders_daily,2026-06-01,success,yesterday,2026-06-02T01:00:00\n"
        "orders_daily,2026-06-02,success,2026-06-03T01:00:00,\n"
    )
    code, out = run(config, state, csv)
    assert code == 1
    assert out.strip().splitlines()[1:] == [f"{csv}:2: start_time 'yesterday' is not a timestamp"]


def test_row_numbers_hold_in_a_large_file(dirs: tuple[Path, Path]) -> None:
    """DuckDB reads big files in parallel; the numbers are still the file's."""
    config, state = dirs
    csv = state.parent / "history.csv"
    good = "orders_daily,2026-06-01,success\n"
    csv.write_text(HEADER + good * 150_000 + "orders_daily,2026-13-01,success\n" + good * 50_000)
    code, out = run(config, state, csv)
    assert code == 1
    assert out.strip().splitlines()[1:] == [
        f"{csv}:150002: run_date '2026-13-01' is not a date (YYYY-MM-DD)"
    ]


SCHEDULES = [
    Schedule(type="daily", start=date(2026, 1, 3)),
    Schedule(type="daily", start=date(2026, 1, 3), every=3),
    Schedule(type="weekly", start=date(2026, 1, 7)),
    Schedule(type="weekly", start=date(2026, 1, 7), every=2, days=(0, 3, 6)),
    Schedule(type="monthly", start=date(2026, 1, 31)),
    Schedule(type="monthly", start=date(2026, 1, 15), every=2, days=(1, 31, -1, -3)),
    Schedule(type="monthly", start=date(2026, 2, 10), every=5, days=(-31, 30)),
]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_the_sql_calendar_matches_the_planners(schedule: Schedule) -> None:
    conn = duckdb.connect()
    create_calendar(conn, {"p": schedule}, datetime(2030, 1, 1, tzinfo=UTC))
    first = schedule.start
    days = [first + timedelta(days=i) for i in range(800)]
    conn.execute("CREATE TABLE c AS SELECT unnest(?::DATE[]) AS run_date", [days])
    found = conn.execute(
        f"SELECT c.run_date FROM c, calendar k WHERE {ON_SCHEDULE} ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in found] == [d for d in days if is_scheduled(schedule, d)]


def test_a_version_column_is_imported_and_marks_are_kept(dirs: tuple[Path, Path]) -> None:
    """The version each imported run ran with is kept (empty: none); the outdated marks
    already in the state are left as they are."""
    from reconciler.state.outdated_marks import OutdatedMark
    from reconciler.state.store import open_store

    config, state = dirs
    mark = OutdatedMark.from_version("orders_daily", (date(2026, 1, 1), date.max), "3")
    with open_store(str(state)).write() as session:
        session.add_outdated_marks([mark], datetime(2026, 12, 1, tzinfo=UTC))
    csv = state.parent / "history.csv"
    csv.write_text(
        "pipeline_id,run_date,status,version\n"
        "orders_daily,2026-06-01,success,2\n"
        "orders_daily,2026-06-02,failed,\n"
    )
    code, out = run(config, state, csv)
    assert code == 0, out
    with open_store(str(state)).read() as session:
        versions = {r.run_date: r.version for r in session.history("orders_daily", 10)}
        marks = session.outdated_marks("orders_daily", date(2026, 6, 1), date(2026, 6, 2))
    assert versions == {date(2026, 6, 1): "2", date(2026, 6, 2): None}
    assert [(m.dates, m.cause_version) for m in marks] == [(mark.dates, "3")]
