"""What a pass's plan and outcomes mean for notifications, recorded in its transactions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from reconciler.core.batches import Batch, Outcome
from reconciler.core.check_results import CheckResult
from reconciler.core.coverage import Observed
from reconciler.core.plan import Plan
from reconciler.core.spec import PipelineSpec
from reconciler.notify.channels import wants
from reconciler.notify.detect import plan_notes
from reconciler.notify.events import breach_notes, outcome_notes
from reconciler.notify.outbox import Outbox
from reconciler.state.config_writes import record_breaches
from reconciler.state.connection import Connection
from reconciler.state.notification_rows import NewNotification
from reconciler.state.quality_rows import record_checks

if TYPE_CHECKING:
    from reconciler.config.models import AnyPipeline

Finished = tuple[Batch, Outcome, dict[date, datetime]]


class PassEvents:
    """Turns plans and outcomes into recorded notifications (sent by ``outbox``)."""

    def __init__(
        self,
        pipelines: Mapping[str, AnyPipeline],
        specs: Mapping[str, PipelineSpec],
        outbox: Outbox,
    ) -> None:
        self.pipelines = pipelines
        self.specs = specs
        self.outbox = outbox
        self.plan_events = any(
            wants(p, "failure") or wants(p, "backfill_complete") for p in pipelines.values()
        )
        self.any_sla = any(p.sla is not None for p in pipelines.values())

    def note_plan(
        self,
        conn: Connection,
        plan: Plan,
        observed: Observed,
        run_specs: Mapping[str, PipelineSpec],
        now: datetime,
    ) -> None:
        """The plan's SLA breaches recorded (new ones notified); dates out of retries and
        finished backfill requests noted, each once."""
        by_pipeline: dict[str, list[tuple[date, datetime]]] = {}
        for breach in plan.sla_breaches:
            by_pipeline.setdefault(breach.pipeline_id, []).append((breach.date, breach.deadline))
        notes: list[NewNotification] = []
        for pid, breaches in by_pipeline.items():
            notes += self._breaches(conn, pid, breaches, now)
        if self.plan_events:
            notes += plan_notes(conn, plan, observed, self.pipelines, run_specs)
        self.outbox.record(conn, notes)

    def record_outcomes(
        self,
        conn: Connection,
        finished: Sequence[Finished],
        results: Mapping[str, list[CheckResult]],
        observed: Observed,
        now: datetime,
    ) -> None:
        """Check results, late dates (SLA breaches) and the notifications outcomes make."""
        checks = [(b, results[b.batch_id]) for b, _, _ in finished if b.batch_id in results]
        if checks:
            record_checks(conn, checks, now)
        notes: list[NewNotification] = []
        for batch, outcome, deadlines in finished:
            pipeline = self.pipelines.get(batch.pipeline_id)
            spec = self.specs.get(batch.pipeline_id)
            if pipeline is None or spec is None:
                continue
            checked = results.get(batch.batch_id, [])
            notes += outcome_notes(pipeline, spec.retry, batch, outcome, checked)
            # deadlines before SLA tracking began are history, as in the planner
            since = observed.of(batch.pipeline_id).sla_since
            late = [
                (d, when)
                for d, when in deadlines.items()
                if since is not None and since < when < outcome.ended_at
            ]
            notes += self._breaches(conn, batch.pipeline_id, late, now)
        self.outbox.record(conn, notes)

    def _breaches(
        self, conn: Connection, pid: str, breaches: list[tuple[date, datetime]], now: datetime
    ) -> list[NewNotification]:
        if not breaches:
            return []
        new = set(record_breaches(conn, pid, breaches, now))
        pipeline = self.pipelines.get(pid)
        if pipeline is None:
            return []
        return [n for d, when in breaches if d in new for n in breach_notes(pipeline, d, when)]
