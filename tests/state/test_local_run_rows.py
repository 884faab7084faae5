"""``local_runs`` rows: the first owner stays, old rows of ended runs go, runs in flight stay."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from reconciler.state import local_runs
from reconciler.state.connection import transaction

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_owner_rows_are_kept_while_in_flight_and_forgotten_later(tmp_path: Path) -> None:
    state = str(tmp_path / "state.duckdb")
    old = NOW - timedelta(days=30)
    with transaction(state) as conn:
        local_runs.record_owners(conn, ["done", "flying"], "h1", "/runs/a", old)
        local_runs.record_owners(conn, ["done", "fresh"], "h2", "/runs/b", NOW)
        conn.execute(
            "INSERT INTO open_dates VALUES ('p', ?, 'running', 1, 'flying', NULL, NULL, NULL)",
            [date(2026, 1, 1)],
        )
    with transaction(state) as conn:
        rows = local_runs.read(conn, ["done", "flying", "fresh", "unknown"])
        assert {b: (r.host, r.runs_dir) for b, r in rows.items()} == {
            "done": ("h1", "/runs/a"),  # the first owner recorded stays
            "flying": ("h1", "/runs/a"),
            "fresh": ("h2", "/runs/b"),
        }
        local_runs.forget_finished(conn, NOW - timedelta(days=7))
    with transaction(state) as conn:
        assert set(local_runs.read(conn, ["done", "flying", "fresh"])) == {"flying", "fresh"}


def test_owner_rows_of_runs_in_flight_survive_export_and_import(tmp_path: Path) -> None:
    from reconciler.state.export import export_state, import_state

    state = str(tmp_path / "state.duckdb")
    with transaction(state) as conn:
        local_runs.record_owners(conn, ["flying"], "h1", "/runs/a", NOW)
    export_state(state, tmp_path / "out")
    copy = str(tmp_path / "copy.duckdb")
    import_state(copy, tmp_path / "out")
    with transaction(copy) as conn:
        rows = local_runs.read(conn, ["flying"])
    assert (rows["flying"].host, rows["flying"].runs_dir) == ("h1", "/runs/a")


def test_intents_waiting_for_a_slot_are_renewed_with_the_runners_claims(tmp_path: Path) -> None:
    from reconciler.platforms.local import LocalPlatform
    from reconciler.state.local_runs import RUN_LEASE

    state = str(tmp_path / "state.duckdb")
    with transaction(state) as conn:  # a run of an earlier pass: its supervisor renews it
        local_runs.record_owners(conn, ["earlier"], "h1", str(tmp_path / "runs"), NOW)
    platform = LocalPlatform(tmp_path / "runs", 0.0, state, host="h1")
    with transaction(state) as conn:
        platform.own(conn, ["pooled"], NOW)
    later = NOW + timedelta(minutes=2)
    with transaction(state) as conn:
        platform.own(conn, [], later)  # (each write of the pass, with its claims)
        rows = local_runs.read(conn, ["pooled", "earlier"])
    assert rows["pooled"].alive_until == later + RUN_LEASE
    assert rows["earlier"].alive_until == NOW
