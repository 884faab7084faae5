"""What a store session offers: a read-only snapshot (``ReadSession``) and one write
transaction (``WriteSession``), the same on both back ends.

A session holds an open connection for its block only (``Store.read``/``Store.write``);
its methods are the per-table modules' functions, bound to it. The state modules write
SQL both engines run; what differs is asked of the connection's dialect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from reconciler.core.batches import Batch, Outcome, RunIntent
from reconciler.core.coverage import Observed, Retried
from reconciler.core.spec import BackfillRequest
from reconciler.state import (
    adhoc_requests,
    cancel_requests,
    claims,
    config_writes,
    event_reads,
    local_runs,
    locking,
    marking,
    notification_rows,
    observe_reads,
    outdated_marks,
    quality_rows,
    run_log_reads,
    run_reads,
    run_writes,
    sla_breaches,
    summary,
)
from reconciler.state.connection import Connection
from reconciler.state.local_runs import LocalRun
from reconciler.state.notification_rows import (
    NewNotification,
    NotificationRow,
    NotificationStatus,
    SendResult,
)
from reconciler.state.outdated_marks import OutdatedMark
from reconciler.state.records import HistoryRow, QualityResult, QueueRow

if TYPE_CHECKING:
    from reconciler.state.locking import Holder
    from reconciler.state.run_log_reads import FailedRun, NewestAttempt

Requests = dict[str, tuple[BackfillRequest, ...]]
Finished = tuple[Batch, Outcome, dict[date, datetime]]


class ReadSession:
    """One consistent read of the state. A state not made yet (a DuckDB file that does
    not exist, an empty PostgreSQL schema) reads as empty: ``version`` is None."""

    def __init__(self, conn: Connection | None, version: int | None) -> None:
        self.conn = conn  # (for the per-table modules that take a connection)
        self.version = version

    @property
    def empty(self) -> bool:
        return self.conn is None or self.version is None

    # --- what the planner reads ---------------------------------------------------------

    def observe(self, pipeline_ids: Iterable[str], retried: Retried = None) -> Observed:
        """The compact state of the given pipelines, as the planner reads it."""
        if self.empty:
            return Observed()
        return observe_reads.observe(self.conn, list(pipeline_ids), retried)

    def adhoc_requests(self, pipeline_ids: Iterable[str]) -> Requests:
        """The ad-hoc backfill requests (``reconciler backfill``) per pipeline."""
        if self.empty:
            return {}
        return adhoc_requests.adhoc_requests(self.conn, list(pipeline_ids))

    def plan_inputs(
        self, pipeline_ids: Iterable[str], retried: Retried = None
    ) -> tuple[Observed, Requests]:
        """``observe`` and ``adhoc_requests``, read at one moment."""
        ids = list(pipeline_ids)
        return self.observe(ids, retried), self.adhoc_requests(ids)

    def applied_configs(self) -> dict[str, str]:
        """``config_json`` of each active pipeline: equal text means nothing to sync."""
        return {} if self.empty else config_writes.applied_configs(self.conn)

    def active_pipeline_ids(self) -> set[str]:
        return set() if self.empty else config_writes.active_pipeline_ids(self.conn)

    def request_ids(self, pipeline_id: str) -> set[str]:
        """The ids of a pipeline's ad-hoc requests."""
        return set() if self.empty else adhoc_requests.request_ids(self.conn, pipeline_id)

    # --- runs ---------------------------------------------------------------------------

    def in_flight(self) -> list[Batch]:
        """Batches whose rows are pending or running, oldest first."""
        return [] if self.empty else run_reads.in_flight_batches(self.conn)

    def unsent_cancels(self) -> list[cancel_requests.CancelAsk]:
        """Recorded cancels of batches in flight that no platform was asked for yet."""
        return [] if self.empty else cancel_requests.unsent(self.conn)

    def history(self, pipeline_id: str, limit: int) -> list[HistoryRow]:
        """The runs of a pipeline, newest first (one row per date per attempt)."""
        return [] if self.empty else run_reads.history(self.conn, pipeline_id, limit)

    def date_runs(self, pipeline_id: str, day: date) -> list[HistoryRow]:
        """The runs of one date of a pipeline, oldest attempt first."""
        return [] if self.empty else run_reads.date_runs(self.conn, pipeline_id, day)

    def quality_results(self, run_ids: Sequence[str]) -> list[QualityResult]:
        """The quality check results recorded on these runs, in recorded order."""
        return [] if self.empty else run_reads.quality_results(self.conn, run_ids)

    def backfill_queue(self, pipeline_id: str) -> list[QueueRow]:
        return [] if self.empty else run_reads.backfill_queue(self.conn, pipeline_id)

    def outdated_marks(self, pipeline_id: str, first: date, last: date) -> list[OutdatedMark]:
        """The outdated marks of a pipeline touching ``first..last``, with their causes
        (which upstream re-run, or which version change, made those dates outdated)."""
        if self.empty:
            return []
        return outdated_marks.covering(self.conn, pipeline_id, first, last)

    def outdated_causes(
        self, pipeline_id: str, days: Iterable[date]
    ) -> dict[date, list[OutdatedMark]]:
        """Of ``days``, the outdated ones (covered and marked) with the marks on each."""
        return {} if self.empty else outdated_marks.causes(self.conn, pipeline_id, days)

    def newest_attempts(
        self, pipeline_ids: Sequence[str], lo: date, hi: date, *, late_only: bool = False
    ) -> list[NewestAttempt]:
        """See ``run_log_reads.newest_attempts``."""
        if self.empty or not pipeline_ids:
            return []
        return run_log_reads.newest_attempts(self.conn, pipeline_ids, lo, hi, late_only=late_only)

    def breaches_between(
        self, pipeline_ids: Sequence[str], lo: date, hi: date
    ) -> list[tuple[str, date]]:
        """Recorded SLA breaches of the pipelines in ``lo..hi``."""
        if self.empty:
            return []
        return run_log_reads.breaches_between(self.conn, pipeline_ids, lo, hi)

    def recent_failures(self, pipeline_ids: Sequence[str], limit: int) -> list[FailedRun]:
        """The ``limit`` latest failed runs of the pipelines, newest first."""
        if self.empty:
            return []
        return run_log_reads.recent_failures(self.conn, pipeline_ids, limit)

    def local_runs(self, batch_ids: Iterable[str]) -> dict[str, LocalRun]:
        """Owner rows of local runs (host, runs directory, the supervisor's word)."""
        return {} if self.empty else local_runs.read(self.conn, batch_ids)

    def local_runs_in_flight(self) -> dict[str, LocalRun]:
        return {} if self.empty else local_runs.of_runs_in_flight(self.conn)

    def held_elsewhere(self, me: Holder) -> list[str]:
        """Runs in flight another runner (or nobody yet) follows, by holder."""
        if self.empty:
            return []
        return claims.held_elsewhere(self.conn, me, self.in_flight())

    # --- notifications, fingerprint -----------------------------------------------------

    def notifications(
        self, status: NotificationStatus, pipeline_ids: Sequence[str] | None = None
    ) -> list[NotificationRow]:
        """Notifications with ``status`` (``pending``, ``sent``, ``failed``), oldest first."""
        if self.empty:
            return []
        ids = None if pipeline_ids is None else list(pipeline_ids)
        return notification_rows.listed(self.conn, status, ids)

    def known_notifications(self, ids: Sequence[str]) -> set[str]:
        """Which of these notification ids are recorded already (sent or not)."""
        return set() if self.empty else notification_rows.known(self.conn, ids)

    def run_errors(self, run_ids: Sequence[str]) -> dict[str, str | None]:
        """The error message of each of these runs (for failure notifications)."""
        return {} if self.empty else event_reads.run_errors(self.conn, run_ids)

    def request_digest(self, pipeline_id: str, request_id: str) -> dict[str, Any]:
        """What a backfill request ran: counts and times (its completion notification)."""
        return {} if self.empty else event_reads.request_digest(self.conn, pipeline_id, request_id)

    def fingerprint(self) -> dict[str, Any]:
        """Schema version and a checksum per table (see ``summary``)."""
        if self.conn is None:
            return {"exists": False}
        return summary.fingerprint(self.conn, self.version)


