"""``import-history`` streams: a file many times the import's memory limit imports what
the rules say (newest row per date, dates already logged kept, coverage and open dates
in step); a bad row deep in it changes nothing; importing it again changes nothing."""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.intervals import merge
from reconciler.core.spec import Schedule
from reconciler.errors import StateError
from reconciler.state.importing import import_history
from reconciler.state.store import open_store
from tests.gitops.helpers import invoke, pipeline

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
START = date(2005, 1, 1)
DAYS = (date(2025, 12, 31) - START).days + 1  # 7,670 due dates per pipeline
PIPELINES = 40
SMALL_MEMORY = "64MB"  # the file's rows take several times this in DuckDB


@dataclass(frozen=True)
class Row:
    pipeline_id: str
    run_date: date
    status: str
    end_time: datetime | None


def history(seed: int = 7) -> list[Row]:
    """Every due date of every pipeline, 1% failed, then 2,000 later re-runs of random
    dates (with an end time, so the newest decides) appended out of order."""
    rng = random.Random(seed)
    rows = [
        Row(
            f"p{p:02d}",
            START + timedelta(days=d),
            "failed" if rng.random() < 0.01 else "success",
            None,
        )
        for p in range(PIPELINES)
        for d in range(DAYS)
    ]
    for _ in range(2_000):
        p, d = rng.randrange(PIPELINES), rng.randrange(DAYS)
        day = START + timedelta(days=d)
        ended = datetime(2026, 1, 1) - timedelta(minutes=rng.randrange(10_000))
        rows.insert(
            rng.randrange(len(rows)),
            Row(f"p{p:02d}", day, rng.choice(["success", "failed"]), ended),
        )
    return rows


def write_parquet(rows: list[Row], path: Path) -> None:
    conn = duckdb.connect()
    try:
        conn.execute(
            f"""COPY (SELECT unnest(?::VARCHAR[]) AS pipeline_id, unnest(?::DATE[]) AS run_date,
                             unnest(?::VARCHAR[]) AS status, unnest(?::TIMESTAMP[]) AS end_time)
                TO '{path}' (FORMAT parquet)""",
            [
                [r.pipeline_id for r in rows],
                [r.run_date for r in rows],
                [r.status for r in rows],
                [r.end_time for r in rows],
            ],
        )
    finally:
        conn.close()


def schedules() -> dict[str, Schedule]:
    return {f"p{p:02d}": Schedule(type="daily", start=START) for p in range(PIPELINES)}


def expected(rows: list[Row], logged: set[tuple[str, date]]) -> dict[tuple[str, date], str]:
    """The rules, in plain Python: per date the row with the newest end time (else the
    later row in the file) decides; dates already in the run log are left out."""
    best: dict[tuple[str, date], tuple[tuple[datetime, int], str]] = {}
    for index, r in enumerate(rows):
        key = (r.pipeline_id, r.run_date)
        rank = (r.end_time or datetime(1970, 1, 1), index)
        if key not in logged and (key not in best or rank > best[key][0]):
            best[key] = (rank, r.status)
    return {k: v[1] for k, v in best.items()}


def read(state: Path, sql: str) -> list[tuple[object, ...]]:
    conn = duckdb.connect(str(state), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def fingerprint(state: Path) -> dict[str, object]:
    with open_store(str(state)).read() as session:
        return session.fingerprint()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Row]]:
    rows = history()
    path = tmp_path_factory.mktemp("history") / "history.parquet"
    write_parquet(rows, path)
    return path, rows


def test_a_file_beyond_the_memory_limit_imports_by_the_rules(
    big_file: tuple[Path, list[Row]], tmp_path: Path
) -> None:
    file, rows = big_file
    state = tmp_path / "state.duckdb"
    # dates the reconciler already knows: covered by hand, and failed by hand
    covered = [START + timedelta(days=d) for d in range(100, 200)]
    spoiled = [START + timedelta(days=d) for d in range(150, 160)] + [START]
    with open_store(str(state)).write() as session:
        session.mark_dates("p00", covered, "covered", "test", NOW)
        session.mark_dates("p01", spoiled, "failed", "test", NOW)
    logged = {("p00", d) for d in covered} | {("p01", d) for d in spoiled}

    report = import_history(str(state), file, schedules(), NOW, memory_limit=SMALL_MEMORY)

    want = expected(rows, logged)
    assert (report.rows, report.imported) == (len(rows), len(want))
    assert report.unchanged == len(rows) - len(want)
    got = read(
        state,
        "SELECT pipeline_id, run_date, status FROM pipeline_run_log WHERE kind = 'import'",
    )
    assert {(str(p), d, str(s)) for p, d, s in got} == {(p, d, s) for (p, d), s in want.items()}
    assert len(got) == len(want)
    ids = read(state, "SELECT count(DISTINCT run_id), count(*) FROM pipeline_run_log")
    assert ids[0][0] == ids[0][1]
    succeeded = {k for k, s in want.items() if s == "success"} | {("p00", d) for d in covered}
    for pid in ("p00", "p01", "p39"):
        days = sorted(d for p, d in succeeded if p == pid)
        ranges = read(
            state,
            f"SELECT range_start, range_end FROM coverage WHERE pipeline_id = '{pid}' ORDER BY 1",
        )
        assert [tuple(r) for r in ranges] == list(merge([(d, d) for d in days]))
    failed = {k for k, s in want.items() if s == "failed"}
    opened = read(state, "SELECT pipeline_id, run_date, status, attempt FROM open_dates")
    assert {(str(p), d) for p, d, _, _ in opened} == failed
    assert {(s, a) for _, _, s, a in opened} == {("failed", 1)}
    assert not Path(f"{state}.tmp").exists()  # where DuckDB spilled: gone


