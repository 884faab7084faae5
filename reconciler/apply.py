"""One reconcile pass: sync config, adopt what is in flight, start the plan's actions.

Every transition is written before the next step can fail: a run is recorded as
``pending`` (with a deterministic batch id) before the platform is called, and its
platform id right after. So a pass killed at any point is finished by the next one,
and no date is ever started twice.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from reconciler.clock import Clock
from reconciler.config.loading import LoadedPipeline, load_config
from reconciler.config.specs import to_spec
from reconciler.core.calendar import sla_deadline
from reconciler.core.plan import Action, Plan
from reconciler.core.planner import plan as make_plan
from reconciler.core.spec import PipelineSpec
from reconciler.errors import ConfigError, Problem
from reconciler.platforms.base import Platform, RunRequest
from reconciler.platforms.local import LocalPlatform
from reconciler.run_values import rendered_parameters, run_values
from reconciler.state import duckdb_store as db
from reconciler.state.config_rows import pipeline_row
from reconciler.state.connection import transaction
from reconciler.state.locking import Holder, acquire, release, renew
from reconciler.state.records import Batch, Outcome, RunIntent, batch_key, short_id

POLL_MIN, POLL_MAX = 0.05, 2.0


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    wait: bool = False
    max_parallel: int = 8
    allow_empty: bool = False


@dataclass(slots=True)
class ApplyReport:
    """What a pass did, for the closing summary and for tests."""

    plan: Plan | None = None
    config_changes: dict[str, str] = field(default_factory=dict)
    started: int = 0
    started_dates: int = 0
    succeeded: int = 0
    failed: int = 0
    adopted: int = 0
    still_running: int = 0
    notifications: list[str] = field(default_factory=list)


Progress = Callable[[ApplyReport, int], None]


def runs_dir_for(state_path: str) -> Path:
    """Where local runs keep their status files: beside the state file."""
    p = Path(state_path)
    return p.parent / f"{p.stem}-runs"


class Applier:
    """Carries out one pass; holds the state file only per transaction."""

    def __init__(
        self,
        config_dir: Path,
        state_path: str,
        clock: Clock,
        options: ApplyOptions,
        progress: Progress | None = None,
        platforms: dict[str, Platform] | None = None,
    ) -> None:
        self.config_dir = config_dir
        self.state = state_path
        self.clock = clock
        self.options = options
        self.progress = progress
        offset = (clock.now() - datetime.now(clock.now().tzinfo)).total_seconds()
        self.platforms: dict[str, Platform] = platforms or {
            "local": LocalPlatform(runs_dir_for(state_path), offset)
        }
        self.report = ApplyReport()
        self.pipelines: dict[str, LoadedPipeline] = {}
        self.specs: dict[str, PipelineSpec] = {}
        self.running: dict[str, Batch] = {}
        self.lock: Holder | None = None
        self._last_renew = 0.0

    # --- the pass -----------------------------------------------------------------

    def run(self) -> ApplyReport:
        loaded = load_config(self.config_dir)
        self.pipelines = {p.id: p for p in loaded}
        self.specs = {p.id: to_spec(p.model) for p in loaded}
        self.lock = acquire(self.state, self.clock.now())
        try:
            self._sync_config(loaded)
            self._adopt_in_flight()
            plan = self._plan()
            self.report.plan = plan
            self._notify_breaches(plan)
            self._start_all([a for a in plan.actions if a.kind in ("run", "retry", "backfill")])
            if self.options.wait:
                while self.running:
                    self._poll_and_record()
                    self._sleep()
            self.report.still_running = len(self.running)
        finally:
            release(self.state, self.lock)
            db.DuckDBStore(self.state).checkpoint()
        return self.report

    def _sync_config(self, loaded: list[LoadedPipeline]) -> None:
        now = self.clock.now()
        with transaction(self.state) as conn:
            active = db.active_pipeline_ids(conn)
            desired = {p.id for p in loaded}
            if not desired and active and not self.options.allow_empty:
                raise ConfigError(
                    [
                        Problem(
                            str(self.config_dir),
                            1,
                            1,
                            f"no pipeline files found, which would delete all {len(active)} "
                            "pipelines; check --config-dir, or pass --allow-empty to do it",
                        )
                    ]
                )
            for pipeline in loaded:
                change = db.sync_pipeline(
                    conn, pipeline_row(pipeline.model), dict(pipeline.model.parameters), now
                )
                if change != "unchanged":
                    self.report.config_changes[pipeline.id] = change
            gone = sorted(active - desired)
            db.mark_deleted(conn, gone, now)
            for pid in gone:
                self.report.config_changes[pid] = "delete"

    def _adopt_in_flight(self) -> None:
        """Runs a previous pass left behind: start the unstarted, follow the rest."""
        store = db.DuckDBStore(self.state)
        for batch in store.in_flight():
            self.running[batch.batch_id] = batch
            self.report.adopted += 1
        self._poll_and_record(restart_unstarted=True)

    def _plan(self) -> Plan:
        store = db.DuckDBStore(self.state)
        ids = list(self.specs)
        observed = store.observe(ids)
        extra = store.requests(ids)
        specs = [
            dataclasses.replace(s, requests=s.requests + extra.get(s.id, ()))
            for s in self.specs.values()
        ]
        return make_plan(specs, observed, self.clock.now())

    # --- starting and following runs ----------------------------------------------

    def _slots_free(self, pipeline_id: str) -> bool:
        if len(self.running) >= self.options.max_parallel:
            return False
        mine = sum(1 for b in self.running.values() if b.pipeline_id == pipeline_id)
        return mine < self.specs[pipeline_id].max_active_runs

    def _start_all(self, actions: list[Action]) -> None:
        queue = list(actions)
        total = len(queue)
        while queue:
            ready: list[Action] = []
            taken: dict[str, int] = {}
            for action in list(queue):
                pid = action.pipeline_id
                in_use = sum(1 for b in self.running.values() if b.pipeline_id == pid)
                if (
                    len(self.running) + len(ready) < self.options.max_parallel
                    and in_use + taken.get(pid, 0) < self.specs[pid].max_active_runs
                ):
                    ready.append(action)
                    taken[pid] = taken.get(pid, 0) + 1
                    queue.remove(action)
            if ready:
                self._start(ready)
                if self.progress:
                    self.progress(self.report, total)
            if queue:
                self._poll_and_record()
                if not any(self._slots_free(a.pipeline_id) for a in queue):
                    self._sleep()

    def _intent(self, action: Action) -> RunIntent:
        key = batch_key(action.pipeline_id, action.dates, action.request_id, action.attempt)
        pipeline = self.pipelines[action.pipeline_id].model
        return RunIntent(
            batch_id=short_id(key),
            key=key,
            pipeline_id=action.pipeline_id,
            dates=action.dates,
            attempt=action.attempt,
            kind=action.kind,
            request_id=action.request_id,
            priority=action.priority,
            retry_schedule=pipeline.retry.schedule,
            platform=pipeline.platform,
        )

    def _start(self, actions: list[Action]) -> None:
        intents = [self._intent(a) for a in actions]
        now = self.clock.now()
        with transaction(self.state) as conn:
            written = set(db.record_intents(conn, intents, now))
            self._renew(conn)
        started: list[tuple[Batch, str]] = []
        for intent in intents:
            if intent.batch_id not in written:
                continue
            batch = Batch(
                intent.batch_id,
                intent.pipeline_id,
                intent.dates,
                "pending",
                intent.attempt,
                intent.kind,
                intent.request_id,
                intent.platform,
                None,
                None,
            )
            self.running[batch.batch_id] = batch
            run_id = self._platform_start(batch)
            started.append((batch, run_id))
            self.report.started += 1
            self.report.started_dates += len(batch.dates)
        if started:
            with transaction(self.state) as conn:
                for batch, run_id in started:
                    db.mark_running(conn, batch.batch_id, run_id, now)
                    self.running[batch.batch_id] = dataclasses.replace(
                        batch, status="running", platform_run_id=run_id, started_at=now
                    )

    def _platform_start(self, batch: Batch) -> str:
        pipeline = self.pipelines[batch.pipeline_id].model
        values = run_values(pipeline, batch.dates, batch.batch_id)
        request = RunRequest(
            batch_id=batch.batch_id,
            key=batch_key(batch.pipeline_id, batch.dates, batch.request_id, batch.attempt),
            pipeline=pipeline,
            dates=batch.dates,
            attempt=batch.attempt,
            values=values,
            parameters=rendered_parameters(pipeline, values),
        )
        return self.platforms[pipeline.platform].start(request)

    def _poll_and_record(self, restart_unstarted: bool = False) -> None:
        outcomes: list[tuple[Batch, Outcome]] = []
        for batch in list(self.running.values()):
            platform = self.platforms.get(batch.platform)
            if platform is None or batch.pipeline_id not in self.pipelines:
                continue  # a deleted pipeline or unknown platform: leave it to a later pass
            result = platform.poll(batch.batch_id, batch.platform_run_id)
            if result.state == "not_started":
                if restart_unstarted or batch.status == "pending":
                    self._platform_start(batch)
                continue
            if result.state in ("success", "failed"):
                ended = result.ended_at or self.clock.now()
                outcomes.append(
                    (
                        batch,
                        Outcome(
                            result.state == "success",
                            ended,
                            result.error,
                            batch.platform_run_id or batch.batch_id,
                        ),
                    )
                )
        if not outcomes:
            return
        with transaction(self.state) as conn:
            for batch, outcome in outcomes:
                db.record_outcome(conn, batch, outcome, self._deadlines(batch))
            self._renew(conn)
        for batch, outcome in outcomes:
            self.running.pop(batch.batch_id, None)
            if outcome.success:
                self.report.succeeded += 1
            else:
                self.report.failed += 1
        if self.progress:
            self.progress(self.report, 0)

    def _deadlines(self, batch: Batch) -> dict[date, datetime]:
        spec = self.specs.get(batch.pipeline_id)
        if spec is None or spec.sla_time is None:
            return {}
        return {d: sla_deadline(spec.schedule, spec.sla_time, d) for d in batch.dates}

    def _notify_breaches(self, plan: Plan) -> None:
        now = self.clock.now()
        by_pipeline: dict[str, list[tuple[date, datetime]]] = {}
        for breach in plan.sla_breaches:
            by_pipeline.setdefault(breach.pipeline_id, []).append((breach.date, breach.deadline))
        if not by_pipeline:
            return
        with transaction(self.state) as conn:
            for pid, breaches in by_pipeline.items():
                new = db.record_breaches(conn, pid, breaches, now)
                spec = self.specs[pid]
                if new and spec.sla_notify:
                    days = ", ".join(d.isoformat() for d in new)
                    self.report.notifications.append(f"[sla_breach] {pid}: {days}")

    def _renew(self, conn: object) -> None:
        if self.lock is not None and time.monotonic() - self._last_renew > 30:
            renew(conn, self.lock, self.clock.now())
            self._last_renew = time.monotonic()

    def _sleep(self) -> None:
        time.sleep(POLL_MIN if len(self.running) < self.options.max_parallel else 0.1)
