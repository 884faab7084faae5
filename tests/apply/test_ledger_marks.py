"""The pass ledger writes outdated marks: a successful run of an upstream marks the dates
of its users that read the dates it ran, in the transaction that records the outcome;
a failure marks nothing, and intents recorded by a write cut the marks on their dates."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from reconciler.clock import FixedClock
from reconciler.core.batches import Batch, Outcome, RunIntent, batch_key, short_id
from reconciler.core.coverage import Observed, PipelineObserved
from reconciler.core.lifecycle import BatchState
from reconciler.core.spec import Dependency, PipelineSpec, Schedule
from reconciler.notify.outbox import Outbox
from reconciler.reconcile.executor import Changes
from reconciler.reconcile.pass_events import PassEvents
from reconciler.reconcile.pass_ledger import PassLedger
from reconciler.state.store import Store, open_store

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
FEB = [date(2026, 2, 1) + timedelta(days=i) for i in range(28)]
ORDERS = PipelineSpec(id="orders_daily", schedule=Schedule(type="daily", start=date(2026, 1, 1)))
MONTHLY = PipelineSpec(
    id="revenue_monthly",
    schedule=Schedule(type="monthly", start=date(2026, 1, 31), days=(-1,)),
    depends_on=(Dependency(pipeline="orders_daily"),),
)
SAME_DAY = PipelineSpec(
    id="orders_clean",
    schedule=Schedule(type="daily", start=date(2026, 1, 1)),
    depends_on=(Dependency(pipeline="orders_daily", dates="same"),),
)
IGNORES = replace(SAME_DAY, id="orders_sample", refresh_on_upstream_change=False)
SPECS = {s.id: s for s in (ORDERS, MONTHLY, SAME_DAY, IGNORES)}


def intent(pid: str, dates: tuple[date, ...], attempt: int = 1) -> RunIntent:
    key = batch_key(pid, dates, None, attempt)
    return RunIntent(
        batch_id=short_id(key),
        key=key,
        pipeline_id=pid,
        dates=dates,
        attempt=attempt,
        kind="run" if attempt == 1 else "refresh",
        request_id=None,
        priority=0,
        retry_schedule="every 5 minutes",
        platform="local",
        version="v1",
    )


def ended(i: RunIntent, ok: bool) -> BatchState:
    batch = Batch(
        batch_id=i.batch_id,
        pipeline_id=i.pipeline_id,
        dates=i.dates,
        status="running",
        attempt=i.attempt,
        kind=i.kind,
        request_id=None,
        platform="local",
        platform_run_id="run-1",
        started_at=NOW - timedelta(minutes=5),
    )
    outcome = Outcome(success=ok, ended_at=NOW, error=None if ok else "boom")
    return BatchState(batch=batch, phase="ended", marked=True, outcome=outcome)


# what the pass planned from: February of orders_daily covered, so running it again is a
# re-run (a date's first plain run marks nothing: nobody read it)
COVERED = Observed({"orders_daily": PipelineObserved(covered=[(FEB[0], FEB[-1])])})


def ledger(store: Store, observed: Observed = COVERED) -> PassLedger:
    clock = FixedClock(NOW)
    outbox = Outbox({}, SPECS, clock, {}, store=store)
    return PassLedger(
        store=store,
        lock=store.acquire_lock(NOW),
        clock=clock,
        specs=SPECS,
        platforms={},
        events=PassEvents({}, SPECS, outbox),
        outbox=outbox,
        observed=observed,
        renewed_at=time.monotonic(),
    )


def write(
    book: PassLedger, *, ended_: tuple[BatchState, ...] = (), intents: Sequence[RunIntent] = ()
) -> set[str]:
    return book.write(Changes(started=(), ended=ended_, intents=tuple(intents), following=()))


def marked(store: Store, pid: str) -> list[tuple[date, date]]:
    with store.read() as session:
        return list(session.observe([pid]).of(pid).outdated)


def test_a_successful_upstream_run_marks_the_dates_of_its_users(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "state.duckdb"))
    book = ledger(store)
    rerun = intent("orders_daily", tuple(FEB[9:12]), attempt=2)
    write(book, intents=[rerun])
    write(book, ended_=(ended(rerun, ok=True),))
    assert marked(store, "revenue_monthly") == [(date(2026, 2, 28), date(2026, 2, 28))]
    assert marked(store, "orders_clean") == [(FEB[9], FEB[11])]
    assert marked(store, "orders_sample") == []  # it asked not to be refreshed
    assert marked(store, "orders_daily") == []
    with store.read() as session:
        [mark] = session.outdated_marks("revenue_monthly", FEB[27], FEB[27])
        [row] = [r for r in session.history("orders_daily", 10) if r.run_date == FEB[9]]
    assert (mark.cause_pipeline, mark.cause_dates) == ("orders_daily", (FEB[9], FEB[11]))
    assert (mark.cause_batch_id, mark.marked_at) == (rerun.batch_id, NOW)
    assert row.version == "v1"


def test_a_first_plain_run_marks_nothing_and_a_request_run_marks(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "state.duckdb"))
    book = ledger(store, Observed())  # nothing covered yet
    first = intent("orders_daily", (FEB[3],))
    write(book, intents=[first])
    write(book, ended_=(ended(first, ok=True),))
    assert marked(store, "orders_clean") == []
    asked = replace(intent("orders_daily", (FEB[4],)), request_id="fix-feb")
    write(book, intents=[asked])
    state = ended(asked, ok=True)
    write(book, ended_=(replace(state, batch=replace(state.batch, request_id="fix-feb")),))
    assert marked(store, "orders_clean") == [(FEB[4], FEB[4])]


def test_a_failed_upstream_run_marks_nothing(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "state.duckdb"))
    book = ledger(store)
    rerun = intent("orders_daily", (FEB[3],))
    write(book, intents=[rerun])
    write(book, ended_=(ended(rerun, ok=False),))
    assert marked(store, "orders_clean") == []


def test_an_intent_in_the_same_write_reads_the_new_data(tmp_path: Path) -> None:
    """Outcomes are recorded before the write's intents: a run recorded with the upstream
    success starts after it, so its dates are not left outdated."""
    store = open_store(str(tmp_path / "state.duckdb"))
    book = ledger(store)
    rerun = intent("orders_daily", (FEB[3], FEB[4]))
    write(book, intents=[rerun])
    clean = intent("orders_clean", (FEB[3],))
    write(book, ended_=(ended(rerun, ok=True),), intents=[clean])
    assert marked(store, "orders_clean") == [(FEB[4], FEB[4])]
