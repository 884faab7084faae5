"""The platform protocol: start a run, poll it; the rest of apply never sees an API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from reconciler.config.models import AnyPipeline
    from reconciler.state.sessions import WriteSession


PollState = Literal["not_started", "running", "success", "failed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRequest:
    """Everything a platform needs to start one run (one or more dates)."""

    batch_id: str
    key: str
    pipeline: AnyPipeline
    dates: tuple[date, ...]
    attempt: int
    values: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PollResult:
    """Where a run is; ``canceled``: a failed run that was stopped on request, not broken."""

    state: PollState
    ended_at: datetime | None = None
    error: str | None = None
    canceled: bool = False


@dataclass(frozen=True, slots=True)
class StartResult:
    """What ``start`` learnt: the platform's run id, or None when the start is unconfirmed.

    An unconfirmed start (a trigger whose reply was lost) may or may not have made a run:
    apply records no run id for it, and polling answers ``not_started`` now and then so
    that apply repeats the idempotent start, until it confirms or gives up."""

    run_id: str | None

    @property
    def confirmed(self) -> bool:
        return self.run_id is not None


class Platform(Protocol):
    """Start says which run the platform made; poll says where that run is.

    ``start`` must be idempotent for a batch id (a start repeated after a crash must
    not create a second run). ``wait`` blocks until something may have changed (a run
    ended) or ``timeout`` seconds passed; ``close`` ends the pass (runs in flight go on).
    ``recorded`` is told, inside the transaction, which of its batches were just written;
    ``after_pass``, once the pass recorded its outcomes, which batches are still in
    flight (the local platform keeps their run files and prunes old ones).
    ``cancel`` asks the platform to stop a run; a run that already ended, or was
    cancelled before, is no error. Its poll then answers ``failed`` with ``canceled``.
    """

    def start(self, run: RunRequest) -> StartResult: ...

    def poll(self, batch_id: str, platform_run_id: str | None) -> PollResult: ...

    def cancel(self, run: RunRequest, platform_run_id: str | None) -> None: ...

    def wait(self, timeout: float) -> None: ...

    def close(self) -> None: ...

    def recorded(self, session: WriteSession, batch_ids: Sequence[str], now: datetime) -> None: ...

    def after_pass(self, in_flight: set[str]) -> None: ...
