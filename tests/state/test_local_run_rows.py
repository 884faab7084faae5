"""``local_runs`` rows: the first owner stays, old rows of ended runs go, runs in flight stay."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from reconciler.state.store import open_store

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_owner_rows_are_kept_while_in_flight_and_forgotten_later(tmp_path: Path) -> None:
    state = str(tmp_path / "state.duckdb")
    old = NOW - timedelta(days=30)
    with open_store(state).write() as session:
        session.record_local_owners(["done", "flying"], "h1", "/runs/a", old)
        session.record_local_owners(["done", "fresh"], "h2", "/runs/b", NOW)
        session.conn.execute(
            "INSERT INTO open_dates VALUES ('p', ?, 'running', 1, 'flying', NULL, NULL, NULL)",
            [date(2026, 1, 1)],
        )
    with open_store(state).write() as session:
        rows = session.local_runs(["done", "flying", "fresh", "unknown"])
        assert {b: (r.host, r.runs_dir) for b, r in rows.items()} == {
            "done": ("h1", "/runs/a"),  # the first owner recorded stays
            "flying": ("h1", "/runs/a"),
            "fresh": ("h2", "/runs/b"),
        }
        session.forget_local_runs(NOW - timedelta(days=7))
    with open_store(state).write() as session:
        assert set(session.local_runs(["done", "flying", "fresh"])) == {"flying", "fresh"}


def test_owner_rows_of_runs_in_flight_survive_export_and_import(tmp_path: Path) -> None:
    from reconciler.state.export import export_state, import_state

    state = str(tmp_path / "state.duckdb")
    with open_store(state).write() as session:
        session.record_local_owners(["flying"], "h1", "/runs/a", NOW)
    export_state(state, tmp_path / "out")
    copy = str(tmp_path / "copy.duckdb")
    import_state(copy, tmp_path / "out")
    with open_store(copy).write() as session:
        rows = session.local_runs(["flying"])
    assert (rows["flying"].host, rows["flying"].runs_dir) == ("h1", "/runs/a")


def test_intents_waiting_for_a_slot_are_renewed_with_the_runners_claims(tmp_path: Path) -> None:
    from reconciler.platforms.local import LocalPlatform
    from reconciler.state.local_runs import RUN_LEASE

    state = str(tmp_path / "state.duckdb")
    with open_store(state).write() as session:  # a run of an earlier pass: its supervisor renews it
        session.record_local_owners(["earlier"], "h1", str(tmp_path / "runs"), NOW)
    platform = LocalPlatform(tmp_path / "runs", 0.0, state, host="h1")
    with open_store(state).write() as session:
        platform.own(session, ["pooled"], NOW)
    later = NOW + timedelta(minutes=2)
    with open_store(state).write() as session:
        platform.own(session, [], later)  # (each write of the pass, with its claims)
        rows = session.local_runs(["pooled", "earlier"])
    assert rows["pooled"].alive_until == later + RUN_LEASE
    assert rows["earlier"].alive_until == NOW
