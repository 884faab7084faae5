"""``run --metrics-addr``: a real runner on a real port, scraped while its runs happen.

The scrape is parsed with ``prometheus_client``'s parser and compared with
``status --format json`` of the same state; ``/readyz`` must go unready when the state
cannot be opened and ready again when it can.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

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


def test_metrics_agree_with_status_and_readyz_follows_the_state(
    tmp_path: Path, cli: Cli, cli_env: dict[str, str]
) -> None:
    config, state = tmp_path / "pipelines.d", tmp_path / "state.duckdb"
    write_fleet(config)
    port = free_port()
    runner = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "run", "--config-dir", str(config), "--state",
         str(state), "--interval", "1s", "--max-parallel", "2", "--metrics-addr",
         f"127.0.0.1:{port}"],
        cwd=tmp_path, env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: alive(port), 30, "the metrics server")
        assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        # while runs happen: some in flight, counted as they start
        # while runs happen: some in flight, counted as they start; once the fleet has
        # settled, the scrape and status --format json agree exactly
        view = in_flight_then_settled(port, cli, config, ["--state", str(state)])
        assert view["orders"]["coverage_pct"] == 100.0 and view["orders"]["covered"] == 6
        assert view["refunds"]["failed"] == 6 and view["refunds"]["coverage_pct"] == 0.0
        samples = scrape(port)
        refunds = (("pipeline", "refunds"), ("platform", "local"))
        orders = (("pipeline", "orders"), ("platform", "local"))
        assert samples[("reconciler_runs_failed_total", refunds)] >= 6
        assert samples[("reconciler_runs_succeeded_total", orders)] >= 6
        assert samples[("reconciler_state_write_duration_seconds_count", ())] >= 3
        assert samples[("reconciler_passes_total", (("outcome", "succeeded"),))] >= 1
        assert get(f"http://127.0.0.1:{port}/readyz")[0] == 200

        # the state becomes unreachable: not ready, and why; then reachable again
        hidden = state.with_suffix(".hidden")
        state.rename(hidden)
        state.write_text("not a database\n", encoding="utf-8")
        _code, why = wait_for(
            lambda: (r := get(f"http://127.0.0.1:{port}/readyz"))[0] == 503 and r, 30, "unready"
        )
        assert "unreachable" in why
        assert scrape(port)[("reconciler_state_reachable", ())] == 0
        state.unlink()
        hidden.rename(state)
        wait_for(lambda: get(f"http://127.0.0.1:{port}/readyz")[0] == 200, 30, "ready again")
        assert get(f"http://127.0.0.1:{port}/nowhere")[0] == 404
    finally:
        runner.send_signal(signal.SIGTERM)
        _out, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err
    # the state error is reported (wrapped by a pass, or as DuckDB words it on another read)
    assert "not a DuckDB database" in err or "not a valid DuckDB database" in err


def test_a_taken_port_is_a_one_line_error(tmp_path: Path, cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("run", "--config-dir", str(tmp_path), "--metrics-addr", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert "--metrics-addr" in result.stderr and "Traceback" not in result.stderr
    bad = cli("run", "--config-dir", str(tmp_path), "--metrics-addr", "localhost")
    assert bad.returncode == 1 and "expected host:port" in bad.stderr
    assert os.environ.get("NEVER_SET_FOR_THIS_TEST") is None
