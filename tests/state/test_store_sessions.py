"""The store interface beyond runs and coverage: a state not made yet, the fingerprint,
the lock. Run on a DuckDB file here and on PostgreSQL by
``tests/state_pg/test_store_sessions_pg.py`` (the same tests, other fixtures)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.core.batches import RunIntent, batch_key, short_id
from reconciler.errors import LockedError
from reconciler.state.schema import SCHEMA_VERSION
from reconciler.state.store import Store, open_store

NOW = datetime(2026, 1, 20, 6, 0, tzinfo=UTC)


@pytest.fixture
def fresh_store(tmp_path: Path) -> Store:
    return open_store(str(tmp_path / "state.duckdb"))


def intent(day: date) -> RunIntent:
    key = batch_key("p", (day,), None, 1)
    return RunIntent(
        batch_id=short_id(key),
        key=key,
        pipeline_id="p",
        dates=(day,),
        attempt=1,
        kind="run",
        request_id=None,
        priority=0,
        retry_schedule="every 5 minutes",
        platform="local",
    )


def lock_rows(store: Store, token: str) -> int:
    with store.read() as session:
        assert session.conn is not None
        row = session.conn.execute(
            "SELECT count(*) FROM locks WHERE holder_token = ?", [token]
        ).fetchone()
    return int(row[0])


def test_a_state_not_made_yet_reads_as_empty_and_is_not_made_by_reading(
    fresh_store: Store,
) -> None:
    with fresh_store.read() as session:
        assert session.empty
        assert session.observe(["p"]).of("p").covered == ()
        assert session.plan_inputs(["p"])[1] == {}
        assert session.history("p", 10) == [] and session.in_flight() == []
        assert session.notifications("failed") == []
        fingerprint = session.fingerprint()
    assert not fingerprint.get("schema_version") and not fingerprint.get("tables")
    with fresh_store.read() as session:  # (a DuckDB file still does not exist)
        assert session.empty


def test_the_fingerprint_moves_with_a_write_and_not_with_a_lease(fresh_store: Store) -> None:
    with fresh_store.write() as session:
        session.record_intents([intent(date(2026, 1, 1))], NOW)
    with fresh_store.read() as session:
        before = session.fingerprint()
    assert before["schema_version"] == SCHEMA_VERSION
    assert before["tables"]["pipeline_run_log"]["rows"] == 1
    me = fresh_store.acquire_lock(NOW)  # a lock row is no plan input
    with fresh_store.read() as session:
        assert session.fingerprint() == before
    with fresh_store.write() as session:
        session.record_intents([intent(date(2026, 1, 2))], NOW)
    with fresh_store.read() as session:
        assert session.fingerprint() != before
    fresh_store.release_lock(me)


def test_the_lock_is_confirmed_in_a_write_and_gone_once_released(fresh_store: Store) -> None:
    me = fresh_store.acquire_lock(NOW)
    with fresh_store.write() as session:
        session.confirm_lock(me, NOW + timedelta(seconds=30), extend=True)
    assert lock_rows(fresh_store, me.token) == 1
    fresh_store.release_lock(me)
    assert lock_rows(fresh_store, me.token) == 0


def test_a_lock_released_under_a_pass_stops_it_or_registers_it_again(
    fresh_store: Store,
) -> None:
    """A DuckDB file's one writer that lost its lock stops; a PostgreSQL runner whose
    registration went (and whose runs nobody took) registers again and carries on."""
    me = fresh_store.acquire_lock(NOW)
    fresh_store.release_lock(me)
    if me.shared:
        with fresh_store.write() as session:
            session.confirm_lock(me, NOW, extend=False)
        assert lock_rows(fresh_store, me.token) == 1
        fresh_store.release_lock(me)
        return
    with pytest.raises(LockedError, match="lost the state lock"), fresh_store.write() as session:
        session.confirm_lock(me, NOW, extend=False)


def test_a_pass_adopts_what_is_in_flight_and_nobody_else_holds_it(fresh_store: Store) -> None:
    flying = intent(date(2026, 1, 3))
    with fresh_store.write() as session:
        session.record_intents([flying], NOW)
    me = fresh_store.acquire_lock(NOW)
    with fresh_store.read() as session:
        found = session.in_flight()
    assert [b.batch_id for b in fresh_store.adopt(me, found, NOW)] == [flying.batch_id]
    assert fresh_store.held_elsewhere(me) == []
    fresh_store.release_lock(me)
