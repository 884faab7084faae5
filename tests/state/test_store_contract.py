"""The state store contract, written against the ``Store`` interface.

Every test runs once per store factory in ``FACTORIES`` (and on PostgreSQL through
``tests/state_pg/test_store_contract_pg.py``). Only the interface is used: ``write()``
for one transaction, ``read()`` for a snapshot (``tests/store_reads.py`` opens one per
read).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.batches import Batch, Outcome, RunIntent, batch_key, short_id
from reconciler.core.coverage import Failed
from reconciler.core.spec import BackfillRequest
from reconciler.errors import StateError
from reconciler.state.store import Store, open_store
from tests import store_reads as reads

FACTORIES: dict[str, Callable[[Path], Store]] = {
    "duckdb": lambda tmp: open_store(str(tmp / "state.duckdb")),
}

NOW = datetime(2026, 1, 20, 6, 0, tzinfo=UTC)
D = [date(2025, 12, 31) + timedelta(days=i) for i in range(33)]  # D[1] is 2026-01-01


@pytest.fixture(params=sorted(FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    made = FACTORIES[request.param](tmp_path)
    with made.write() as w:
        w.sync_pipelines([(pipeline_row("p"), {"target": "x/{date}"})], NOW - timedelta(days=30))
    return made


def pipeline_row(pid: str, sla: time | None = time(6, 0), **config: Any) -> dict[str, Any]:
    flat = {"id": pid, "platform": "local", "schedule.type": "daily", **config}
    return {
        "pipeline_id": pid,
        "pipeline_name": pid,
        "platform": "local",
        "schedule_type": "daily",
        "sla_time": sla,
        "config_json": json.dumps({**flat, "sla.time": str(sla)}, sort_keys=True),
    }


def intent(
    dates: tuple[date, ...] | date,
    *,
    pid: str = "p",
    attempt: int = 1,
    kind: str = "run",
    request_id: str | None = None,
    priority: int = 0,
) -> RunIntent:
    days = dates if isinstance(dates, tuple) else (dates,)
    key = batch_key(pid, days, request_id, attempt)
    return RunIntent(
        batch_id=short_id(key),
        key=key,
        pipeline_id=pid,
        dates=days,
        attempt=attempt,
        kind=kind,
        request_id=request_id,
        priority=priority,
        retry_schedule="every 5 minutes",
        platform="local",
    )


def batch(i: RunIntent, started: datetime | None = None) -> Batch:
    return Batch(
        batch_id=i.batch_id,
        pipeline_id=i.pipeline_id,
        dates=i.dates,
        status="running",
        attempt=i.attempt,
        kind=i.kind,
        request_id=i.request_id,
        platform=i.platform,
        platform_run_id=i.batch_id,
        started_at=started,
    )


def start(store: Store, *intents: RunIntent, at: datetime = NOW) -> list[str]:
    """Record intents, then mark them running (what apply does around a platform start)."""
    with store.write() as w:
        written = w.record_intents(list(intents), at)
    with store.write() as w:
        w.mark_running([(i.batch_id, f"platform-{i.batch_id}", at) for i in intents])
    return written


def finish(
    store: Store,
    i: RunIntent,
    ok: bool,
    at: datetime = NOW + timedelta(minutes=1),
    error: str | None = None,
    deadlines: dict[date, datetime] | None = None,
) -> int:
    outcome = Outcome(
        success=ok,
        ended_at=at,
        error=None if ok else (error or "exit code 1: boom"),
        platform_run_id=None,
    )
    with store.write() as w:
        return w.record_outcomes([(batch(i, NOW), outcome, deadlines or {})])


def run_once(store: Store, i: RunIntent, ok: bool, at: datetime = NOW) -> None:
    start(store, i, at=at)
    finish(store, i, ok, at + timedelta(minutes=1))


def covered(store: Store, pid: str = "p") -> tuple[tuple[date, date], ...]:
    return tuple(reads.observe(store, [pid]).of(pid).covered)


# --- the run log: one row per date per attempt -------------------------------------------


def test_intent_is_pending_then_running_then_success(store: Store) -> None:
    i = intent(D[3])
    with store.write() as w:
        assert w.record_intents([i], NOW) == [i.batch_id]
    [row] = reads.history(store, "p", 10)
    assert (row.status, row.attempt, row.kind, row.batch_id) == ("pending", 1, "run", i.batch_id)
    assert row.start_time is None and row.end_time is None
    assert [b.batch_id for b in reads.in_flight(store)] == [i.batch_id]
    assert D[3] in reads.observe(store, ["p"]).of("p").in_flight

    with store.write() as w:
        w.mark_running([(i.batch_id, "platform-42", NOW)])
    [row] = reads.history(store, "p", 10)
    assert (row.status, row.platform_run_id, row.start_time) == ("running", "platform-42", NOW)
    [flying] = reads.in_flight(store)
    assert (flying.status, flying.platform_run_id, flying.dates) == (
        "running",
        "platform-42",
        (D[3],),
    )

    assert finish(store, i, True, NOW + timedelta(seconds=90)) == 1
    [row] = reads.history(store, "p", 10)
    assert row.status == "success"
    assert row.end_time == NOW + timedelta(seconds=90)
    assert row.error_message is None
    assert reads.in_flight(store) == []
    seen = reads.observe(store, ["p"]).of("p")
    assert seen.covered == ((D[3], D[3]),)
    assert not seen.in_flight and not seen.failed


def test_failure_is_recorded_with_its_error_and_opens_the_date(store: Store) -> None:
    i = intent(D[4])
    start(store, i)
    finish(store, i, False, NOW + timedelta(minutes=2), error="exit code 3: disk full")
    [row] = reads.history(store, "p", 10)
    assert (row.status, row.error_message) == ("failed", "exit code 3: disk full")
    seen = reads.observe(store, ["p"]).of("p")
    assert seen.covered == ()
    failed = seen.failed[D[4]]
    assert (failed.attempt, failed.ended_at, failed.run_id) == (
        1,
        NOW + timedelta(minutes=2),
        i.batch_id,
    )


def test_each_attempt_is_its_own_row_and_the_newest_decides(store: Store) -> None:
    first, retry = intent(D[5]), intent(D[5], attempt=2, kind="retry")
    run_once(store, first, False)
    run_once(store, retry, True, NOW + timedelta(minutes=10))
    rows = reads.history(store, "p", 10)
    assert [(r.attempt, r.status, r.kind) for r in rows] == [
        (2, "success", "retry"),
        (1, "failed", "run"),
    ]
    assert len({r.run_id for r in rows}) == 2
    seen = reads.observe(store, ["p"]).of("p")
    assert seen.covered == ((D[5], D[5]),) and not seen.failed


def test_date_runs_reads_one_dates_attempts_and_their_checks(store: Store) -> None:
    first, retry = intent(D[5]), intent(D[5], attempt=2, kind="retry")
    run_once(store, first, False)
    run_once(store, intent(D[6]), True)
    run_once(store, retry, True, NOW + timedelta(minutes=10))
    with store.write() as w:
        w.record_checks([(batch(retry), [_Check("rows", False, "0 rows")])], NOW)
    with store.read() as s:
        rows = s.date_runs("p", D[5])
        checks = s.quality_results([r.run_id for r in rows])
        assert s.date_runs("p", D[7]) == [] and s.quality_results([]) == []
    assert [(r.run_date, r.attempt, r.status) for r in rows] == [
        (D[5], 1, "failed"),
        (D[5], 2, "success"),
    ]
    assert [(c.run_id, c.check_name, c.passed, c.error_details) for c in checks] == [
        (rows[1].run_id, "rows", False, "0 rows")
    ]


@dataclass(frozen=True)
class _Check:
    name: str
    passed: bool
    details: str | None
    engine: str = "duckdb"
    on_fail: str = "fail"
    could_run: bool = True


def test_a_multi_date_run_writes_one_row_per_date_sharing_its_ids(store: Store) -> None:
    i = intent((D[1], D[2], D[3]), kind="backfill")
    run_once(store, i, True)
    rows = reads.history(store, "p", 10)
    assert sorted(r.run_date for r in rows) == [D[1], D[2], D[3]]
    assert {r.batch_id for r in rows} == {i.batch_id}
    assert {r.platform_run_id for r in rows} == {f"platform-{i.batch_id}"}
    assert len({r.run_id for r in rows}) == 3
    assert {r.status for r in rows} == {"success"}
    assert covered(store) == ((D[1], D[3]),)


def test_sla_met_is_recorded_per_date(store: Store) -> None:
    i = intent((D[1], D[2]))
    start(store, i)
    ended = NOW + timedelta(minutes=1)
    deadlines = {D[1]: ended - timedelta(hours=1), D[2]: ended + timedelta(hours=1)}
    finish(store, i, True, ended, deadlines=deadlines)
    met = {r.run_date: r.sla_met for r in reads.history(store, "p", 10)}
    assert met == {D[1]: False, D[2]: True}


# --- compact coverage -------------------------------------------------------------------


def test_coverage_ranges_merge_as_dates_succeed(store: Store) -> None:
    for day in (D[1], D[3], D[5]):
        run_once(store, intent(day), True)
    assert covered(store) == ((D[1], D[1]), (D[3], D[3]), (D[5], D[5]))
    run_once(store, intent(D[2]), True)
    assert covered(store) == ((D[1], D[3]), (D[5], D[5]))
    run_once(store, intent(D[4]), True)
    assert covered(store) == ((D[1], D[5]),)


def test_a_rerun_that_fails_splits_coverage_and_a_success_mends_it(store: Store) -> None:
    run_once(store, intent(tuple(D[1:8]), kind="backfill"), True)
    assert covered(store) == ((D[1], D[7]),)
    rerun = intent(D[4], kind="backfill", request_id="fix-1", priority=5)
    run_once(store, rerun, False)
    assert covered(store) == ((D[1], D[3]), (D[5], D[7]))
    assert reads.observe(store, ["p"]).of("p").failed[D[4]].request_id == "fix-1"
    # the ends of a range, too
    run_once(store, intent(D[1], kind="backfill", request_id="fix-1"), False)
    run_once(store, intent(D[7], kind="backfill", request_id="fix-1"), False)
    assert covered(store) == ((D[2], D[3]), (D[5], D[6]))
    run_once(store, intent(D[4], attempt=2, kind="retry", request_id="fix-1"), True)
    assert covered(store) == ((D[2], D[6]),)


def test_failed_dates_keep_each_attempt_time_and_ids(store: Store) -> None:
    """Dates failed at different attempts (the store reads attempts as a range first)."""
    first = intent(D[2])
    run_once(store, first, False, at=NOW)
    run_once(store, intent(D[3]), False, at=NOW)
    second = intent(D[3], attempt=2, kind="retry")
    run_once(store, second, False, at=NOW + timedelta(hours=1))
    third = intent(D[5], attempt=3, kind="retry", request_id="fix-2")
    run_once(store, third, False, at=NOW + timedelta(hours=2))
    failed = reads.observe(store, ["p"]).of("p").failed
    assert sorted(failed) == [D[2], D[3], D[5]]
    assert [failed[d].attempt for d in (D[2], D[3], D[5])] == [1, 2, 3]
    assert failed[D[2]].run_id == first.batch_id and failed[D[2]].request_id is None
    assert failed[D[3]].run_id == second.batch_id
    assert failed[D[3]].ended_at == NOW + timedelta(hours=1, minutes=1)
    assert failed[D[5]].request_id == "fix-2" and failed[D[5]].run_id == third.batch_id
    # a second pipeline whose failures share one attempt reads beside it
    with store.write() as w:
        w.sync_pipelines([(pipeline_row("q"), {})], NOW)
    run_once(store, intent((D[7], D[8]), pid="q", kind="backfill"), False)
    seen = reads.observe(store, ["p", "q"])
    assert [seen.of("q").failed[d].attempt for d in (D[7], D[8])] == [1, 1]
    assert seen.of("p").failed == failed


def test_failure_details_are_read_only_where_a_retry_may_come(store: Store) -> None:
    """With retry limits, exhausted dates come with their attempt only; the others (and
    pipelines the limits leave out) with end time and ids as before."""
    run_once(store, intent(D[2]), False, at=NOW)
    run_once(store, intent(D[3], request_id="fix-1"), False, at=NOW)
    run_once(store, intent(D[3], attempt=2, kind="retry", request_id="fix-1"), False, at=NOW)
    with store.write() as w:
        w.sync_pipelines([(pipeline_row("q"), {})], NOW)
    run_once(store, intent(D[7], pid="q"), False, at=NOW)
    full = reads.observe(store, ["p", "q"])
    limited = reads.observe(store, ["p", "q"], {"p": 2})  # p: attempt 2 exhausts; q: all details
    assert limited.of("q").failed == full.of("q").failed
    p_full, p_limited = full.of("p").failed, limited.of("p").failed
    assert sorted(p_limited) == sorted(p_full) == [D[2], D[3]]
    assert p_limited[D[2]] == p_full[D[2]] and p_full[D[2]].ended_at is not None
    assert p_limited[D[3]] == Failed(attempt=2, ended_at=None)
    assert p_full[D[3]].request_id == "fix-1"
    nothing = reads.observe(store, ["p"], {"p": 1})  # retries off: no details at all
    assert [f.ended_at for f in nothing.of("p").failed.values()] == [None, None]
    with store.read() as session:
        observed, _ = session.plan_inputs(["p"], {"p": 2})
    assert observed.of("p").failed == p_limited


def test_a_date_in_flight_is_open_not_covered_until_it_ends(store: Store) -> None:
    run_once(store, intent(D[2]), True)
    rerun = intent(D[2], kind="backfill", request_id="again")
    start(store, rerun)
    seen = reads.observe(store, ["p"]).of("p")
    assert D[2] in seen.in_flight and seen.in_flight[D[2]].request_id == "again"
    finish(store, rerun, True)
    assert covered(store) == ((D[2], D[2]),)


def test_coverage_is_kept_per_pipeline(store: Store) -> None:
    with store.write() as w:
        w.sync_pipelines([(pipeline_row("q"), {})], NOW)
    run_once(store, intent(D[1]), True)
    run_once(store, intent(D[2], pid="q"), True)
    seen = reads.observe(store, ["p", "q"])
    assert seen.of("p").covered == ((D[1], D[1]),)
    assert seen.of("q").covered == ((D[2], D[2]),)


# --- idempotency ------------------------------------------------------------------------


def test_record_intents_is_idempotent(store: Store) -> None:
    i = intent((D[1], D[2]))
    with store.write() as w:
        assert w.record_intents([i, i], NOW) == [i.batch_id]
    with store.write() as w:
        assert w.record_intents([i], NOW + timedelta(seconds=1)) == []
    assert len(reads.history(store, "p", 10)) == 2
    finish(store, i, True)
    with store.write() as w:  # a finished batch is never written (or started) again
        assert w.record_intents([i], NOW + timedelta(hours=1)) == []
    assert [r.status for r in reads.history(store, "p", 10)] == ["success", "success"]


def test_recording_an_outcome_twice_changes_nothing(store: Store) -> None:
    i = intent(D[3])
    start(store, i)
    assert finish(store, i, True) == 1
    assert finish(store, i, False, NOW + timedelta(hours=1)) == 0
    [row] = reads.history(store, "p", 10)
    assert row.status == "success"
    assert covered(store) == ((D[3], D[3]),)


def test_a_failed_write_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write() as w:
        w.record_intents([intent(D[9])], NOW)
        raise RuntimeError("crash in the middle of a transaction")
    assert reads.history(store, "p", 10) == [] and reads.in_flight(store) == []


# --- the backfill queue -----------------------------------------------------------------


def test_backfill_queue_moves_pending_in_progress_done(store: Store) -> None:
    ok = intent(D[1], kind="backfill", request_id="r1", priority=7)
    bad = intent(D[2], kind="backfill", request_id="r1", priority=7)
    with store.write() as w:
        assert w.enqueue_backfills([ok, bad, intent(D[9])], NOW) == 2
    queue = reads.backfill_queue(store, "p")
    assert [(q.date_to_process, q.status, q.priority) for q in queue] == [
        (D[1], "pending", 7),
        (D[2], "pending", 7),
    ]
    assert reads.observe(store, ["p"]).of("p").request_done == {}  # pending is not done
    start(store, ok, bad)
    assert {q.status for q in reads.backfill_queue(store, "p")} == {"in_progress"}
    assert {q.batch_id for q in reads.backfill_queue(store, "p")} == {ok.batch_id, bad.batch_id}
    finish(store, ok, True)
    finish(store, bad, False)
    assert [(q.date_to_process, q.status) for q in reads.backfill_queue(store, "p")] == [
        (D[1], "done"),
        (D[2], "failed"),
    ]
    assert reads.observe(store, ["p"]).of("p").request_done == {"r1": ((D[1], D[2]),)}
    rows = reads.history(store, "p", 10)
    assert all(r.request_id == "r1" and r.kind == "backfill" for r in rows)


def test_a_retry_of_a_backfilled_date_moves_its_queue_row_again(store: Store) -> None:
    first = intent(D[3], kind="backfill")  # an automatic backfill (no request)
    with store.write() as w:
        w.enqueue_backfills([first], NOW)
    run_once(store, first, False)
    [row] = reads.backfill_queue(store, "p")
    assert (row.status, row.request_id, row.retry_attempts) == ("failed", None, 0)
    retry = intent(D[3], attempt=2, kind="retry")
    start(store, retry)
    [row] = reads.backfill_queue(store, "p")
    assert (row.status, row.batch_id, row.retry_attempts) == ("in_progress", retry.batch_id, 1)
    finish(store, retry, True)
    assert reads.backfill_queue(store, "p")[0].status == "done"


def test_deleting_a_pipeline_cancels_its_pending_backfills(store: Store) -> None:
    with store.write() as w:
        w.enqueue_backfills([intent(D[1], kind="backfill")], NOW)
        w.mark_deleted(["p"], NOW)
    assert [q.status for q in reads.backfill_queue(store, "p")] == ["canceled"]


# --- what the planner reads -------------------------------------------------------------


def test_observe_gives_the_planner_everything_it_needs(store: Store) -> None:
    with store.write() as w:
        w.sync_pipelines([(pipeline_row("gone"), {})], NOW)
    run_once(store, intent((D[1], D[2])), True)
    run_once(store, intent(D[3]), False)
    start(store, intent(D[4]))
    run_once(store, intent(D[1], kind="backfill", request_id="req"), True)
    with store.write() as w:
        assert w.record_breaches("p", [(D[3], NOW - timedelta(hours=1))], NOW) == [D[3]]
        assert w.record_breaches("p", [(D[3], NOW - timedelta(hours=1))], NOW) == []
        w.mark_deleted(["gone"], NOW)
    seen = reads.observe(store, ["p", "gone", "never_synced"])
    p = seen.of("p")
    assert p.covered == ((D[1], D[2]),)
    assert set(p.failed) == {D[3]} and p.failed[D[3]].attempt == 1
    assert set(p.in_flight) == {D[4]} and p.in_flight[D[4]].attempt == 1
    assert p.request_done == {"req": ((D[1], D[1]),)}
    assert p.sla_since == NOW - timedelta(days=30)
    assert p.sla_recorded == frozenset({D[3]})
    assert seen.applied_config["p"]["id"] == "p"
    assert seen.deleted == frozenset({"gone"})
    assert seen.of("gone").sla_since is None
    assert seen.of("never_synced").covered == ()


def test_ad_hoc_requests_are_kept_and_unique(store: Store) -> None:
    request = BackfillRequest(id="adhoc-1", start=D[1], end=D[5], priority=3, reason="late data")
    with store.write() as w:
        w.add_request("p", request, NOW)
    with store.read() as session:
        observed, requests = session.plan_inputs(["p", "q"])  # (one read for both)
    assert requests == {"p": (request,)} and observed == reads.observe(store, ["p", "q"])
    with pytest.raises(StateError, match="already exists"), store.write() as w:
        w.add_request("p", request, NOW)


def test_sync_reports_changes_and_keeps_timestamps_honest(store: Store) -> None:
    later = NOW + timedelta(days=1)
    with store.write() as w:
        assert w.sync_pipelines([(pipeline_row("p"), {"target": "x/{date}"})], later) == {}
        assert w.sync_pipelines([(pipeline_row("p", retry=3), {})], later) == {"p": "update"}
        w.mark_deleted(["p"], later)
        assert w.active_pipeline_ids() == set()
    assert reads.observe(store, ["p"]).deleted == frozenset({"p"})
    with store.write() as w:
        assert w.sync_pipelines([(pipeline_row("p", retry=3), {})], later) == {"p": "create"}
        assert w.active_pipeline_ids() == {"p"}
    seen = reads.observe(store, ["p"])
    assert seen.deleted == frozenset()
    assert seen.of("p").sla_since == NOW - timedelta(days=30)  # created once
    assert seen.applied_config["p"]["retry"] == 3


def test_sync_writes_many_pipelines_and_their_parameters_at_once(store: Store) -> None:
    """Creates, updates and unchanged rows mixed in one call, with rows of two shapes."""
    later = NOW + timedelta(days=1)
    fleet = [(pipeline_row(f"f{i}"), {"n": str(i), "target": f"t{i}"}) for i in range(50)]
    bare = {"pipeline_id": "bare", "platform": "local", "config_json": "{}"}
    with store.write() as w:
        changes = w.sync_pipelines([*fleet, (bare, {})], NOW)
    assert changes == {**{f"f{i}": "create" for i in range(50)}, "bare": "create"}
    assert parameters(store, "f7") == {"n": "7", "target": "t7"}
    edited = [(pipeline_row(f"f{i}", retry=i), {"n": "x"}) for i in range(0, 50, 2)]
    with store.write() as w:  # every other one changes; p (from the fixture) is as it was
        changes = w.sync_pipelines([*edited, fleet[1], (pipeline_row("p"), {})], later)
    assert changes == {f"f{i}": "update" for i in range(0, 50, 2)}
    assert parameters(store, "f2") == {"n": "x"} and parameters(store, "f3")["n"] == "3"
    assert parameters(store, "p") == {"target": "x/{date}"}  # unchanged: not rewritten
    seen = reads.observe(store, ["f2", "f3", "bare"])
    assert seen.applied_config["f2"]["retry"] == 2 and "retry" not in seen.applied_config["f3"]
    assert seen.of("f2").sla_since == NOW  # the same SLA: tracking goes on
    assert seen.of("bare").sla_since is None
    with store.write() as w:
        stamps = {
            pid: (created, updated)
            for pid, created, updated in w.conn.execute(
                "SELECT pipeline_id, created_at, updated_at FROM pipelines "
                "WHERE pipeline_id IN ('f2', 'f3')"
            ).fetchall()
        }
    naive_now, naive_later = NOW.replace(tzinfo=None), later.replace(tzinfo=None)
    assert stamps == {"f2": (naive_now, naive_later), "f3": (naive_now, naive_now)}


def parameters(store: Store, pid: str) -> dict[str, str]:
    with store.write() as w:
        rows = w.conn.execute(
            "SELECT parameter_id, parameter_name, parameter_value FROM pipeline_parameters "
            "WHERE pipeline_id = ?",
            [pid],
        ).fetchall()
    assert all(row[0] == f"{pid}:{row[1]}" for row in rows)
    return {name: value for _, name, value in rows}


def test_sla_tracking_starts_when_the_sla_is_applied(store: Store) -> None:
    """An SLA added to an old pipeline must not turn its whole history into breaches."""
    later, much_later = NOW + timedelta(days=1), NOW + timedelta(days=2)
    with store.write() as w:
        w.sync_pipelines([(pipeline_row("q", sla=None), {})], NOW)
    assert reads.observe(store, ["q"]).of("q").sla_since is None
    with store.write() as w:
        assert w.sync_pipelines([(pipeline_row("q"), {})], later) == {"q": "update"}
    assert reads.observe(store, ["q"]).of("q").sla_since == later
    with store.write() as w:  # another field changes: tracking goes on from before
        w.sync_pipelines([(pipeline_row("q", retry=5), {})], much_later)
    assert reads.observe(store, ["q"]).of("q").sla_since == later
    with store.write() as w:  # a new SLA time starts afresh
        w.sync_pipelines([(pipeline_row("q", sla=time(9, 0), retry=5), {})], much_later)
    assert reads.observe(store, ["q"]).of("q").sla_since == much_later
    with store.write() as w:
        w.sync_pipelines([(pipeline_row("q", sla=None, retry=5), {})], much_later)
    assert reads.observe(store, ["q"]).of("q").sla_since is None


def test_in_flight_lists_unfinished_batches_oldest_first(store: Store) -> None:
    a, b = intent((D[1], D[2]), kind="backfill"), intent(D[7])
    with store.write() as w:
        w.record_intents([a], NOW)
    with store.write() as w:
        w.record_intents([b], NOW + timedelta(seconds=5))
    flying = reads.in_flight(store)
    assert [(f.batch_id, f.dates, f.status, f.kind) for f in flying] == [
        (a.batch_id, (D[1], D[2]), "pending", "backfill"),
        (b.batch_id, (D[7],), "pending", "run"),
    ]
    finish(store, a, True)
    assert [f.batch_id for f in reads.in_flight(store)] == [b.batch_id]
