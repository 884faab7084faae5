"""One read of the state for ``status``: its rows, the failed notifications, the platforms.

``status`` prints it (text, JSON, OpenMetrics) and ``run --metrics-addr`` serves it, so
the figures of both come from one function and agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reconciler.core.status import PipelineStatus, pipeline_status
from reconciler.state.notification_rows import NotificationRow


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusSnapshot:
    """Per pipeline its status row and platform."""

    now: datetime
    rows: list[PipelineStatus]
    platforms: dict[str, str]
    unsent: list[NotificationRow]


def read_status(
    config_dir: Path, state: str, now: datetime, pipelines: Sequence[str] = ()
) -> StatusSnapshot:
    """The status of ``pipelines`` (every one when empty), from one snapshot of the state."""
    from reconciler.config.loading import load_config
    from reconciler.reconcile.planning import select
    from reconciler.reconcile.reporting import blocked_dates
    from reconciler.state.store import open_store

    every = load_config(config_dir)
    loaded = select(every, pipelines, config_dir)
    specs = [p.spec for p in loaded]
    store = open_store(state)
    with store.read() as session:  # (one snapshot for both)
        observed = session.observe([s.id for s in specs])
        unsent = session.notifications("failed", [s.id for s in specs])
    blocked = blocked_dates(every, store, now)
    rows = [pipeline_status(s, observed.of(s.id), now, blocked.get(s.id, 0)) for s in specs]
    platforms = {p.id: str(p.flat.get("platform", "")) for p in loaded}
    return StatusSnapshot(now=now, rows=rows, platforms=platforms, unsent=list(unsent))
