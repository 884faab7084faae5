"""The reconciler's Prometheus metrics, in a registry of their own (never the global one).

``status_families`` is pure: the status rows become metric families, so that
``status --format openmetrics`` and ``run --metrics-addr`` print the very figures of
``status --format json``. ``ServiceMetrics`` adds what only a running process knows
(passes, runs, notifications, API errors), counted from the events it is told of.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from reconciler import log_events as events
from reconciler.core.status import PipelineStatus
from reconciler.state.notification_rows import NotificationRow

PREFIX = "reconciler"
# the ``state`` label of reconciler_dates, named as ``status --format json`` names them
DATE_STATES = (
    ("due", "due"),
    ("covered", "covered"),
    ("missing", "missing"),
    ("excluded", "excluded"),
    ("failed", "failed"),
    ("outdated", "outdated"),
    ("blocked", "blocked"),
    ("in_flight", "in_flight"),
)


def _count(row: PipelineStatus, state: str) -> int:
    return int(getattr(row, state))


def status_families(
    rows: Sequence[PipelineStatus],
    platforms: dict[str, str],
    unsent: Sequence[NotificationRow] = (),
) -> list[Metric]:
    """The gauges of ``status``: coverage, dates by state, SLA breaches, paused, and the
    notifications that failed for good, by pipeline and channel."""
    labels = ["pipeline", "platform"]
    coverage = GaugeMetricFamily(
        f"{PREFIX}_coverage_ratio",
        "Covered dates over the due dates that are not excluded (1 when none is due).",
        labels=labels,
    )
    dates = GaugeMetricFamily(
        f"{PREFIX}_dates",
        "Due dates of a pipeline by state (due counts them all).",
        labels=[*labels, "state"],
    )
    breaches = GaugeMetricFamily(
        f"{PREFIX}_sla_breaches",
        "Dates recorded as having missed their SLA.",
        labels=labels,
    )
    paused = GaugeMetricFamily(
        f"{PREFIX}_pipeline_paused", "1 when the pipeline is paused.", labels=labels
    )
    flying = GaugeMetricFamily(
        f"{PREFIX}_runs_in_flight",
        "Runs started and not yet ended, as the state records them (every runner's).",
        labels=labels,
    )
    for row in rows:
        key = [row.pipeline_id, platforms.get(row.pipeline_id, "")]
        coverage.add_metric(key, row.coverage_pct / 100.0)
        for state, attribute in DATE_STATES:
            dates.add_metric([*key, state], _count(row, attribute))
        breaches.add_metric(key, row.sla_breaches)
        paused.add_metric(key, 1 if row.paused else 0)
        flying.add_metric(key, row.runs_in_flight)
    failed = GaugeMetricFamily(
        f"{PREFIX}_notifications_failed",
        "Notifications that could not be sent and will not be retried.",
        labels=["pipeline", "channel"],
    )
    counts: dict[tuple[str, str], int] = {}
    for note in unsent:
        key2 = (note.pipeline_id, note.channel)
        counts[key2] = counts.get(key2, 0) + 1
    for (pid, channel), n in sorted(counts.items()):
        failed.add_metric([pid, channel], n)
    return [coverage, dates, breaches, paused, flying, failed]


class StatusCollector(Collector):
    """Yields the families of the latest status it was given (none before the first)."""

    def __init__(self) -> None:
        self._families: list[Metric] = []
        self._lock = threading.Lock()

    def update(self, families: list[Metric]) -> None:
        with self._lock:
            self._families = families

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            families = list(self._families)
        yield from families


def status_registry(families: Iterable[Metric]) -> CollectorRegistry:
    """A registry of these families alone (for ``status --format openmetrics``)."""
    registry = CollectorRegistry(auto_describe=False)
    collector = StatusCollector()
    collector.update(list(families))
    registry.register(collector)
    return registry


PASS_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class ServiceMetrics:
    """A process's metrics: the status gauges plus the counters of its passes and events."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.status = StatusCollector()
        self.registry.register(self.status)
        r = self.registry
        self.passes = Counter(
            f"{PREFIX}_passes", "Reconcile passes, by outcome.", ["outcome"], registry=r
        )
        run = ["pipeline", "platform"]
        self.runs_started = Counter(
            f"{PREFIX}_runs_started", "Runs handed to their platform.", run, registry=r
        )
        self.runs_ended = {
            status: Counter(
                f"{PREFIX}_runs_{status}", f"Runs that ended {status}.", run, registry=r
            )
            for status in ("succeeded", "failed", "canceled")
        }
        self.retries = Counter(
            f"{PREFIX}_retries", "Retries scheduled for failed dates.", ["pipeline"], registry=r
        )
        self.sla_breaches = Counter(
            f"{PREFIX}_sla_breaches_recorded",
            "SLA breaches recorded by this process.",
            ["pipeline"],
            registry=r,
        )
        self.notifications = Counter(
            f"{PREFIX}_notifications",
            "Notifications handed to a channel, by outcome (sent, pending, failed).",
            ["channel", "outcome"],
            registry=r,
        )
        self.api_errors = Counter(
            f"{PREFIX}_platform_api_errors",
            "Platform API calls that failed, by platform and status class (4xx, 5xx, network).",
            ["platform", "status_class"],
            registry=r,
        )
        self.lock_waits = Counter(
            f"{PREFIX}_lock_waits", "Passes that found the state's lock held.", registry=r
        )
        self.pass_duration = Histogram(
            f"{PREFIX}_pass_duration_seconds",
            "How long a reconcile pass took.",
            buckets=PASS_BUCKETS,
            registry=r,
        )
        self.state_read = Histogram(
            f"{PREFIX}_state_read_duration_seconds",
            "How long a read-only session of the state was open (its queries included).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.state_write = Histogram(
            f"{PREFIX}_state_write_duration_seconds",
            "How long a write transaction of the state took, from open to commit.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.last_end = Gauge(
            f"{PREFIX}_last_pass_end_timestamp_seconds",
            "When the last pass ended (Unix time).",
            registry=r,
        )
        self.last_success = Gauge(
            f"{PREFIX}_last_pass_success_timestamp_seconds",
            "When the last pass that succeeded ended (Unix time).",
            registry=r,
        )
        self.up = Gauge(
            f"{PREFIX}_state_reachable", "1 when the last pass could reach the state.", registry=r
        )

    def handler(self) -> logging.Handler:
        """A logging handler that counts the events of ``reconciler.observe.events``."""
        return _EventCounter(self)

    def count(self, record: logging.LogRecord) -> None:
        event = getattr(record, "event", None)
        fields = record.__dict__
        if event == events.NOTIFICATION_SENT or event == events.NOTIFICATION_FAILED:
            self.notifications.labels(
                str(fields.get("channel", "")), str(fields.get("outcome", ""))
            ).inc()
        elif event == events.PLATFORM_API_ERROR:
            self.api_errors.labels(
                str(fields.get("platform", "")), str(fields.get("status_class", ""))
            ).inc()
        elif event == events.RUN_STARTED:
            self.runs_started.labels(*_run_labels(fields)).inc()
        elif event == events.RUN_ENDED:
            counter = self.runs_ended.get(str(fields.get("status", "")))
            if counter is not None:
                counter.labels(*_run_labels(fields)).inc()
        elif event == events.STATE_READ:
            self.state_read.observe(float(fields.get("duration_seconds", 0.0)))
        elif event == events.STATE_WRITTEN:
            self.state_write.observe(float(fields.get("duration_seconds", 0.0)))
        elif event == events.LOCK_WAIT:
            self.lock_waits.inc()
        elif event == events.RETRY_SCHEDULED:
            self.retries.labels(str(fields.get("pipeline", ""))).inc()
        elif event == events.SLA_BREACH:
            self.sla_breaches.labels(str(fields.get("pipeline", ""))).inc()


def _run_labels(fields: dict[str, object]) -> tuple[str, str]:
    return str(fields.get("pipeline", "")), str(fields.get("platform", ""))


class _EventCounter(logging.Handler):
    def __init__(self, metrics: ServiceMetrics) -> None:
        super().__init__(level=logging.DEBUG)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        self.metrics.count(record)
