"""Scraping a runner's /metrics, and reading ``status --format json`` the same way, so
that the tests compare the two on DuckDB and PostgreSQL alike."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Cli

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

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


def scrape(port: int) -> Samples:
    """Every sample of /metrics, by name and labels."""
    _, text = get(f"http://127.0.0.1:{port}/metrics")
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def status_view(samples: Samples) -> dict:
    """The status gauges of a scrape, as ``status --format json`` would print them."""
    view: dict[str, dict[str, object]] = {}
    for (name, labels), value in samples.items():
        tags = dict(labels)
        if name == "reconciler_coverage_ratio":
            view.setdefault(tags["pipeline"], {})["coverage_pct"] = round(value * 100, 2)
        elif name == "reconciler_dates":
            key = JSON_KEY.get(tags["state"], tags["state"])
            view.setdefault(tags["pipeline"], {})[key] = int(value)
        elif name in ("reconciler_sla_breaches", "reconciler_runs_in_flight"):
            key = name.removeprefix("reconciler_")
            view.setdefault(tags["pipeline"], {})[key] = int(value)
    return view


def json_view(cli: Cli, config: Path, state: list[str]) -> dict:
    """``status --format json`` of the state named by the ``state`` arguments."""
    result = cli("status", "--config-dir", str(config), *state, "--format", "json")
    assert result.returncode == 0, result.stderr
    keys = ["coverage_pct", "sla_breaches", "runs_in_flight"]
    keys += [JSON_KEY.get(s, s) for s in STATES]
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


def total(samples: Samples, name: str) -> float:
    """The sum of a metric's samples over every label."""
    return sum(v for (n, _labels), v in samples.items() if n == name)


def alive(port: int) -> bool:
    try:
        return get(f"http://127.0.0.1:{port}/healthz")[0] == 200
    except OSError:
        return False


def in_flight_then_settled(port: int, cli: Cli, config: Path, state: list[str]) -> dict:
    """Waits for a scrape with runs in flight (and runs counted as started), then for
    one where nothing is in flight and the status gauges equal ``status --format json``
    of the state; returns that view."""
    seen = wait_for(
        lambda: total(s := scrape(port), "reconciler_runs_in_flight") > 0 and s,
        60, "runs in flight",
    )  # fmt: skip
    assert total(seen, "reconciler_runs_started_total") >= 1
    last: dict[str, dict] = {}

    def settled() -> bool:
        view = status_view(scrape(port))
        if not view or any(p.get("in_flight") for p in view.values()):
            return False
        last.update(view=view, json=json_view(cli, config, state))
        return last["view"] == last["json"]

    try:
        wait_for(settled, 90, "a settled fleet")
    finally:
        print(last)  # (the last comparison, when they never agreed)
    return last["view"]
