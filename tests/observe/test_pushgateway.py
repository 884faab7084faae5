"""``apply --pushgateway``: the pass's metrics are pushed, as a Pushgateway receives them
(PUT /metrics/job/reconciler); a gateway that is down is a warning, not a failed pass."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Cli
from tests.observe.fleet import write_fleet


class Gateway(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str, str]]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.received.append(("PUT", self.path, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    received: ClassVar[list[tuple[str, str, str]]] = []
    handler = type("Handler", (Gateway,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_a_pass_pushes_its_metrics(
    tmp_path: Path, cli: Cli, gateway: tuple[str, list[tuple[str, str, str]]]
) -> None:
    url, received = gateway
    config, state = tmp_path / "pipelines.d", str(tmp_path / "s.duckdb")
    write_fleet(config, days=2)
    done = cli("apply", "--wait", "--config-dir", str(config), "--state", state,
               "--pushgateway", url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    [(method, path, body)] = received
    assert (method, path) == ("PUT", "/metrics/job/reconciler")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    for pid in ("orders", "refunds"):
        key = (("pipeline", pid), ("platform", "local"))
        assert samples[("reconciler_runs_started_total", key)] == 2
    refunds = (("pipeline", "refunds"), ("platform", "local"))
    assert samples[("reconciler_runs_failed_total", refunds)] == 2
    assert (
        "reconciler_runs_failed_total",
        (("pipeline", "orders"), ("platform", "local")),
    ) not in samples
    # every write of the pass was timed (the lock, the runs, the outcomes at least)
    assert samples[("reconciler_state_write_duration_seconds_count", ())] >= 3
    status = cli("status", "--config-dir", str(config), "--state", state, "--format", "json")
    for row in json.loads(status.stdout)["pipelines"]:
        key = (("pipeline", row["pipeline_id"]), ("platform", "local"))
        assert round(samples[("reconciler_coverage_ratio", key)] * 100, 2) == row["coverage_pct"]


def test_a_gateway_that_is_down_is_a_warning(tmp_path: Path, cli: Cli) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    write_fleet(tmp_path / "pipelines.d", days=1)
    done = cli("apply", "--config-dir", str(tmp_path / "pipelines.d"), "--state",
               str(tmp_path / "s.duckdb"), "--pushgateway", f"http://127.0.0.1:{port}")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"could not push the metrics to http://127.0.0.1:{port}" in done.stderr
    assert "Applied:" in done.stdout
