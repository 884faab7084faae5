"""Outdated marks in the store: written as ranges with their cause, read merged by the
planner's observe, cut when their dates start again, and the version each run ran with.

Run on a DuckDB file here and on PostgreSQL by ``tests/state_pg/test_outdated_marks_pg.py``
(the same tests, other fixtures).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from reconciler.state.outdated_marks import OutdatedMark
from reconciler.state.schema import MIGRATIONS, SCHEMA_VERSION
from reconciler.state.store import Store, open_store
from tests import store_reads as reads
from tests.state.test_store_contract import NOW, finish, intent, pipeline_row, start

DAY = timedelta(days=1)
JAN = [date(2026, 1, 1) + i * DAY for i in range(31)]  # JAN[0] is 2026-01-01


@pytest.fixture
def store(tmp_path: Path) -> Store:
    made = open_store(str(tmp_path / "state.duckdb"))
    with made.write() as w:
        w.sync_pipelines([(pipeline_row("p"), {}), (pipeline_row("q"), {})], NOW - 30 * DAY)
    return made


def make_v5_duckdb(path: Path) -> None:
    """A state file as schema version 5 made it, with one finished run."""
    conn = duckdb.connect(str(path))
    for number, statements in enumerate(MIGRATIONS[:5], start=1):
        for statement in statements:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_version VALUES (?, TIMESTAMP '2026-01-01', '0.5')", [number]
        )
    conn.execute(
        """INSERT INTO pipeline_run_log (run_id, pipeline_id, run_date, status, batch_id,
               attempt, kind, created_at)
           VALUES ('r1', 'p', DATE '2026-01-01', 'success', 'b1', 1, 'run',
                   TIMESTAMP '2026-01-02')"""
    )
    conn.execute("INSERT INTO coverage VALUES ('p', DATE '2026-01-01', DATE '2026-01-01')")
    conn.close()


@pytest.fixture
def v5_store(tmp_path: Path) -> Store:
    path = tmp_path / "v5.duckdb"
    make_v5_duckdb(path)
    return open_store(str(path))


def upstream(pid: str, first: date, last: date, *, batch: str = "u-batch") -> OutdatedMark:
    """``pid``'s dates outdated by a re-run of ``u`` over the same dates."""
    return OutdatedMark(
        pipeline_id=pid,
        dates=(first, last),
        cause_pipeline="u",
        cause_dates=(first, last),
        cause_batch_id=batch,
    )


def add(store: Store, *marks: OutdatedMark, at: datetime = NOW) -> None:
    with store.write() as w:
        w.add_outdated_marks(marks, at)


def marked(store: Store, pid: str = "p") -> list[tuple[date, date]]:
    return list(reads.observe(store, [pid]).of(pid).outdated)


def rows(store: Store) -> list[tuple[object, ...]]:
    with store.read() as session:
        assert session.conn is not None
        return [
            tuple(r)
            for r in session.conn.execute(
                "SELECT pipeline_id, range_start, range_end, cause_pipeline, cause_start, "
                "cause_end, cause_batch_id FROM outdated_marks ORDER BY 1, 2, 3, 4, 5, 6, 7"
            ).fetchall()
        ]


def test_marks_are_read_merged_per_pipeline(store: Store) -> None:
    add(store, upstream("p", JAN[0], JAN[9]), upstream("p", JAN[5], JAN[14], batch="other"))
    add(store, upstream("p", JAN[20], JAN[20]), upstream("q", JAN[2], JAN[3]))
    assert marked(store) == [(JAN[0], JAN[14]), (JAN[20], JAN[20])]
    assert marked(store, "q") == [(JAN[2], JAN[3])]
    assert len(rows(store)) == 4  # each mark kept with its own cause


def test_starting_a_middle_date_splits_the_range_and_keeps_the_cause(store: Store) -> None:
    add(store, upstream("p", JAN[0], JAN[9]))
    start(store, intent(JAN[4]))
    assert marked(store) == [(JAN[0], JAN[3]), (JAN[5], JAN[9])]
    assert rows(store) == [
        ("p", JAN[0], JAN[3], "u", JAN[0], JAN[9], "u-batch"),
        ("p", JAN[5], JAN[9], "u", JAN[0], JAN[9], "u-batch"),
    ]
    # a multi-date run cuts all its dates; the edges of a range are cut too
    start(store, intent((JAN[0], JAN[1], JAN[9])))
    assert marked(store) == [(JAN[2], JAN[3]), (JAN[5], JAN[8])]


def test_only_the_started_pipeline_loses_its_marks(store: Store) -> None:
    add(store, upstream("p", JAN[0], JAN[2]), upstream("q", JAN[0], JAN[2]))
    start(store, intent(JAN[1], pid="q"))
    assert marked(store) == [(JAN[0], JAN[2])]
    assert marked(store, "q") == [(JAN[0], JAN[0]), (JAN[2], JAN[2])]


