"""Recording check results: ``data_quality_log`` rows and ``data_quality_passed`` on runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from reconciler.core.batches import Batch, run_row_id
from reconciler.masking import mask_opt
from reconciler.state.connection import Connection, naive


class CheckRecord(Protocol):
    """One check's result as stored (``reconciler.quality.results.CheckResult``)."""

    @property
    def name(self) -> str: ...
    @property
    def engine(self) -> str: ...
    @property
    def on_fail(self) -> str: ...
    @property
    def passed(self) -> bool: ...
    @property
    def details(self) -> str | None: ...
    @property
    def could_run(self) -> bool: ...


def record_checks(
    conn: Connection, items: Sequence[tuple[Batch, Sequence[CheckRecord]]], now: datetime
) -> None:
    """One log row per date per check (a multi-date run shares its checks' results).

    A run with checks gets ``data_quality_passed``: true when every check passed
    (``warn`` ones included). Writing the same results twice changes nothing.
    """
    log: list[tuple[Any, ...]] = []
    passed: list[tuple[str, bool]] = []
    stamp = naive(now)
    for batch, results in items:
        if not results:
            continue
        every = all(r.passed for r in results)
        for day in batch.dates:
            run_id = run_row_id(batch.batch_id, day)
            passed.append((run_id, every))
            for r in results:
                log.append(
                    (
                        f"{run_id}:{r.name}",
                        run_id,
                        r.name,
                        r.passed,
                        mask_opt(r.details),
                        stamp,
                        batch.pipeline_id,
                        batch.batch_id,
                        day,
                        r.engine,
                        r.on_fail,
                        r.could_run,
                    )
                )
    if not log:
        return
    columns = [list(c) for c in zip(*log, strict=True)]
    conn.execute(
        """INSERT INTO data_quality_log (quality_check_id, run_id, check_name, check_result,
               error_details, created_at, pipeline_id, batch_id, run_date, engine, on_fail,
               could_run)
           SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),
                  unnest(?::BOOLEAN[]), unnest(?::VARCHAR[]), unnest(?::TIMESTAMP[]),
                  unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::DATE[]),
                  unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::BOOLEAN[])
           ON CONFLICT (quality_check_id) DO NOTHING""",
        columns,
    )
    conn.execute(
        """UPDATE pipeline_run_log SET data_quality_passed = v.passed
           FROM (SELECT unnest(?::VARCHAR[]) AS run_id, unnest(?::BOOLEAN[]) AS passed) v
           WHERE pipeline_run_log.run_id = v.run_id""",
        [[p[0] for p in passed], [p[1] for p in passed]],
    )
