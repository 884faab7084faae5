"""``reconciler history`` says which upstream re-run (or version change) made a covered
date outdated, on the newest run of that date, and the version each run ran with."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import main
from reconciler.core.batches import Batch, Outcome, RunIntent, batch_key, short_id
from reconciler.state.outdated_marks import OutdatedMark
from reconciler.state.store import Store, open_store

NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
FEB = [date(2026, 2, 1) + timedelta(days=i) for i in range(28)]


def run(store: Store, pid: str, day: date, ok: bool, version: str | None = None) -> None:
    key = batch_key(pid, (day,), None, 1)
    i = RunIntent(
        batch_id=short_id(key),
        key=key,
        pipeline_id=pid,
        dates=(day,),
        attempt=1,
        kind="run",
        request_id=None,
        priority=0,
        retry_schedule="every 5 minutes",
        platform="local",
        version=version,
    )
    batch = Batch(
        batch_id=i.batch_id,
        pipeline_id=pid,
        dates=(day,),
        status="running",
        attempt=1,
        kind="run",
        request_id=None,
        platform="local",
        platform_run_id=None,
        started_at=NOW,
    )
    with store.write() as w:
        w.record_intents([i], NOW)
        w.record_outcomes([(batch, Outcome(success=ok, ended_at=NOW), {})])


def history(state: Path, *args: str) -> str:
    ours = {k: None for k in os.environ if k.startswith("RECONCILER_")}
    result = CliRunner().invoke(
        main,
        ["history", "revenue", "--state", str(state), *args],
        env=ours,
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_history_names_what_made_a_covered_date_outdated(tmp_path: Path) -> None:
    state = tmp_path / "state.duckdb"
    store = open_store(str(state))
    run(store, "revenue", FEB[0], True, version="3")
    run(store, "revenue", FEB[1], False)
    upstream = OutdatedMark(
        pipeline_id="revenue",
        dates=(FEB[0], FEB[1]),
        cause_pipeline="orders_daily",
        cause_dates=(FEB[0], FEB[27]),
        cause_batch_id="abc123",
    )
    with store.write() as w:
        w.add_outdated_marks([upstream], NOW + timedelta(hours=1))
        w.add_outdated_marks(
            [
                replace(
                    upstream,
                    dates=(FEB[0], FEB[0]),
                    cause_dates=None,
                    cause_pipeline="revenue",
                    cause_batch_id=None,
                    cause_version="4",
                )
            ],
            NOW + timedelta(hours=2),
        )
    text = history(state)
    lines = text.splitlines()
    first = next(n for n, line in enumerate(lines) if line.startswith("2026-02-01"))
    assert lines[first + 1 : first + 3] == [
        "            outdated: orders_daily 2026-02-01..2026-02-28 re-ran at "
        "2026-03-01T07:00:00 (batch abc123)",
        "            outdated: version changed to 4 at 2026-03-01T08:00:00",
    ]
    assert text.count("outdated:") == 2  # the failed date is not covered: not outdated
    rows = {r["run_date"]: r for r in json.loads(history(state, "--format", "json"))}
    assert rows["2026-02-01"]["version"] == "3" and rows["2026-02-02"]["version"] is None
    assert rows["2026-02-02"]["outdated_by"] == []
    [by_upstream, by_version] = rows["2026-02-01"]["outdated_by"]
    assert by_upstream["cause_pipeline"] == "orders_daily"
    assert (by_upstream["cause_from"], by_upstream["cause_to"]) == ("2026-02-01", "2026-02-28")
    assert by_upstream["cause_batch_id"] == "abc123"
    assert (by_version["cause_from"], by_version["cause_version"]) == (None, "4")