def test_a_csv_beyond_the_memory_limit_imports_as_the_parquet_does(
    big_file: tuple[Path, list[Row]], tmp_path: Path
) -> None:
    file, rows = big_file
    csv = tmp_path / "history.csv"
    conn = duckdb.connect()
    try:
        conn.execute(f"COPY (SELECT * FROM '{file}') TO '{csv}' (HEADER)")
    finally:
        conn.close()
    states = [tmp_path / "from-parquet.duckdb", tmp_path / "from-csv.duckdb"]
    for state, source in zip(states, (file, csv), strict=True):
        import_history(str(state), source, schedules(), NOW, memory_limit=SMALL_MEMORY)
    logs = [
        read(s, "SELECT pipeline_id, run_date, status FROM pipeline_run_log ORDER BY 1, 2")
        for s in states
    ]
    assert len(logs[0]) == len(expected(rows, set())) and logs[0] == logs[1]


def test_importing_the_same_file_again_changes_nothing(
    big_file: tuple[Path, list[Row]], tmp_path: Path
) -> None:
    file, rows = big_file
    state = tmp_path / "state.duckdb"
    first = import_history(str(state), file, schedules(), NOW, memory_limit=SMALL_MEMORY)
    before = fingerprint(state)
    again = import_history(str(state), file, schedules(), NOW, memory_limit=SMALL_MEMORY)
    assert first.imported > 0
    assert (again.rows, again.imported, again.unchanged) == (len(rows), 0, len(rows))
    assert fingerprint(state) == before


def test_a_bad_row_deep_in_a_big_file_leaves_the_state_as_it_was(
    big_file: tuple[Path, list[Row]], tmp_path: Path
) -> None:
    _, rows = big_file
    state = tmp_path / "state.duckdb"
    with open_store(str(state)).write() as session:
        session.mark_dates("p00", [START], "covered", "test", NOW)
    before = fingerprint(state)
    deep = len(rows) - 1_000
    bad = [*rows[:deep], Row("p03", date(2027, 1, 1), "success", None), *rows[deep:]]
    file = tmp_path / "bad.parquet"
    write_parquet(bad, file)
    with pytest.raises(StateError) as caught:
        import_history(str(state), file, schedules(), NOW, memory_limit=SMALL_MEMORY)
    assert str(caught.value).splitlines()[1:] == [
        f"{file}: row {deep + 1}: 2027-01-01 is not due yet at 2026-01-01T12:00:00+00:00 "
        "(the last due date is 2026-01-01)"
    ]
    assert fingerprint(state) == before


def test_the_cli_names_the_bad_row_and_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "pipelines.d"
    pipeline(config, "p00", str(START))
    rows = [Row("p00", START + timedelta(days=d), "success", None) for d in range(5_000)]
    rows.insert(4_321, Row("p00", START, "maybe", None))
    file = tmp_path / "history.parquet"
    write_parquet(rows, file)
    state = tmp_path / "state.duckdb"
    args = ["import-history", str(file), "--config-dir", str(config), "--state", str(state)]
    result = invoke([*args, "--now", "2026-01-01T12:00"])
    assert result.exit_code == 1
    assert f"{file}: row 4322: status 'maybe' is not success or failed" in result.output
    assert "Traceback" not in result.output
    assert not state.exists() or read(state, "SELECT count(*) FROM pipeline_run_log") == [(0,)]


def test_the_run_log_of_a_duckdb_state_has_no_key_or_index(tmp_path: Path) -> None:
    """Version 8: a row per imported date costs its columns only."""
    state = tmp_path / "state.duckdb"
    with open_store(str(state)).write() as session:
        session.mark_dates("p00", [START], "covered", "test", NOW)
    indexes = read(
        state, "SELECT index_name FROM duckdb_indexes() WHERE table_name = 'pipeline_run_log'"
    )
    keys = read(
        state,
        "SELECT constraint_type FROM duckdb_constraints() "
        "WHERE table_name = 'pipeline_run_log' AND constraint_type <> 'NOT NULL'",
    )
    assert (indexes, keys) == ([], [])


DAY = st.integers(min_value=0, max_value=59)


@settings(max_examples=25, deadline=None)
@given(
    covered=st.sets(DAY, max_size=30),
    imported=st.dictionaries(DAY, st.sampled_from(["success", "failed"]), max_size=40),
)
def test_coverage_after_an_import_is_the_covered_days_merged(
    covered: set[int], imported: dict[int, str]
) -> None:
    """Whatever coverage a pipeline has, an import adds exactly its new successes."""
    days = {d: START + timedelta(days=d) for d in range(60)}
    with tempfile.TemporaryDirectory() as tmp:
        state, file = Path(tmp) / "state.duckdb", Path(tmp) / "history.parquet"
        if covered:
            with open_store(str(state)).write() as session:
                session.mark_dates("p00", [days[d] for d in sorted(covered)], "covered", "t", NOW)
        rows = [Row("p00", days[d], s, None) for d, s in imported.items()]
        if not rows:
            return
        write_parquet(rows, file)
        import_history(str(state), file, schedules(), NOW)
        ranges = read(state, "SELECT range_start, range_end FROM coverage ORDER BY 1")
        opened = read(state, "SELECT run_date FROM open_dates ORDER BY 1")
    new = {d: s for d, s in imported.items() if d not in covered}
    want = sorted(covered | {d for d, s in new.items() if s == "success"})
    assert [tuple(r) for r in ranges] == list(merge([(days[d], days[d]) for d in want]))
    assert [r[0] for r in opened] == sorted(days[d] for d, s in new.items() if s == "failed")
