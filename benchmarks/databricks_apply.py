"""Throughput of ``reconciler apply --wait`` against the Databricks test server.

One daily Databricks pipeline with ``--dates`` due dates (one date per run unless
``--max-dates`` batches them), applied with ``--max-parallel`` and ``--wait`` in a
subprocess, as a user would, while the test server (in this process, on 127.0.0.1)
ends each run ``--run-seconds`` after it was made. Prints runs triggered per second,
dates per second, the ceiling that ``--max-parallel`` and the run time put on them
(Little's law: parallel / run seconds), ``runs/get`` calls per finished run (polling
that backs off makes few; one that spins makes hundreds) and the CPU seconds of the
reconciler (apply, counted as this script's child).

Run from the repository root:
``python benchmarks/databricks_apply.py [--dates 2000] [--max-parallel 32] [--run-seconds 0.5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers.databricks import DatabricksServer  # noqa: E402

NOW = "2026-11-27T06:00:00"
TOKEN = "bench-token-not-a-secret"


def pipeline(url: str, first: date, parallel: int, max_dates: int) -> dict[str, object]:
    return {
        "id": "bench_databricks",
        "platform": "databricks",
        "trigger": {"host": url, "job_id": 1, "token_env": "BENCH_DATABRICKS_TOKEN"},
        "schedule": {"type": "daily", "start": first.isoformat()},
        "batch": {"multi_date": max_dates > 1, "max_dates": max_dates},
        "retry": {"enabled": False},
        "backfill": {"max_active_runs": parallel},
    }


def cpu_of(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dates", type=int, default=2000)
    parser.add_argument("--max-parallel", type=int, default=32)
    parser.add_argument("--run-seconds", type=float, default=0.5)
    parser.add_argument("--max-dates", type=int, default=1, help="dates per run (batching)")
    args = parser.parse_args()

    server = DatabricksServer(token=TOKEN).start()
    server.run_seconds = args.run_seconds
    work = Path(tempfile.mkdtemp(prefix="databricks-bench-"))
    try:
        (work / "pipelines.d").mkdir()
        first = date.fromisoformat(NOW[:10]) - timedelta(days=args.dates - 1)
        spec = pipeline(server.url, first, args.max_parallel, args.max_dates)
        (work / "pipelines.d" / "bench.yaml").write_text(json.dumps(spec), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
        env["BENCH_DATABRICKS_TOKEN"] = TOKEN
        cmd = [sys.executable, "-m", "reconciler", "apply", "--wait", "--now", NOW]
        cmd += ["--max-parallel", str(args.max_parallel)]
        server_cpu0 = cpu_of(resource.RUSAGE_SELF)
        cpu0, t0 = cpu_of(resource.RUSAGE_CHILDREN), time.perf_counter()
        done = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
        elapsed, cpu = time.perf_counter() - t0, cpu_of(resource.RUSAGE_CHILDREN) - cpu0
        server_cpu = cpu_of(resource.RUSAGE_SELF) - server_cpu0
        if done.returncode != 0:
            raise SystemExit(f"apply failed ({done.returncode}): {done.stderr.strip()}")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    runs = len(server.created)
    dates = sum(1 for e in server.created if e["date"]) * args.max_dates if runs else 0
    dates = min(dates, args.dates)
    first_at = min(e["at"] for e in server.created)
    last_at = max(e["at"] for e in server.created)
    polls = server.requests["runs/get"]
    ceiling = args.max_parallel / args.run_seconds if args.run_seconds else float("inf")
    rows = [
        ("runs triggered (unique, server ledger)", f"{runs}"),
        ("run-now calls", f"{server.requests['run-now']}"),
        ("dates", f"{dates}"),
        ("apply --wait wall time", f"{elapsed:.2f} s"),
        ("triggers per second (whole apply)", f"{runs / elapsed:.1f}"),
        (
            "triggers per second (first to last trigger)",
            f"{(runs - 1) / max(last_at - first_at, 1e-9):.1f}",
        ),
        ("ceiling: max-parallel / run seconds", f"{ceiling:.1f}"),
        ("dates per second", f"{dates / elapsed:.1f}"),
        ("runs/get calls per finished run", f"{polls / runs:.2f}"),
        ("reconciler CPU time", f"{cpu:.2f} s"),
        ("reconciler CPU per run", f"{1000 * cpu / runs:.2f} ms"),
        ("test server CPU time (this process)", f"{server_cpu:.2f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    print(
        f"databricks apply: {args.dates} dates, --max-parallel {args.max_parallel}, "
        f"runs end after {args.run_seconds} s, {args.max_dates} date(s) per run"
    )
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>10}")
    print(f"  apply said: {done.stdout.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
