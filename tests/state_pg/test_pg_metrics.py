"""``run --metrics-addr`` on a PostgreSQL state: the scrape agrees with ``status --format
json`` of the same schema, and ``/readyz`` follows the server through a real outage
(a TCP proxy in front of it is cut, then restored)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_proxy import PgProxy

from tests.conftest import Cli
from tests.observe.fleet import write_fleet
from tests.observe.scraping import (
    alive,
    free_port,
    get,
    in_flight_then_settled,
    scrape,
    wait_for,
)


@pytest.fixture
def proxy(pg_server: str) -> Iterator[PgProxy]:
    p = PgProxy(pg_server)
    yield p
    p.close()


def test_metrics_of_a_runner_on_postgresql_and_readyz_through_an_outage(
    tmp_path: Path, cli: Cli, cli_env: dict[str, str], pg_url: str, proxy: PgProxy
) -> None:
    config = tmp_path / "pipelines.d"
    write_fleet(config)
    port = free_port()
    env = {**cli_env, "RECONCILER_PG_RECONNECT_SECONDS": "2"}
    runner = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "run", "--config-dir", str(config), "--state",
         proxy.url(pg_url), "--interval", "1s", "--max-parallel", "2", "--metrics-addr",
         f"127.0.0.1:{port}"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: alive(port), 30, "the metrics server")
        # while runs happen: some in flight, counted as they start; once the fleet has
        # settled, the scrape and status --format json agree exactly
        view = in_flight_then_settled(port, cli, config, ["--state", pg_url])
        assert view["orders"]["covered"] == 6 and view["refunds"]["failed"] == 6
        samples = scrape(port)
        orders = (("pipeline", "orders"), ("platform", "local"))
        assert samples[("reconciler_runs_succeeded_total", orders)] >= 6
        assert samples[("reconciler_state_write_duration_seconds_count", ())] >= 3
        assert samples[("reconciler_state_read_duration_seconds_count", ())] >= 1
        wait_for(lambda: get(f"http://127.0.0.1:{port}/readyz")[0] == 200, 30, "ready")

        proxy.cut()  # the server goes away: connections reset, new ones refused
        # (a pass stuck waiting for the server first reads as stale: three 1 s intervals)
        wait_for(
            lambda: (r := get(f"http://127.0.0.1:{port}/readyz"))[0] == 503
            and "unreachable" in r[1],
            60, "unready, the state unreachable",
        )  # fmt: skip
        assert scrape(port)[("reconciler_state_reachable", ())] == 0
        proxy.restore()
        wait_for(lambda: get(f"http://127.0.0.1:{port}/readyz")[0] == 200, 60, "ready again")
        assert scrape(port)[("reconciler_state_reachable", ())] == 1
    finally:
        runner.send_signal(signal.SIGTERM)
        _out, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err
    assert "Traceback" not in err
