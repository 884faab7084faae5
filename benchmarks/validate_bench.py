"""Time ``reconciler validate`` on 1,000 and 10,000 generated pipeline files.

Run: ``python benchmarks/validate_bench.py [--sizes 1000,10000] [--runs 3]``. Prints a
table of end-to-end CLI times (a subprocess, best of ``--runs``) and of the loader
alone, in process. Targets: 1,000 files under 1 s, 10,000 under 8 s.

It also times one file with many parameters that use each other (the circle check
and the placeholder scan must be linear): 36 parameters that each use the two before
them, and 10,000 in a chain and in a ring, each within ``PARAMETER_BUDGET`` seconds.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {1_000: 1.0, 10_000: 8.0}
PARAMETER_BUDGET = 1.0
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def pipeline_text(index: int, rng: random.Random) -> str:
    """One valid, varied pipeline file."""
    kind = ("daily", "weekly", "monthly")[index % 3]
    platform = ("local", "local", "databricks", "dbt", "snowflake", "http")[index % 6]
    lines = [
        "# yaml-language-server: $schema=../schemas/pipeline.schema.json",
        f"id: pipeline_{index:05d}",
        f"name: Generated pipeline {index}",
        f"platform: {platform}",
        "trigger:",
    ]
    if platform == "local":
        lines += [
            "  command:",
            "    - python",
            "    - jobs/load.py",
            "    - --date",
            '    - "{date}"',
            '    - "{param.target}"',
            "  timeout: 5m",
        ]
    elif platform == "databricks":
        lines += [
            "  host: https://example.cloud.databricks.com",
            f"  job_id: {1000 + index}",
            "  token_env: DATABRICKS_TOKEN",
        ]
    elif platform == "dbt":
        lines += [f"  account_id: {index + 1}", f"  job_id: {index + 2}", "  steps: [dbt build]"]
    elif platform == "snowflake":
        lines += [
            "  account: example-xy12345",
            "  statement: call rollup(?, ?, ?, ?)",
            "  warehouse: WH",
            "  schema: MARTS",
        ]
    else:
        lines += [
            "  url: https://jobs.example.com/api/run",
            "  body:",
            '    date: "{date}"',
            '    target: "{param.target}"',
            "  status_url: https://jobs.example.com/api/runs/{platform_run_id}",
        ]
    lines += [
        "schedule:",
        f"  type: {kind}",
        f"  every: {rng.randint(1, 3)}",
    ]
    if kind == "weekly":
        days = sorted(rng.sample(range(7), rng.randint(1, 3)))
        lines.append(f"  days: [{', '.join(WEEKDAYS[d] for d in days)}]")
    elif kind == "monthly":
        lines.append(f"  days: [{rng.choice([1, 15, 28])}, -1]")
    lines += [
        f"  start: 2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        f"  offset: {rng.randint(0, 2)}",
        f"  at: {rng.randint(0, 23):02d}:{rng.choice([0, 15, 30, 45]):02d}",
        f"  timezone: {rng.choice(ZONES)}",
        "batch:",
        f"  multi_date: {'true' if index % 2 else 'false'}",
        f"  max_dates: {rng.randint(1, 31)}",
        "retry:",
        "  schedule: " + rng.choice(["every 5 minutes", "exponential 1 minute up to 1 hour"]),
        f"  max_retries: {rng.randint(0, 5)}",
    ]
    if index % 4 == 0:
        lines += [
            "backfill:",
            "  priority: 1",
            "  requests:",
            f"    - id: req-{index}",
            "      from: 2025-03-01",
            "      to: 2025-03-31",
            "      reason: reprocess after a fix",
        ]
    if index % 5 == 0:
        lines += [
            "quality:",
            "  checks:",
            "    - name: rows_present",
            "      sql: select count(*) > 0 from t where d = '{date}'",
            "      on_fail: warn",
        ]
    if index % 3 == 1:
        lines += ["sla:", '  time: "08:00"']
    if index % 2 == 0:
        lines += [
            "notifications:",
            "  - channel: slack",
            "    url_env: SLACK_WEBHOOK_URL",
            "    on: [failure, sla_breach]",
            "  - channel: stdout",
        ]
    lines += ["parameters:", "  target: data/{pipeline_id}/{date}.parquet", "  retries: 3"]
    return "\n".join(lines) + "\n"


def generate(directory: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for index in range(count):
        (directory / f"pipeline_{index:05d}.yaml").write_text(pipeline_text(index, rng))


def time_cli(directory: Path, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        began = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "reconciler", "validate", "--config-dir", str(directory)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "GITHUB_ACTIONS": "false"},
        )
        elapsed = time.perf_counter() - began
        if result.returncode != 0:
            raise SystemExit(f"validate failed:\n{result.stderr[-2000:]}")
        best = min(best, elapsed)
    return best


def time_loader(directory: Path, runs: int) -> float:
    from reconciler.config.loading import config_files, load_files

    best = float("inf")
    for _ in range(runs):
        began = time.perf_counter()
        _, problems = load_files(config_files(directory))
        elapsed = time.perf_counter() - began
        if problems:
            raise SystemExit(f"generated files have problems: {problems[:3]}")
        best = min(best, elapsed)
    return best


def parameter_files() -> dict[str, dict[str, str]]:
    """Parameter sets that are slow for a circle check that is not linear."""
    n = 10_000
    return {
        "36 fanning": {
            f"p{i}": "/".join(f"{{param.p{j}}}" for j in range(max(0, i - 2), i)) or "base"
            for i in range(36)
        },
        "10k chain": {f"p{i}": f"{{param.p{i - 1}}}/x" if i else "base" for i in range(n)},
        "10k ring": {f"p{i}": f"{{param.p{(i + 1) % n}}}/x" for i in range(n)},
    }


def time_parameters(directory: Path, runs: int) -> list[tuple[str, int, float, str]]:
    from reconciler.config.loading import load_files

    rows = []
    for what, params in parameter_files().items():
        path = directory / f"{what.replace(' ', '_')}.yaml"
        lines = [
            "id: params",
            "platform: local",
            'trigger: {command: [run, "{param.p0}"]}',
            "schedule: {type: daily, start: 2026-01-01}",
            "parameters:",
            *(f'  {name}: "{value}"' for name, value in params.items()),
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        best = float("inf")
        for _ in range(runs):
            began = time.perf_counter()
            load_files([path])
            best = min(best, time.perf_counter() - began)
        verdict = "ok" if best < PARAMETER_BUDGET else f"MISS (< {PARAMETER_BUDGET} s)"
        rows.append((f"params {what}", len(params), best, verdict))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[tuple[str, int, float, str]] = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="validate-bench-") as tmp:
            directory = Path(tmp)
            generate(directory, size)
            cli = time_cli(directory, args.runs)
            target = TARGETS.get(size)
            verdict = "" if target is None else ("ok" if cli < target else f"MISS (< {target} s)")
            rows.append(("validate (CLI)", size, cli, verdict))
            rows.append(("load_files", size, time_loader(directory, args.runs), ""))
    with tempfile.TemporaryDirectory(prefix="validate-bench-") as tmp:
        rows += time_parameters(Path(tmp), args.runs)
    print(f"{'what':<18} {'items':>7} {'seconds':>8} {'items/s':>9}  target")
    for what, size, seconds, verdict in rows:
        print(f"{what:<18} {size:>7} {seconds:>8.3f} {size / seconds:>9.0f}  {verdict}")


if __name__ == "__main__":
    main()
