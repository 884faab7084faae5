"""What ``run`` and ``apply`` tell their monitoring about each pass: events and metrics.

A pass's start and end are logged as events (JSON lines with ``--log-format json``) and
counted in ``ServiceMetrics``; after each pass the status is read again for the gauges,
and whether that read reached the state decides ``/readyz``.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler import log_events as events
from reconciler.errors import ReconcilerError

if TYPE_CHECKING:
    from reconciler.observe.health_server import HealthServer
    from reconciler.observe.metrics import ServiceMetrics
    from reconciler.reconcile.pass_report import ApplyReport

log = logging.getLogger("reconciler.pass")


class PassObserver:
    """Counts and logs the passes of one process; serves them when given an address."""

    def __init__(
        self, config_dir: Path, state: str, interval: float, *, measure: bool = True
    ) -> None:
        """``measure``: keep metrics and read the status after each pass (``run``, and
        ``apply --pushgateway``); without it only the events are logged, and
        ``prometheus_client`` is not even imported."""
        from reconciler.observe.health_server import Readiness

        self.config_dir = config_dir
        self.state = state
        self.metrics: ServiceMetrics | None = None
        if measure:
            from reconciler.observe.metrics import ServiceMetrics

            self.metrics = ServiceMetrics()
        self.readiness = Readiness(interval=interval)
        self.server: HealthServer | None = None
        self._began = 0.0
        # the counters listen to INFO events; with no handler of its own (text mode) the
        # logger's warnings still reach stderr as they did before, one plain line each
        logger = logging.getLogger("reconciler")
        self._level = logger.level
        self._handlers = [self.metrics.handler()] if self.metrics else []
        if not logger.handlers:
            text = logging.StreamHandler(sys.stderr)
            text.setLevel(logging.WARNING)
            self._handlers.append(text)
        for handler in self._handlers:
            logger.addHandler(handler)
        # the state's DEBUG session timings feed the latency histograms; every other
        # handler of ours takes INFO and above, so they print nothing more for it
        wanted = logging.DEBUG if self.metrics else logging.INFO
        if logger.getEffectiveLevel() > wanted:
            logger.setLevel(wanted)

    def serve(self, address: tuple[str, int]) -> int:
        """Starts /metrics, /healthz and /readyz at ``address``; returns the port."""
        from reconciler.observe.health_server import HealthServer

        assert self.metrics is not None  # (a server is only asked of a measuring observer)
        self.server = HealthServer(address, self.metrics.registry, self.readiness).start()
        return self.server.port

    def close(self) -> None:
        logger = logging.getLogger("reconciler")
        for handler in self._handlers:
            logger.removeHandler(handler)
        logger.setLevel(self._level)
        if self.server is not None:
            self.server.close()

    def started(self, now: datetime) -> None:
        self._began = time.monotonic()
        events.emit(log, events.PASS_STARTED, "pass started", now=now)

    def ended(
        self,
        report: ApplyReport | None,
        error: str | None,
        now: datetime,
        *,
        log_failure: bool = True,
    ) -> None:
        """The pass's figures counted and logged, then the status read for the gauges."""
        duration = time.monotonic() - self._began
        if report is not None:
            for pid, change in sorted(report.config_changes.items()):
                events.emit(
                    log, events.CONFIG_CHANGED, f"config: {change} {pid}", pipeline=pid,
                    change=change,
                )  # fmt: skip
        m = self.metrics
        if m is not None:
            m.pass_duration.observe(duration)
            m.last_end.set(time.time())
            m.passes.labels("succeeded" if error is None else "failed").inc()
            if error is None:
                m.last_success.set(time.time())
        if error is None:
            events.emit(
                log, events.PASS_ENDED, "pass ended", duration_seconds=round(duration, 3),
                started=report.started if report else 0,
                succeeded=report.succeeded if report else 0,
                failed=report.failed if report else 0,
            )  # fmt: skip
        else:
            events.emit(
                log, events.PASS_FAILED, f"pass failed: {error}",
                logging.ERROR if log_failure else logging.INFO,
                duration_seconds=round(duration, 3),
            )  # fmt: skip
        if m is not None:
            self.refresh(now)

    def push(self, gateway: str) -> None:
        """The pass's metrics to a Pushgateway; a push that fails is a warning: the
        pass's work is done, and stays done."""
        from reconciler.observe.exposition import push

        assert self.metrics is not None
        try:
            push(gateway, self.metrics.registry)
        except (OSError, ValueError) as exc:
            log.warning(f"could not push the metrics to {gateway}: {exc}")

    def refresh(self, now: datetime) -> None:
        """The status gauges from a new read of the state; readiness from whether it
        could be read."""
        from reconciler.observe.metrics import status_families
        from reconciler.reconcile.status_snapshot import read_status

        m = self.metrics
        if m is None:
            return
        try:
            snapshot = read_status(self.config_dir, self.state, now)
        except ReconcilerError as exc:
            m.up.set(0)
            self.readiness.pass_ended(False, str(exc))
            return
        m.status.update(status_families(snapshot.rows, snapshot.platforms, snapshot.unsent))
        m.up.set(1)
        self.readiness.pass_ended(True)
