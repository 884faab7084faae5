"""``run --metrics-addr``: a real runner on a real port, scraped while its runs happen.

The scrape is parsed with ``prometheus_client``'s parser and compared with
``status --format json`` of the same state; ``/readyz`` must go unready when the state
cannot be opened and ready again when it can.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Cli
from tests.observe.fleet import write_fleet

STATES = ("due", "covered", "missing", "excluded", "failed", "outdated", "blocked", "in_flight")
JSON_KEY = {"due": "due_dates"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, by name and labels."""
    _, text = get(f"http://127.0.0.1:{port}/metrics")
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def status_view(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict:
    """The status gauges of a scrape, as ``status --format json`` would print them."""
    view: dict[str, dict[str, object]] = {}
    for (name, labels), value in samples.items():
        tags = dict(labels)
        if name == "reconciler_coverage_ratio":
            view.setdefault(tags["pipeline"], {})["coverage_pct"] = round(value * 100, 2)
        elif name == "reconciler_dates":
            key = JSON_KEY.get(tags["state"], tags["state"])
            view.setdefault(tags["pipeline"], {})[key] = int(value)
        elif name == "reconciler_sla_breaches":
            view.setdefault(tags["pipeline"], {})["sla_breaches"] = int(value)
    return view


def json_view(cli: Cli, config: Path, state: Path) -> dict:
    result = cli("status", "--config-dir", str(config), "--state", str(state), "--format", "json")
    assert result.returncode == 0, result.stderr
    keys = ["coverage_pct", "sla_breaches", *(JSON_KEY.get(s, s) for s in STATES)]
    return {
        p["pipeline_id"]: {k: p[k] for k in keys} for p in json.loads(result.stdout)["pipelines"]
    }


def wait_for(check, timeout: float = 60.0, what: str = ""):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


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
        wait_for(lambda: _alive(port), 30, "the metrics server")
        assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        # while runs happen: some in flight, counted as they start
        seen = wait_for(
            lambda: (s := scrape(port)).get(("reconciler_runs_in_flight", ()), 0) > 0 and s,
            60, "runs in flight",
        )  # fmt: skip
        assert seen[("reconciler_runs_started_total", ())] >= 1
        # once the fleet has settled, the scrape and status --format json agree exactly
        last: dict[str, object] = {}

        def settled() -> bool:
            view = status_view(scrape(port))
            if any(p.get("in_flight") for p in view.values()):
                return False
            last.update(view=view, json=json_view(cli, config, state))
            return last["view"] == last["json"]

        try:
            wait_for(settled, 90, "a settled fleet")
        finally:
            print(last)  # (the last comparison, when they never agreed)
        view = last["view"]
        assert isinstance(view, dict)
        assert view["orders"]["coverage_pct"] == 100.0 and view["orders"]["covered"] == 6
        assert view["refunds"]["failed"] == 6 and view["refunds"]["coverage_pct"] == 0.0
        samples = scrape(port)
        assert samples[("reconciler_runs_failed_total", ())] >= 6
        assert samples[("reconciler_runs_succeeded_total", ())] >= 6
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


def _alive(port: int) -> bool:
    try:
        return get(f"http://127.0.0.1:{port}/healthz")[0] == 200
    except OSError:
        return False


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
