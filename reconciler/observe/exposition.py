"""The metrics as text: Prometheus' exposition format or OpenMetrics, and the push."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest, push_to_gateway
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from reconciler.core.status import PipelineStatus
from reconciler.observe.metrics import status_families, status_registry
from reconciler.state.notification_rows import NotificationRow


def status_text(
    rows: Sequence[PipelineStatus],
    platforms: dict[str, str],
    unsent: Sequence[NotificationRow],
    *,
    openmetrics: bool,
) -> str:
    """``status --format openmetrics|prometheus``: the status gauges, once."""
    registry = status_registry(status_families(rows, platforms, unsent))
    return registry_text(registry, openmetrics=openmetrics)


def registry_text(registry: CollectorRegistry, *, openmetrics: bool) -> str:
    encode = generate_openmetrics if openmetrics else generate_latest
    return encode(registry).decode()


def push(gateway: str, registry: CollectorRegistry, job: str = "reconciler") -> None:
    """``apply --pushgateway``: the pass's metrics replace the job's group on the gateway."""
    push_to_gateway(gateway, job=job, registry=registry, timeout=10)
