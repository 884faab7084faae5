"""The README's service section holds: its systemd unit passes ``systemd-analyze
verify``, its alert rules parse and name metrics that exist, and its metrics table lists
every metric the reconciler exposes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from reconciler.observe.metrics import ServiceMetrics, status_families, status_registry

README = Path(__file__).resolve().parents[2] / "README.md"
METRIC = re.compile(r"\breconciler_[a-z_]+")
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count",
            "_created"), "gauge": ("",)}  # fmt: skip


def block(marker: str, language: str) -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker}:.*?```{language}\n(.*?)```", text, re.S)
    assert found, f"no {marker} block in the README"
    return found.group(1)


def exposed() -> tuple[set[str], set[str]]:
    """Every family name the reconciler exposes, and every sample name it can."""
    registries: list[CollectorRegistry] = [
        ServiceMetrics().registry,
        status_registry(status_families([], {})),
    ]
    families, samples = set(), set()
    for registry in registries:
        for family in registry.collect():
            families.add(family.name)
            samples |= {family.name + s for s in SUFFIXES.get(family.type, ("",))}
    return families, samples


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    binary = Path(sys.executable).with_name("reconciler")
    unit = block("systemd unit", "ini").replace("/usr/local/bin/reconciler", str(binary))
    assert "--metrics-addr 127.0.0.1:9108" in unit and "run --interval" in unit
    path = tmp_path / "reconciler.service"
    path.write_text(unit, encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "" and done.stdout.strip() == "", done.stderr + done.stdout


def test_the_alert_rules_parse_and_name_existing_metrics() -> None:
    rules = yaml.safe_load(block("alert rules", "yaml"))
    [group] = rules["groups"]
    alerts = {r["alert"]: r for r in group["rules"]}
    assert {"ReconcilerSlaBreached", "ReconcilerPassStale"} <= set(alerts)
    _, samples = exposed()
    for rule in alerts.values():
        names = METRIC.findall(rule["expr"])
        assert names, rule
        assert set(names) <= samples, set(names) - samples
    assert "sla_breaches" in alerts["ReconcilerSlaBreached"]["expr"]
    assert "last_pass_success" in alerts["ReconcilerPassStale"]["expr"]


def test_the_metrics_table_lists_every_metric() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Running it as a service") :]
    section = section[: section.index("\n## ")]
    table = {
        m.removesuffix("_total")
        for line in section.splitlines()
        if line.startswith("| `reconciler_")
        for m in METRIC.findall(line.split("|")[1])
    }
    # "runs_started_total, _succeeded_total, _failed_total, _canceled_total": four counters
    table |= {"reconciler_runs_succeeded", "reconciler_runs_failed", "reconciler_runs_canceled"}
    families, _ = exposed()
    assert families == table, (families - table, table - families)
