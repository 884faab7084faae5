"""What a pass's plan and its runs' outcomes mean, recorded in the pass's transactions.

Each method runs inside the transaction of what caused its events (a plan's SLA breaches
with the plan's queue, a run's checks and breaches with its outcome), writes the
quality-check and breach rows, and hands the events (``reconciler.core.events``) to
``notify``, which records their notifications in the same transaction. Dates out of
retries and completed requests are looked for only when some channel wants to hear of
them, and the state is read for their details (errors, digests) only for those not
announced yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from reconciler.core.batches import Batch, Outcome
from reconciler.core.check_results import CheckResult
from reconciler.core.coverage import Observed
from reconciler.core.events import (
    DateOutOfRetries,
    PassEvent,
    RequestCompleted,
    SlaBreached,
    dates_out_of_retries,
    late_dates,
    plan_breaches,
    run_ended,
    with_errors,
)
from reconciler.core.plan import Plan
from reconciler.core.requests import request_complete
from reconciler.core.spec import PipelineSpec
from reconciler.notify.announce import Announcer
from reconciler.notify.outbox import Outbox
from reconciler.reconcile import pass_log
from reconciler.state.sessions import WriteSession

if TYPE_CHECKING:
    from reconciler.config.models import AnyPipeline

Finished = tuple[Batch, Outcome, dict[date, datetime]]


class PassEvents:
    """Finds a pass's events and records them (rows and notifications) where it is told.

    ``pipelines``: the models of the pipelines that can notify or breach an SLA;
    ``specs``: every pipeline's spec.
    """

    def __init__(
        self,
        pipelines: Mapping[str, AnyPipeline],
        specs: Mapping[str, PipelineSpec],
        outbox: Outbox,
    ) -> None:
        self.specs = specs
        self.announcer = Announcer(pipelines, outbox)
        self.failure_listeners = self.announcer.listening(DateOutOfRetries)
        self.request_listeners = self.announcer.listening(RequestCompleted)
        self.plan_events = bool(self.failure_listeners or self.request_listeners)
        self.any_sla = any(p.sla is not None for p in pipelines.values())

    def note_plan(
        self,
        session: WriteSession,
        plan: Plan,
        observed: Observed,
        run_specs: Mapping[str, PipelineSpec],
        now: datetime,
    ) -> None:
        """The plan's SLA breaches recorded (new ones announced); dates out of retries and
        finished backfill requests (of ``run_specs``, ad-hoc ones included) announced once."""
        events: list[PassEvent] = []
        for pid, breaches in plan_breaches(plan).items():
            events += self._breaches(session, pid, breaches, now)
        if self.plan_events:
            events += self._out_of_retries(session, plan, observed)
            events += self._completed(session, plan, observed, run_specs)
        self.announcer.announce(session, events)

    def record_outcomes(
        self,
        session: WriteSession,
        finished: Sequence[Finished],
        results: Mapping[str, list[CheckResult]],
        observed: Observed,
        now: datetime,
    ) -> None:
        """Check results, late dates (SLA breaches) and the runs' ends, with the outcomes."""
        checks = [(b, results[b.batch_id]) for b, _, _ in finished if b.batch_id in results]
        if checks:
            session.record_checks(checks, now)
        events: list[PassEvent] = []
        for batch, outcome, deadlines in finished:
            spec = self.specs.get(batch.pipeline_id)
            if spec is None:
                continue
            checked = results.get(batch.batch_id, [])
            ended = run_ended(batch, outcome, checked, spec.retry)
            events.append(ended)
            pass_log.run_ended(batch, outcome, checked, ended.final_failure)
            since = observed.of(batch.pipeline_id).sla_since
            late = late_dates(deadlines, since, outcome.ended_at)
            events += self._breaches(session, batch.pipeline_id, late, now)
        self.announcer.announce(session, events)

    def _breaches(
        self, session: WriteSession, pid: str, breaches: list[tuple[date, datetime]], now: datetime
    ) -> list[SlaBreached]:
        """Breaches recorded once; the events of those recorded now."""
        if not breaches:
            return []
        new = set(session.record_breaches(pid, breaches, now))
        pass_log.sla_breached(pid, [(d, when) for d, when in breaches if d in new])
        return [SlaBreached(pid, d, when) for d, when in breaches if d in new]

    def _out_of_retries(
        self, session: WriteSession, plan: Plan, observed: Observed
    ) -> list[DateOutOfRetries]:
        found = dates_out_of_retries(plan, observed, self.failure_listeners)
        if not found:
            return []
        # errors are read only for what is not announced yet
        fresh = self.announcer.unannounced(session, found)
        return with_errors(fresh, session.run_errors([e.run_id for e in fresh]))

    def _completed(
        self,
        session: WriteSession,
        plan: Plan,
        observed: Observed,
        run_specs: Mapping[str, PipelineSpec],
    ) -> list[RequestCompleted]:
        asked = [
            RequestCompleted(pipeline_id=pid, request=request)
            for pid, spec in run_specs.items()
            if pid in self.request_listeners
            for request in spec.requests
        ]
        if not asked:
            return []
        # requests announced before are not looked at again (a plan has many actions)
        out: list[RequestCompleted] = []
        for event in self.announcer.unannounced(session, asked):
            pid, request = event.pipeline_id, event.request
            if request_complete(run_specs[pid], observed.of(pid), plan, request):
                digest = session.request_digest(pid, request.id)
                out.append(replace(event, digest=digest))
        return out
