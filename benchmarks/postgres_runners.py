"""PostgreSQL state: triggers per second with 1, 2 and 4 runners, and plan time vs DuckDB.

``runners``: one daily Databricks pipeline with ``--dates`` due dates against the
Databricks test server (in this process, on 127.0.0.1, each run ending after
``--run-seconds``); N ``reconciler apply --wait`` processes start together on one fresh
PostgreSQL schema. Prints runs triggered per second (server ledger / wall time of the
slowest runner), how many runs each runner started, and checks that every date was
triggered exactly once.

``plan``: the state of ``benchmarks/plan_scaling.py`` (``--pipelines`` x ``--years``,
1% holes) built as a DuckDB file, copied into PostgreSQL with ``state migrate``'s
``Store.copy_to``, then ``reconciler plan --format json`` timed against both (best of
``--runs``).

Needs ``RECONCILER_TEST_POSTGRES`` (e.g. ``postgresql://postgres@127.0.0.1:5432/test``).
Run from the repository root:
``python benchmarks/postgres_runners.py runners [--dates 500] [--runners 1 2 4]``
``python benchmarks/postgres_runners.py plan [--pipelines 10000] [--years 10]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from tests.servers.databricks import DatabricksServer  # noqa: E402

NOW = "2026-11-27T06:00:00"
TOKEN = "bench-token-not-a-secret"


def server_url() -> str:
    url = os.environ.get("RECONCILER_TEST_POSTGRES")
    if not url:
        raise SystemExit("set RECONCILER_TEST_POSTGRES, e.g. postgresql://postgres@127.0.0.1/test")
    return url


def fresh_schema(url: str) -> tuple[str, str]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"
    return schema, f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def run_runners(count: int, dates: int, parallel: int, run_seconds: float) -> dict[str, object]:
    base = server_url()
    schema, state = fresh_schema(base)
    server = DatabricksServer(token=TOKEN).start()
    server.run_seconds = run_seconds
    work = Path(tempfile.mkdtemp(prefix="pg-runners-"))
    try:
        (work / "pipelines.d").mkdir()
        first = date.fromisoformat(NOW[:10]) - timedelta(days=dates - 1)
        spec = {
            "id": "bench_databricks",
            "platform": "databricks",
            "trigger": {"host": server.url, "job_id": 1, "token_env": "BENCH_DATABRICKS_TOKEN"},
            "schedule": {"type": "daily", "start": first.isoformat()},
            "retry": {"enabled": False},
            "backfill": {"max_active_runs": parallel * count},
        }
        (work / "pipelines.d" / "bench.yaml").write_text(json.dumps(spec), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
        env["BENCH_DATABRICKS_TOKEN"] = TOKEN
        cmd = [sys.executable, "-m", "reconciler", "apply", "--wait", "--now", NOW]
        cmd += ["--max-parallel", str(parallel), "--state", state]
        t0 = time.perf_counter()
        procs = [
            subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(count)
        ]
        outs = [p.communicate()[0] for p in procs]
        elapsed = time.perf_counter() - t0
        for p, out in zip(procs, outs, strict=True):
            if p.returncode != 0:
                raise SystemExit(f"apply failed ({p.returncode}): {out[-2000:]}")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        drop_schema(base, schema)
    per_date = Counter(e["date"] for e in server.created)
    started = [
        int(m.group(1)) for o in outs for m in [re.search(r"(\d+) run\(s\) started", o)] if m
    ]
    return {
        "runners": count,
        "runs": len(server.created),
        "dates_once": len(per_date) == dates and set(per_date.values()) == {1},
        "seconds": elapsed,
        "per_second": len(server.created) / elapsed,
        "started_by_runner": started,
    }


def runners_main(args: argparse.Namespace) -> None:
    print(
        f"PostgreSQL state, Databricks test server: {args.dates} dates, --max-parallel "
        f"{args.max_parallel} per runner, runs end after {args.run_seconds} s"
    )
    for count in args.runners:
        r = run_runners(count, args.dates, args.max_parallel, args.run_seconds)
        print(
            f"  {r['runners']} runner(s): {r['runs']} runs in {r['seconds']:.2f} s = "
            f"{r['per_second']:.1f} triggers/s; every date once: {r['dates_once']}; "
            f"started per runner {r['started_by_runner']}"
        )


def plan_main(args: argparse.Namespace) -> None:
    import plan_scaling as ps

    from reconciler.state.store import open_store

    base = server_url()
    ds = ps.make_dataset(args.pipelines, args.years, 7, 0.01, None)
    work = Path(tempfile.mkdtemp(prefix="pg-plan-"))
    schema, state = fresh_schema(base)
    try:
        coverage_csv, _ = ps.write_csvs(ds, work)
        config, duck = ps.build_e2e(ds, work, coverage_csv)
        t0 = time.perf_counter()
        open_store(str(duck)).copy_to(open_store(state))
        copy_seconds = time.perf_counter() - t0
        times: dict[str, float] = {}
        for name, where in (("duckdb", str(duck)), ("postgres", state)):
            best = float("inf")
            for _ in range(args.runs):
                cmd = [
                    sys.executable, "-m", "reconciler", "plan", "--config-dir", str(config),
                    "--state", where, "--now", ps.NOW.isoformat(), "--format", "json",
                ]  # fmt: skip
                began = time.perf_counter()
                done = subprocess.run(
                    cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                    env=ps.child_env(), cwd=ROOT, check=False,
                )  # fmt: skip
                if done.returncode not in (0, 2):
                    raise SystemExit(f"plan failed on {name}: {done.stderr[-2000:]}")
                best = min(best, time.perf_counter() - began)
            times[name] = best
    finally:
        shutil.rmtree(work, ignore_errors=True)
        drop_schema(base, schema)
    print(f"plan, {args.pipelines} pipelines x {args.years} years (best of {args.runs}):")
    print(f"  DuckDB file      {times['duckdb']:.2f} s")
    print(f"  PostgreSQL       {times['postgres']:.2f} s")
    print(f"  (copy DuckDB -> PostgreSQL took {copy_seconds:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    r = sub.add_parser("runners")
    r.add_argument("--dates", type=int, default=500)
    r.add_argument("--runners", type=int, nargs="+", default=[1, 2, 4])
    r.add_argument("--max-parallel", type=int, default=16)
    r.add_argument("--run-seconds", type=float, default=0.2)
    p = sub.add_parser("plan")
    p.add_argument("--pipelines", type=int, default=10_000)
    p.add_argument("--years", type=int, default=10)
    p.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runners_main(args) if args.what == "runners" else plan_main(args)


if __name__ == "__main__":
    main()
