"""Following runs on a cloud platform: poll schedule, adoption after a crash, unsure starts.

Each cloud adapter (``databricks``, ``dbt``, ``snowflake``, ``http_hook``) supplies two
calls, ``_trigger`` (start one run, idempotently) and ``_check`` (one status request);
this base turns them into the ``Platform`` protocol:

- **Polls back off.** A run is checked 0.25 s after it starts, then each gap is 1.5
  times the last, up to 30 s; ``poll`` between checks answers from memory and ``wait``
  sleeps until the next check is due. A failed check (429, 5xx, timeout) is retried
  no sooner than its ``Retry-After``.
- **Adoption.** A batch this process never started (a pass before it was killed) is
  answered ``not_started`` once; apply then calls ``start`` with the full request,
  which binds the run id apply recorded, without calling the platform. A batch with
  no recorded run id is triggered again: each adapter's trigger is idempotent per
  batch key, so the run that may exist is found instead of doubled.
- **Unsure starts.** A trigger whose retries ran out after a lost reply or a 5xx may
  have made a run: ``start`` returns an unconfirmed ``StartResult`` (no run id) instead
  of failing (a failure
  would lead to a retry attempt, with a new key, and so to a second run); ``poll``
  answers ``not_started`` every so often so that apply repeats the idempotent start,
  and gives up with a failure after ``UNCONFIRMED_LIMIT``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from reconciler.errors import PermanentError, PlatformError, TransientError
from reconciler.platforms.base import PollResult, RunRequest, StartResult
from reconciler.platforms.http_client import HttpClient, HttpPolicy, UncertainError, cut

log = logging.getLogger("reconciler.platforms")

POLL_FIRST = 0.25  # seconds from start to the first check
POLL_GROWTH = 1.5
POLL_MAX = 30.0
DUE_SLACK = 0.05  # checks due this close together are made in one round
RESTART_EVERY = 10.0  # seconds between repeats of an unconfirmed start
UNCONFIRMED_LIMIT = 900.0  # give an unconfirmed start up after this long
FOLLOW_LIMIT = 1800.0  # fail a run whose checks have all failed for this long


@dataclass(frozen=True, slots=True)
class Started:
    """What a trigger learnt: the platform's run id, and the outcome if already known."""

    run_id: str
    result: PollResult | None = None


@dataclass(slots=True, kw_only=True)
class _Run:
    request: RunRequest | None  # None: known from apply's state only, until start() binds it
    run_id: str | None  # None: not known (adopted without one, or an unconfirmed start)
    next_check: float = 0.0
    checks: int = 0
    result: PollResult | None = None
    unconfirmed_since: float | None = None  # set: the start is unconfirmed
    failing_since: float | None = None
    warned: str | None = None


