"""A pass's events as notifications, recorded in the outbox in the caller's transaction.

The pass decides what happened (``reconciler.core.events``); this module only knows
which channels want to hear of it and whether they have been told already (the
outbox's rows are its memory: a notification is recorded once, whatever the pass).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from reconciler.core.events import PassEvent
from reconciler.notify.channels import wants
from reconciler.notify.events import MAKES, notifications
from reconciler.notify.outbox import Outbox
from reconciler.state.notification_rows import NewNotification
from reconciler.state.sessions import WriteSession

if TYPE_CHECKING:
    from reconciler.config.models import AnyPipeline

E = TypeVar("E", bound=PassEvent)


class Announcer:
    """Tells the channels of ``pipelines`` (those that can notify) of a pass's events."""

    def __init__(self, pipelines: Mapping[str, AnyPipeline], outbox: Outbox) -> None:
        self.pipelines = pipelines
        self.outbox = outbox

    def listens(self, pipeline_id: str, kind: type[PassEvent]) -> bool:
        """Whether a channel of the pipeline wants a notification ``kind`` can make."""
        pipeline = self.pipelines.get(pipeline_id)
        return pipeline is not None and any(wants(pipeline, e) for e in MAKES[kind])

    def listening(self, kind: type[PassEvent]) -> set[str]:
        """The pipelines with a channel that wants to hear of ``kind``."""
        return {pid for pid in self.pipelines if self.listens(pid, kind)}

    def _notes(self, event: PassEvent) -> list[NewNotification]:
        pipeline = self.pipelines.get(event.pipeline_id)
        return [] if pipeline is None else notifications(pipeline, event)

    def unannounced(self, session: WriteSession, events: Sequence[E]) -> list[E]:
        """The events with a notification not recorded yet (the ids do not depend on an
        event's details, so a draft without its error or digest will do)."""
        drafts = [self._notes(e) for e in events]
        seen = session.known_notifications([n.notification_id for g in drafts for n in g])
        return [
            e
            for e, group in zip(events, drafts, strict=True)
            if any(n.notification_id not in seen for n in group)
        ]

    def announce(self, session: WriteSession, events: Iterable[PassEvent]) -> int:
        """Record the events' notifications as pending (those recorded before are kept)."""
        return self.outbox.record(session, [n for e in events for n in self._notes(e)])
