"""The pure parts: status rows into metric families, readiness, addresses, plain progress."""

from __future__ import annotations

import io
import logging
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from reconciler import log_events
from reconciler.core.status import PipelineStatus
from reconciler.observe.exposition import registry_text
from reconciler.observe.health_server import Readiness, parse_address
from reconciler.observe.metrics import ServiceMetrics, status_families, status_registry
from reconciler.observe.progress import PlainProgress

counts = st.integers(min_value=0, max_value=10_000)


@st.composite
def rows(draw: st.DrawFn) -> PipelineStatus:
    due = draw(counts)
    covered = draw(st.integers(min_value=0, max_value=due))
    return PipelineStatus(
        pipeline_id=draw(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)),
        due=due,
        covered=covered,
        in_flight=draw(counts),
        failed=draw(counts),
        missing=draw(counts),
        last_covered=date(2026, 1, 1) if covered else None,
        next_date=None,
        next_due_at=None,
        sla_breaches=draw(counts),
        outdated=draw(counts),
        blocked=draw(counts),
        excluded=draw(st.integers(min_value=0, max_value=due - covered)),
        paused=draw(st.booleans()),
        runs_in_flight=draw(counts),
    )


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows(), max_size=5, unique_by=lambda r: r.pipeline_id))
def test_the_exposition_round_trips_the_status_rows(status: list[PipelineStatus]) -> None:
    platforms = {r.pipeline_id: "local" for r in status}
    text = registry_text(status_registry(status_families(status, platforms)), openmetrics=True)
    seen: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            seen[(s.name, s.labels.get("pipeline", ""), s.labels.get("state", ""))] = s.value
    for r in status:
        pid = r.pipeline_id
        assert seen[("reconciler_coverage_ratio", pid, "")] == r.coverage_pct / 100
        assert seen[("reconciler_dates", pid, "missing")] == r.missing
        assert seen[("reconciler_dates", pid, "due")] == r.due
        assert seen[("reconciler_dates", pid, "in_flight")] == r.in_flight
        assert seen[("reconciler_sla_breaches", pid, "")] == r.sla_breaches
        assert seen[("reconciler_pipeline_paused", pid, "")] == (1 if r.paused else 0)
        assert seen[("reconciler_runs_in_flight", pid, "")] == r.runs_in_flight


def test_readiness_needs_a_recent_pass_that_reached_the_state() -> None:
    clock = {"now": 100.0}
    ready = Readiness(interval=10, monotonic=lambda: clock["now"])
    assert ready.check() == (False, "no pass has ended yet")
    ready.pass_ended(True)
    assert ready.check()[0]
    clock["now"] += 31
    ok, why = ready.check()
    assert not ok and "31s ago" in why
    ready.pass_ended(False, "cannot open state file")
    ok, why = ready.check()
    assert not ok and "unreachable: cannot open state file" in why


def test_addresses() -> None:
    assert parse_address("127.0.0.1:9108") == ("127.0.0.1", 9108)
    assert parse_address(":9108") == ("0.0.0.0", 9108)
    assert parse_address("[::1]:9108") == ("::1", 9108)
    for bad in ("localhost", "127.0.0.1:http", "1.2.3.4:70000"):
        try:
            parse_address(bad)
        except ValueError as exc:
            assert "host:port" in str(exc)
        else:
            raise AssertionError(bad)


def test_events_are_counted_by_their_labels() -> None:
    metrics = ServiceMetrics()
    log = logging.getLogger("reconciler.test-counting")
    log.setLevel(logging.INFO)
    handler = metrics.handler()
    log.addHandler(handler)
    try:
        log_events.emit(log, log_events.PLATFORM_API_ERROR, "x", platform="dbt", status_class="5xx")
        failed = log_events.NOTIFICATION_FAILED
        log_events.emit(log, failed, "x", channel="slack", outcome="pending")
        log_events.emit(log, log_events.LOCK_WAIT, "x")
        run = {"pipeline": "orders", "platform": "dbt_cloud"}
        log_events.emit(log, log_events.RUN_STARTED, "x", **run)
        log_events.emit(log, log_events.RUN_STARTED, "x", **run)
        log_events.emit(log, log_events.RUN_ENDED, "x", status="succeeded", **run)
        log_events.emit(log, log_events.RUN_ENDED, "x", status="canceled", **run)
        for seconds in (0.002, 0.03):
            log_events.emit(log, log_events.STATE_WRITTEN, "x", duration_seconds=seconds)
        log_events.emit(log, log_events.STATE_READ, "x", duration_seconds=0.2)
    finally:
        log.removeHandler(handler)
    text = registry_text(metrics.registry, openmetrics=False)
    labels = 'pipeline="orders",platform="dbt_cloud"'
    assert f"reconciler_runs_started_total{{{labels}}} 2.0" in text
    assert f"reconciler_runs_succeeded_total{{{labels}}} 1.0" in text
    assert f"reconciler_runs_canceled_total{{{labels}}} 1.0" in text
    assert f"reconciler_runs_failed_total{{{labels}}}" not in text
    assert 'reconciler_state_write_duration_seconds_bucket{le="0.005"} 1.0' in text
    assert "reconciler_state_write_duration_seconds_count 2.0" in text
    assert 'reconciler_state_read_duration_seconds_bucket{le="0.1"} 0.0' in text
    assert "reconciler_state_read_duration_seconds_count 1.0" in text
    assert 'reconciler_platform_api_errors_total{platform="dbt",status_class="5xx"} 1.0' in text
    assert 'reconciler_notifications_total{channel="slack",outcome="pending"} 1.0' in text
    assert "reconciler_lock_waits_total 1.0" in text


def test_plain_progress_is_throttled_and_ends_with_the_final_counts() -> None:
    out, clock = io.StringIO(), {"now": 0.0}
    progress = PlainProgress(out, clock=lambda: clock["now"])
    progress.update(1, 0, 0, 4)
    clock["now"] = 3
    progress.update(2, 1, 0, 4)  # too soon: not shown
    progress.close()
    assert out.getvalue().splitlines() == [
        "progress: 1 started, 1 running, 0 succeeded, 0 failed, 3 remaining",
        "progress: 2 started, 1 running, 1 succeeded, 0 failed, 2 remaining",
    ]