class WriteSession(ReadSession):
    """One read-write transaction: everything written in it is committed together when
    its block ends, or nothing is."""

    def __init__(self, conn: Connection, version: int | None) -> None:
        super().__init__(conn, version)

    @property
    def empty(self) -> bool:
        return False  # (migrated on opening)

    # --- config -------------------------------------------------------------------------

    def sync_pipelines(
        self, items: Sequence[tuple[dict[str, Any], dict[str, str]]], now: datetime
    ) -> dict[str, str]:
        """Upsert config rows and parameters; returns ``create``/``update`` per changed id."""
        return config_writes.sync_pipelines(self.conn, items, now)

    def mark_deleted(self, pipeline_ids: Iterable[str], now: datetime) -> None:
        """Removed pipelines stop: pending backfills canceled, history kept."""
        config_writes.mark_deleted(self.conn, pipeline_ids, now)

    def add_request(self, pipeline_id: str, request: BackfillRequest, now: datetime) -> None:
        adhoc_requests.add_request(self.conn, pipeline_id, request, now)

    def remove_request(self, pipeline_id: str, request_id: str, now: datetime) -> None:
        """Forget an ad-hoc request; its pending queue rows are canceled."""
        adhoc_requests.remove_request(self.conn, pipeline_id, request_id)
        run_writes.cancel_request_backfills(self.conn, [(pipeline_id, request_id)], now)

    def record_breaches(
        self, pipeline_id: str, breaches: Iterable[tuple[date, datetime]], now: datetime
    ) -> list[date]:
        """Remember SLA breaches once; returns the dates that were new."""
        return sla_breaches.record_breaches(self.conn, pipeline_id, breaches, now)

    def record_checks(
        self, checks: Sequence[tuple[Batch, Sequence[quality_rows.CheckRecord]]], now: datetime
    ) -> None:
        """The data-quality results of ended runs."""
        quality_rows.record_checks(self.conn, checks, now)

    # --- runs ---------------------------------------------------------------------------

    def enqueue_backfills(self, intents: Sequence[RunIntent], now: datetime) -> int:
        return run_writes.enqueue_backfills(self.conn, intents, now)

    def record_intents(self, intents: Sequence[RunIntent], now: datetime) -> list[str]:
        """Record runs as ``pending``; returns the batch ids written (not known before).
        Their dates are cut out of the outdated marks: the runs read what is there now."""
        return run_writes.record_intents(self.conn, intents, now)

    def mark_dates(
        self,
        pipeline_id: str,
        days: Sequence[date],
        mark_as: marking.MarkAs,
        note: str,
        now: datetime,
    ) -> str:
        """Record ``days`` as covered or failed by hand; returns the rows' batch id
        (``StateError``, nothing written, when a date is in flight)."""
        return marking.mark_dates(self.conn, pipeline_id, days, mark_as, note, now)

    def add_outdated_marks(self, marks: Iterable[OutdatedMark], now: datetime) -> int:
        """Mark dates outdated (an upstream re-ran, a version changed); returns how many."""
        return outdated_marks.add(self.conn, marks, now)

    def cut_outdated_marks(self, started: Mapping[str, Iterable[date]]) -> None:
        """Dates that start again are no longer outdated (``record_intents`` does this for
        the runs it records)."""
        outdated_marks.cut(self.conn, started)

    def mark_running(self, items: Sequence[tuple[str, str | None, datetime]]) -> None:
        """(batch id, platform run id, started at) of runs started."""
        run_writes.mark_running_many(self.conn, items)

    def cancel_request_backfills(self, requests: Sequence[tuple[str, str]], now: datetime) -> None:
        """The pending queue rows of removed (pipeline, request) pairs are canceled."""
        run_writes.cancel_request_backfills(self.conn, requests, now)

    def record_cancels(
        self, batches: Sequence[Batch], now: datetime, by: str | None, reason: str | None
    ) -> set[str]:
        """Record cancels before any platform is asked; returns those new now."""
        return cancel_requests.record(self.conn, batches, now, by, reason)

    def cancels_sent(self, batch_ids: Iterable[str], now: datetime) -> None:
        cancel_requests.mark_sent(self.conn, batch_ids, now)

    def record_outcomes(self, items: Sequence[Finished]) -> int:
        return run_writes.record_outcomes(self.conn, items)

    def record_outcomes_live(self, items: Sequence[Finished]) -> set[str]:
        """``record_outcomes``; returns the batches that were still in flight."""
        return run_writes.record_outcomes_live(self.conn, items)

    def record_local_owners(
        self, batch_ids: Sequence[str], host: str, runs_dir: str, alive_until: datetime
    ) -> None:
        local_runs.record_owners(self.conn, batch_ids, host, runs_dir, alive_until)

    def renew_local_runs(self, batch_ids: Iterable[str], host: str, alive_until: datetime) -> None:
        local_runs.renew(self.conn, batch_ids, host, alive_until)

    def forget_local_runs(self, before: datetime) -> None:
        local_runs.forget_finished(self.conn, before)

    # --- the apply lock and runners' claims ---------------------------------------------

    def confirm_lock(
        self, me: Holder, now: datetime, *, extend: bool, following: Iterable[str] = ()
    ) -> None:
        """Check the lock is still ours (else ``LockedError``); extend its lease."""
        locking.confirm(self.conn, me, now, extend=extend, following=following)

    def claim(self, me: Holder | None, batch_ids: Iterable[str], now: datetime) -> set[str]:
        """Claim batches for ``me``; returns those it holds now (all, for a single writer)."""
        return claims.claim(self.conn, me, batch_ids, now)

    # --- the outbox ---------------------------------------------------------------------

    def add_notifications(self, notes: Iterable[NewNotification], now: datetime) -> int:
        return notification_rows.add(self.conn, notes, now)

    def abandon_notification_claims(self, now: datetime) -> int:
        return notification_rows.abandon_claims(self.conn, now)

    def claim_notifications(
        self, now: datetime, limit: int, created_before: datetime | None = None
    ) -> list[NotificationRow]:
        return notification_rows.claim_due(self.conn, now, limit, created_before)

    def finish_notifications(
        self, results: Sequence[SendResult], now: datetime, still_claimed: Sequence[str] = ()
    ) -> None:
        notification_rows.finish(self.conn, results, now, still_claimed)

    def release_notifications(self, ids: Sequence[str], now: datetime) -> None:
        notification_rows.release(self.conn, ids, now)