def test_a_mark_written_after_a_run_started_survives_it(store: Store) -> None:
    run = intent(JAN[6])
    start(store, run)
    add(store, upstream("p", JAN[6], JAN[6]))  # upstream re-ran while p's run was in flight
    finish(store, run, True)
    assert marked(store) == [(JAN[6], JAN[6])]
    with store.read() as session:
        [(day, [cause])] = session.outdated_causes("p", [JAN[5], JAN[6]]).items()
    assert day == JAN[6] and cause.cause_pipeline == "u" and cause.cause_batch_id == "u-batch"
    # recording the same intent again (a write repeated after an outage) cuts nothing
    with store.write() as w:
        assert w.record_intents([run], NOW) == []
    assert marked(store) == [(JAN[6], JAN[6])]
    start(store, intent(JAN[6], attempt=2, kind="refresh"))
    assert marked(store) == []


def test_the_same_mark_again_is_one_row_with_the_newest_time(store: Store) -> None:
    add(store, upstream("p", JAN[0], JAN[4]))
    add(store, upstream("p", JAN[0], JAN[4], batch="again"), at=NOW + DAY)
    add(store, OutdatedMark.from_version("p", (JAN[0], date.max), "2"), at=NOW + DAY)
    add(store, OutdatedMark.from_version("p", (JAN[0], date.max), "3"), at=NOW + 2 * DAY)
    with store.read() as session:
        found = session.outdated_marks("p", JAN[0], JAN[0])
    assert [(m.cause_pipeline, m.cause_batch_id, m.cause_version, m.marked_at) for m in found] == [
        ("u", "again", None, NOW + DAY),
        ("p", None, "3", NOW + 2 * DAY),
    ]
    assert found[1].version_change and found[1].dates == (JAN[0], date.max)
    assert marked(store) == [(JAN[0], date.max)]


def test_cut_outdated_marks_removes_dates_directly(store: Store) -> None:
    add(store, OutdatedMark.from_version("p", (JAN[0], date.max), "2"))
    with store.write() as w:
        w.cut_outdated_marks({"p": [JAN[0], JAN[10]], "q": [JAN[1]], "nobody": []})
    assert marked(store) == [(JAN[1], JAN[9]), (JAN[11], date.max)]


def test_marking_dates_covered_makes_them_current_and_failed_keeps_the_marks(
    store: Store,
) -> None:
    add(store, OutdatedMark.from_version("p", (JAN[0], date.max), "2"))
    with store.write() as w:
        w.mark_dates("p", [JAN[3], JAN[4]], "covered", "made by hand", NOW)
        w.mark_dates("p", [JAN[8]], "failed", "redo it", NOW)
    assert marked(store) == [(JAN[0], JAN[2]), (JAN[5], date.max)]


def test_only_covered_marked_dates_are_outdated_causes(store: Store) -> None:
    for day in (JAN[1], JAN[2]):
        run = intent(day)
        start(store, run)
        finish(store, run, True)
    add(store, upstream("p", JAN[0], JAN[3]))
    with store.read() as session:
        causes = session.outdated_causes("p", JAN[:5])
        assert session.outdated_marks("p", JAN[10], JAN[12]) == []
    assert sorted(causes) == [JAN[1], JAN[2]]  # JAN[0] and JAN[3] never ran


def test_each_run_records_the_version_it_ran_with(store: Store) -> None:
    start(store, replace(intent(JAN[0]), version="v7"), intent(JAN[1]))
    versions = {r.run_date: r.version for r in reads.history(store, "p")}
    assert versions == {JAN[0]: "v7", JAN[1]: None}


def test_an_empty_state_has_no_marks(tmp_path: Path) -> None:
    empty = open_store(str(tmp_path / "none.duckdb"))
    with empty.read() as session:
        assert session.outdated_marks("p", JAN[0], JAN[9]) == []
        assert session.outdated_causes("p", JAN) == {}
        assert session.observe(["p"]).of("p").outdated == ()


def test_a_version_5_state_migrates_and_keeps_its_runs(v5_store: Store) -> None:
    with v5_store.write() as w:
        w.add_outdated_marks([upstream("p", JAN[0], JAN[0])], NOW)
    [old] = reads.history(v5_store, "p")
    assert (old.run_id, old.status, old.version) == ("r1", "success", None)
    with v5_store.read() as session:
        assert session.version == SCHEMA_VERSION
        assert session.outdated_causes("p", [JAN[0]])[JAN[0]][0].cause_pipeline == "u"
        assert session.conn is not None
        versions = session.conn.execute("SELECT version FROM schema_version ORDER BY 1")
        assert [r[0] for r in versions.fetchall()] == list(range(1, SCHEMA_VERSION + 1))