class RemotePlatform:
    """Base of the cloud adapters; see the module docstring."""

    name = "remote"
    label = "remote"  # the service's name in messages ("Databricks")

    @staticmethod
    def describe(response: httpx.Response) -> str:
        """The service's error text in a failed reply (each adapter reads its own shape)."""
        return response.text

    def __init__(
        self,
        clock_offset: float = 0.0,
        policy: HttpPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client = HttpClient(self.label, self.describe, policy, transport)
        self.clock_offset = clock_offset
        self.monotonic = monotonic
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._runs: dict[str, _Run] = {}
        self.checks = 0  # status requests made, for tests and benchmarks

    # --- what each adapter supplies -------------------------------------------------

    def _trigger(self, run: RunRequest, again: bool) -> Started:
        """Start ``run`` (idempotently); ``again``: an earlier start may have acted."""
        raise NotImplementedError

    def _check(self, run: RunRequest, run_id: str) -> PollResult:
        """One status request; raises ``TransientError`` or ``PermanentError``."""
        raise NotImplementedError

    def _cancel(self, run: RunRequest, run_id: str) -> None:
        """One cancel request; a run that already ended must not make it fail."""
        raise PermanentError(f"{self.label} runs cannot be cancelled by the reconciler")

    # --- the protocol --------------------------------------------------------------

    def start(self, run: RunRequest) -> StartResult:
        known = self._runs.get(run.batch_id)
        if known is not None and known.run_id is not None:
            known.request = run  # adopted: apply recorded the run id; nothing to send
            return StartResult(known.run_id)
        again = known is not None  # polled first: a pass before this one may have sent it
        now = self.monotonic()
        try:
            started = self._trigger(run, again)
        except UncertainError as exc:
            entry = known or _Run(request=run, run_id=None)
            entry.request = run
            entry.unconfirmed_since = entry.unconfirmed_since or now
            entry.next_check = self.monotonic() + RESTART_EVERY
            entry.warned = str(exc)
            self._runs[run.batch_id] = entry
            log.warning(
                "%s: run %s may have started; will confirm: %s", self.name, run.batch_id, exc
            )
            return StartResult(None)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise PermanentError(self._unexpected(exc)) from exc
        self._runs[run.batch_id] = _Run(
            request=run,
            run_id=started.run_id,
            next_check=self.monotonic() + self._gap(0),
            result=started.result,
        )
        return StartResult(started.run_id)

    def poll(self, batch_id: str, platform_run_id: str | None) -> PollResult:
        entry = self._runs.get(batch_id)
        if entry is None or entry.request is None:
            # not started by this process: apply calls start() next, which binds or repeats it
            self._runs[batch_id] = _Run(request=None, run_id=platform_run_id)
            return PollResult("not_started")
        now = self.monotonic()
        if entry.result is not None:
            del self._runs[batch_id]
            return entry.result
        if entry.unconfirmed_since is not None:
            since = entry.unconfirmed_since
            if now - since > UNCONFIRMED_LIMIT:
                del self._runs[batch_id]
                return self._failed(
                    f"could not confirm for {UNCONFIRMED_LIMIT / 60:.0f} minutes whether "
                    f"{self.name} started this run (it may have): {entry.warned}"
                )
            return PollResult("not_started" if now >= entry.next_check else "running")
        if now < entry.next_check - DUE_SLACK:
            return PollResult("running")
        assert entry.run_id is not None
        self.checks += 1
        try:
            result = self._check(entry.request, entry.run_id)
        except TransientError as exc:
            entry.failing_since = entry.failing_since or now
            if now - entry.failing_since > FOLLOW_LIMIT:
                del self._runs[batch_id]
                return self._failed(f"lost track of the run for {FOLLOW_LIMIT / 60:.0f} min: {exc}")
            delay = max(self._gap(entry.checks), exc.delay or 0.0)
            entry.next_check = now + delay
            entry.checks += 1
            return PollResult("running")
        except PlatformError as exc:
            del self._runs[batch_id]
            return self._failed(str(exc))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            del self._runs[batch_id]
            return self._failed(self._unexpected(exc))
        entry.failing_since = None
        if result.state in ("success", "failed"):
            del self._runs[batch_id]
            if result.error:
                error = self.client.redact(result.error)
                return PollResult(result.state, result.ended_at, error, result.canceled)
            return result
        entry.checks += 1
        entry.next_check = now + self._gap(entry.checks)
        return PollResult("running")

    def cancel(self, run: RunRequest, platform_run_id: str | None) -> None:
        """Ask the platform to stop a run (followed by this pass or not); retried on 429/5xx.

        Every platform's cancel call is a no-op for a run that has ended, so cancelling
        twice, or after the end, is no error. A run this pass follows is checked at once.
        """
        if platform_run_id is None:
            raise PermanentError(
                f"{self.name}: run {run.batch_id} has no {self.label} run id yet (its start "
                "is unconfirmed): nothing to cancel until it is known"
            )
        self.client.retrying(lambda: self._cancel(run, platform_run_id))
        entry = self._runs.get(run.batch_id)
        if entry is not None and entry.result is None:
            entry.next_check = self.monotonic()  # the next poll asks how it ended

    def wait(self, timeout: float) -> None:
        """Sleep until the next check of a run is due, or ``timeout`` seconds."""
        now = self.monotonic()
        due = now + timeout
        for entry in self._runs.values():
            if entry.request is None:
                continue  # adopted, waiting for start() (or its pipeline is gone)
            if entry.result is not None:
                return  # apply has something to do at once
            due = min(due, entry.next_check)
        if due > now:
            self.sleep(due - now)

    def close(self) -> None:
        self._runs.clear()
        self.client.close()

    def recorded(self, session: object, batch_ids: Sequence[str], now: datetime) -> None:
        """(Nothing to note: the platform itself knows its runs.)"""

    def after_pass(self, in_flight: set[str]) -> None:
        """(Nothing kept on this machine.)"""

    # --- helpers for the adapters ---------------------------------------------------

    def _gap(self, checks: int) -> float:
        gap = min(POLL_MAX, POLL_FIRST * POLL_GROWTH**checks)
        return gap

    def _unexpected(self, exc: Exception) -> str:
        """A reply of an unexpected shape: named, not crashing the pass."""
        return self.client.redact(
            cut(f"{self.name}: unexpected reply ({type(exc).__name__}: {exc})")
        )

    def _failed(self, message: str) -> PollResult:
        return PollResult("failed", self.now(), self.client.redact(cut(message, 500)))

    def now(self) -> datetime:
        """The current instant on the reconciler's clock (``--now`` shifts it)."""
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    def at(self, epoch_seconds: float | None) -> datetime:
        """A platform's timestamp on the reconciler's clock; now when it is missing."""
        if not epoch_seconds:
            return self.now()
        return datetime.fromtimestamp(epoch_seconds, UTC) + timedelta(seconds=self.clock_offset)

    def unknown(self, batch_id: str, what: str) -> PollResult:
        """An unknown lifecycle value: keep polling, and warn once per value."""
        entry = self._runs.get(batch_id)
        if entry is not None and entry.warned != what:
            entry.warned = what
            log.warning("%s: run %s: %s; still following it", self.name, batch_id, what)
        return PollResult("running")
