"""The pass's side of notifications: record, claim, send in a thread, record what happened.

``apply`` calls ``record`` and ``exchange`` inside its own transactions (so an event
is recorded with the outcome that caused it) and ``start`` after they commit. Sending
runs in one background thread, so a slow receiver never holds up the runs; the thread
commits each message's result as soon as it has it (its own short transaction), so a
``kill -9`` leaves at most the one message in flight unrecorded: the next pass sends
it again (at least once; receivers spot the repeat by its ids). Claimed rows a pass
did not get to when it ended go back to pending. A transient failure leaves a row pending
until ``next_attempt_at`` (backoff doubling from a minute to an hour, or the receiver's
``Retry-After``), and a row is given up on (``failed``) after ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from reconciler import log_events
from reconciler.clock import Clock
from reconciler.core.calendar import next_scheduled
from reconciler.core.spec import PipelineSpec
from reconciler.errors import StateError
from reconciler.notify.channels import channels
from reconciler.notify.messages import Message, NextDate, build_messages
from reconciler.state.notification_rows import NewNotification, NotificationRow, SendResult
from reconciler.state.sessions import WriteSession
from reconciler.state.store import Store

if TYPE_CHECKING:
    from reconciler.config.models import AnyPipeline
    from reconciler.notify.channels import ChannelModel
    from reconciler.notify.dispatch import Delivery

BACKOFF_FIRST = 60.0
BACKOFF_MAX = 3600.0
MAX_ATTEMPTS = 8
CLAIM_LIMIT = 2000
LINGER = 20.0  # seconds new rows wait mid-pass for others of their burst
WRITE_TRIES = 3  # a result's transaction, tried again if the state is briefly busy
log = logging.getLogger("reconciler.notify")
Send = Callable[..., Iterable["Delivery"]]


def backoff(attempt: int, retry_after: float | None) -> float:
    """Seconds before the next try after ``attempt`` tries failed transiently."""
    delay = min(BACKOFF_FIRST * 2 ** max(attempt - 1, 0), BACKOFF_MAX)
    return float(max(delay, retry_after or 0.0))


def _deliver(
    messages: Sequence[Message],
    configs: Mapping[tuple[str, str], ChannelModel],
    env: Mapping[str, str],
    now: datetime,
) -> Iterator[Delivery]:
    """``dispatch.deliver``, imported when something is sent: the channels' clients
    (httpx, smtplib) are not loaded by a pass with nothing to say. (``Outbox.start``
    imports it first in the calling thread, not in the sending one.)"""
    from reconciler.notify.dispatch import deliver

    return deliver(messages, configs, env, now)


def _following(spec: PipelineSpec) -> NextDate:
    def step(d: date) -> date | None:
        return next_scheduled(spec.schedule, d)

    return step


class Outbox:
    """Notifications of one pass; not thread-safe except for its one sending thread."""

    def __init__(
        self,
        pipelines: Mapping[str, AnyPipeline],
        specs: Mapping[str, PipelineSpec],
        clock: Clock,
        env: Mapping[str, str] | None = None,
        send: Send = _deliver,
        *,
        store: Store,
    ) -> None:
        self.clock = clock
        self.env = env if env is not None else os.environ
        self.names = {pid: p.display_name for pid, p in pipelines.items()}
        self.following = {pid: _following(s) for pid, s in specs.items()}
        self.configs: dict[tuple[str, str], ChannelModel] = {
            (pid, key): model for pid, p in pipelines.items() for key, model in channels(p).items()
        }
        self._send = send
        self.store = store
        self._stop = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._future: Future[None] | None = None
        self.maybe_due = True  # older passes may have left rows due now
        self._last_claim = float("-inf")
        self.lines: list[str] = []

    # --- inside the caller's transaction ------------------------------------------------

    def record(self, session: WriteSession, notes: Iterable[NewNotification]) -> int:
        """Notifications recorded in the caller's transaction, sent once it commits."""
        added = session.add_notifications(notes, self.clock.now())
        if added:
            self.maybe_due = True
        return added

    def recover(self, session: WriteSession) -> None:
        """Claims left by a pass that died mid-send: pending again, sent by this pass."""
        if session.abandon_notification_claims(self.clock.now()):
            self.maybe_due = True

    def exchange(self, session: WriteSession, *, final: bool = True) -> list[NotificationRow]:
        """Claim due rows if the sender is idle (it has recorded its results itself).

        While runs go on (``final`` false), only rows older than ``LINGER`` are claimed,
        at most every ``LINGER`` seconds: events of a burst gather into one message.
        """
        if self._future is not None:
            if not self._future.done():
                return []
            self._collect()
        if not self.maybe_due:
            return []
        now = self.clock.now()
        before = None
        if not final:
            if time.monotonic() - self._last_claim < LINGER:
                return []
            before = now - timedelta(seconds=LINGER)
        self._last_claim = time.monotonic()
        claimed = session.claim_notifications(now, CLAIM_LIMIT, before)
        # younger rows may wait (mid-pass); a full claim may leave more behind
        self.maybe_due = len(claimed) == CLAIM_LIMIT or not final
        return claimed

    # --- after the transaction commits ----------------------------------------------

    def start(self, claimed: list[NotificationRow]) -> None:
        """Send claimed rows in the background (only once their claim is committed)."""
        if not claimed:
            return
        messages = build_messages(claimed, self.names, self.following)
        # the dispatcher's first import happens here, never in the sending thread while
        # this one imports something else (quality engines load lazily too)
        import reconciler.notify.dispatch  # noqa: F401

        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notify")
        self._future = self._pool.submit(self._send_all, messages)

    @property
    def busy(self) -> bool:
        """A send is still going on."""
        return self._future is not None and not self._future.done()

    @property
    def settled(self) -> bool:
        """Nothing being sent and nothing known to be due."""
        return self._future is None and not self.maybe_due

    def wait(self, timeout: float | None = None) -> None:
        if self._future is not None:
            wait_for([self._future], timeout=timeout)

    def close(self) -> None:
        """Finish the send in flight; claimed rows not tried yet go back to pending."""
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._future is not None:
            self._collect()

    def _collect(self) -> None:
        """Forget a finished send; a failure of its own (the state unreachable) is reported."""
        assert self._future is not None
        failure = self._future.exception()
        self._future = None
        if failure is not None:  # its rows stay claimed: the next pass sends them
            self.lines.append(f"notifications: sending stopped ({failure}); what was not "
                              "recorded as sent is sent again by the next pass")  # fmt: skip

    # --- in the sending thread ---------------------------------------------------------

    def _send_all(self, messages: list[Message]) -> None:
        """Send, committing each message's result before the next message goes out."""
        waiting = {i for m in messages for i in m.ids}
        sent = self._send(messages, self.configs, self.env, self.clock.now())
        try:
            for delivery in sent:
                waiting.difference_update(delivery.message.ids)
                results = self._results([delivery])
                now = self.clock.now()
                self._write(partial(WriteSession.finish_notifications, results=results, now=now,
                                    still_claimed=sorted(waiting)))  # fmt: skip
                if self._stop.is_set():
                    break
        finally:
            close = getattr(sent, "close", None)
            if close is not None:  # a generator: its HTTP client is closed now
                close()
            if waiting:
                self._write(partial(WriteSession.release_notifications, ids=sorted(waiting),
                                    now=self.clock.now()))  # fmt: skip

    def _write(self, change: Callable[[WriteSession], None]) -> None:
        for attempt in range(WRITE_TRIES):
            try:
                with self.store.write() as session:
                    change(session)
                return
            except StateError:
                if attempt == WRITE_TRIES - 1:
                    raise
                time.sleep(0.05 * 2**attempt)

    # --- results ------------------------------------------------------------------------

    def _results(self, deliveries: list[Delivery]) -> list[SendResult]:
        from reconciler.notify.dispatch import label

        now = self.clock.now()
        out: list[SendResult] = []
        for d in deliveries:
            where = label(self.configs.get((d.message.pipeline_id, d.message.channel)),
                          d.message.channel)  # fmt: skip
            attempts = max(r.attempts for r in d.message.rows) + 1
            head = f"[{d.message.event}] {d.message.title}"
            _log_delivery(d, attempts)
            if d.outcome == "sent":
                self.lines.append(d.text if d.text is not None else f"{head} -> {where}")
                out += [SendResult(notification_id=i, status="sent") for i in d.message.ids]
            elif d.outcome == "pending" and attempts < MAX_ATTEMPTS:
                retry_at = now + timedelta(seconds=backoff(attempts, d.retry_after))
                self.lines.append(
                    f"{head} -> {where}: not sent ({d.error}); will try again after "
                    f"{retry_at.isoformat(timespec='seconds')}"
                )
                out += [
                    SendResult(
                        notification_id=i, status="pending", error=d.error, retry_at=retry_at
                    )
                    for i in d.message.ids
                ]
            else:
                error = d.error or "failed"
                if d.outcome == "pending":
                    error = f"gave up after {attempts} attempts: {error}"
                self.lines.append(f"{head} -> {where}: NOT SENT ({error}); will not retry")
                out += [
                    SendResult(notification_id=i, status="failed", error=error)
                    for i in d.message.ids
                ]
        return out


def _log_delivery(d: Delivery, attempts: int) -> None:
    """An event per message handed to a channel (the metrics count them by outcome)."""
    sent = d.outcome == "sent"
    log_events.emit(
        log,
        log_events.NOTIFICATION_SENT if sent else log_events.NOTIFICATION_FAILED,
        f"notification {d.message.event} to {d.message.channel}: {d.outcome}"
        + ("" if sent else f" ({d.error})"),
        pipeline=d.message.pipeline_id,
        channel=d.message.channel.split(":", 1)[0],  # the kind: bounded metric labels
        outcome=d.outcome,
        attempt=attempts,
    )
