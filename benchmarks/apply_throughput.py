"""Throughput of ``reconciler apply --wait`` on the local platform.

One daily local pipeline whose command is ``true``, starting ``--runs`` days before
``--now`` (one date per run, ``max_active_runs`` 8), applied with ``--max-parallel 8``
and ``--wait`` in a subprocess, as a user would. Prints dates per second, the wall
time and CPU time per run, and the overhead per run beyond the process itself: the
cost of spawning ``true`` alone (measured here, sequentially, from Python) subtracted
from the wall time per run and from the CPU time per run (apply, its supervisor and
the jobs, all counted as children of this script).

Run: ``python benchmarks/apply_throughput.py [--runs 5000] [--max-parallel 8]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

NOW = "2026-11-27T06:00:00"


def pipeline_yaml(start: date, true_path: str, parallel: int) -> str:
    return "\n".join(
        [
            "id: bench_true",
            "platform: local",
            "trigger:",
            f"  command: [{true_path}]",
            "schedule:",
            "  type: daily",
            f"  start: {start.isoformat()}",
            "retry:",
            "  enabled: false",
            "backfill:",
            f"  max_active_runs: {parallel}",
            "",
        ]
    )


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def spawn_cost(true_path: str, count: int = 300) -> tuple[float, float]:
    """Wall and CPU seconds of spawning ``true`` once (from Python, sequentially)."""
    cpu0, t0 = cpu_of_children(), time.perf_counter()
    for _ in range(count):
        subprocess.run([true_path], check=True)
    return (time.perf_counter() - t0) / count, (cpu_of_children() - cpu0) / count


def count_state(state: Path) -> tuple[int, int]:
    import duckdb

    conn = duckdb.connect(str(state), read_only=True)
    try:
        runs = conn.execute("SELECT count(*) FROM pipeline_run_log").fetchone()
        ok = conn.execute(
            "SELECT coalesce(sum(range_end - range_start + 1), 0) FROM coverage"
        ).fetchone()
    finally:
        conn.close()
    assert runs is not None and ok is not None
    return int(runs[0]), int(ok[0])


def run_apply(work: Path, parallel: int) -> tuple[float, float, str]:
    env = dict(os.environ, RECONCILER_NOW=NOW)
    cpu0, t0 = cpu_of_children(), time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "apply", "--wait", "--max-parallel", str(parallel)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed, cpu = time.perf_counter() - t0, cpu_of_children() - cpu0
    if done.returncode != 0:
        raise SystemExit(f"apply failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed, cpu, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--max-parallel", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    true_path = shutil.which("true") or "/bin/true"
    spawn_wall, spawn_cpu = spawn_cost(true_path)
    work = Path(tempfile.mkdtemp(prefix="apply-bench-"))
    try:
        (work / "pipelines.d").mkdir()
        first = date.fromisoformat(NOW[:10]) - timedelta(days=args.runs)
        (work / "pipelines.d" / "bench_true.yaml").write_text(
            pipeline_yaml(first, true_path, args.max_parallel), encoding="utf-8"
        )
        elapsed, cpu, summary = run_apply(work, args.max_parallel)
        runs, covered = count_state(work / ".reconciler" / "state.duckdb")
        state_size = sum(f.stat().st_size for f in (work / ".reconciler").glob("state.duckdb*"))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    rate = runs / elapsed
    rows = [
        ("runs (dates) started and recorded", f"{runs}"),
        ("dates covered in state", f"{covered}"),
        ("max parallel / cores", f"{args.max_parallel} / {os.cpu_count()}"),
        ("apply --wait wall time", f"{elapsed:.2f} s"),
        ("throughput", f"{rate:.1f} dates/s"),
        ("wall time per run", f"{1000 * elapsed / runs:.2f} ms"),
        ("CPU time per run (apply + supervisor + job)", f"{1000 * cpu / runs:.2f} ms"),
        (
            "spawning `true` alone: wall / CPU",
            f"{1000 * spawn_wall:.2f} / {1000 * spawn_cpu:.2f} ms",
        ),
        ("CPU overhead per run beyond the process", f"{1000 * (cpu / runs - spawn_cpu):.2f} ms"),
        (
            "wall overhead per run beyond the process",
            f"{1000 * (elapsed / runs - spawn_wall):.2f} ms",
        ),
        ("state file size", f"{state_size / 1e6:.1f} MB"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"apply throughput, {args.runs} local `true` runs")
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>14}")
    print(f"  apply said: {summary}")


if __name__ == "__main__":
    main()
