"""What happened in a pass, as plain records, and the pure rules that find it.

The pass finds these events (in its plan and its runs' outcomes) and records them in
the transaction of what caused them; ``notify`` only turns each into notifications
(docs/notifications.md). Dates out of retries and completed requests are found again on
every pass until their notifications are recorded, so a pass that stopped half-way, or a
config change (fewer retries), is caught up with.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from reconciler.core.batches import Batch, Outcome, run_row_id
from reconciler.core.check_results import CheckResult
from reconciler.core.coverage import Observed
from reconciler.core.plan import Plan
from reconciler.core.spec import BackfillRequest, RetryPolicy


@dataclass(frozen=True, slots=True)
class SlaBreached:
    """A date's SLA deadline passed without a successful run (recorded for the first time)."""

    pipeline_id: str
    date: date
    deadline: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEnded:
    """A run finished: how, with its quality checks' results, and whether a failure is
    final (no retry follows it)."""

    batch: Batch
    outcome: Outcome
    checks: tuple[CheckResult, ...] = ()
    final_failure: bool = False

    @property
    def pipeline_id(self) -> str:
        return self.batch.pipeline_id


@dataclass(frozen=True, slots=True, kw_only=True)
class DateOutOfRetries:
    """A due date whose last run failed and that no retry will run; ``run_id`` is that
    run's row id, ``error`` its message (read from the state only when needed)."""

    pipeline_id: str
    date: date
    run_id: str
    attempts: int
    request_id: str | None
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestCompleted:
    """Every date of a backfill request is done; ``digest`` counts its dates by how they
    ended (``dates``, ``succeeded``, ``failed``, ``failed_dates``, ...)."""

    pipeline_id: str
    request: BackfillRequest
    digest: Mapping[str, Any] = field(default_factory=dict)


PassEvent = SlaBreached | RunEnded | DateOutOfRetries | RequestCompleted


def out_of_retries(policy: RetryPolicy, attempt: int) -> bool:
    """No retry follows a failure of ``attempt`` (docs/planning.md, retries)."""
    return not policy.enabled or attempt - 1 >= policy.max_retries


def run_ended(
    batch: Batch, outcome: Outcome, checks: Sequence[CheckResult], policy: RetryPolicy
) -> RunEnded:
    """The event of a finished run under its pipeline's retry ``policy``."""
    # a cancelled run is no failure to report: it was stopped on purpose
    final = not outcome.success and not outcome.canceled and out_of_retries(policy, batch.attempt)
    return RunEnded(batch=batch, outcome=outcome, checks=tuple(checks), final_failure=final)


def late_dates(
    deadlines: Mapping[date, datetime], sla_since: datetime | None, ended_at: datetime
) -> list[tuple[date, datetime]]:
    """The dates of a run that ended after their SLA deadline; deadlines before SLA
    tracking began (``sla_since``) are history, as in the planner."""
    if sla_since is None:
        return []
    return [(d, when) for d, when in deadlines.items() if sla_since < when < ended_at]


def plan_breaches(plan: Plan) -> dict[str, list[tuple[date, datetime]]]:
    """The plan's SLA breaches per pipeline, as (date, deadline), in plan order."""
    out: dict[str, list[tuple[date, datetime]]] = {}
    for breach in plan.sla_breaches:
        out.setdefault(breach.pipeline_id, []).append((breach.date, breach.deadline))
    return out


def dates_out_of_retries(
    plan: Plan, observed: Observed, pipeline_ids: Collection[str]
) -> list[DateOutOfRetries]:
    """The plan's ``retries_exhausted`` gap dates of ``pipeline_ids`` whose failed run is
    known, without their errors."""
    out: list[DateOutOfRetries] = []
    for gap in plan.gaps:
        if gap.reason != "retries_exhausted" or gap.pipeline_id not in pipeline_ids:
            continue
        obs = observed.of(gap.pipeline_id)
        for day in gap.dates:
            failed = obs.failed.get(day)
            if failed is not None and failed.run_id:
                out.append(
                    DateOutOfRetries(
                        pipeline_id=gap.pipeline_id,
                        date=day,
                        run_id=run_row_id(failed.run_id, day),
                        attempts=failed.attempt,
                        request_id=failed.request_id,
                    )
                )
    return out


def with_errors(
    events: Iterable[DateOutOfRetries], errors: Mapping[str, str | None]
) -> list[DateOutOfRetries]:
    """The events with their runs' error messages (run row id -> message)."""
    return [replace(e, error=errors.get(e.run_id)) for e in events]
