"""Measures ``reconciler import-history`` of N pipelines x Y years: time, peak RSS, size.

Generates a Parquet history with DuckDB (every date a success except 1% failures, in
file order by pipeline then date) and N daily pipeline files, then runs
``reconciler import-history`` as a subprocess under ``/usr/bin/time -v`` (or
``getrusage`` of the children), and again on the same file, which must change nothing:
the script fingerprints the run log, coverage and open dates before and after.
It prints a markdown table.

    python benchmarks/import_scale.py --pipelines 1000 --years 10
    python benchmarks/import_scale.py --pipelines 10000 --years 10   # 36.5M rows
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

NOW = "2025-12-31T12:00:00"
PIPELINE = """id: {pid}
platform: local
trigger:
  command: ["true"]
schedule:
  type: daily
  start: {start}
retry:
  enabled: false
"""
TIME = Path("/usr/bin/time")
# what an import writes, summed so that a re-import that changes anything shows
FINGERPRINT = {
    "pipeline_run_log": "count(*), sum(hash(pipeline_id, run_date, status, start_time, "
    "end_time, batch_id, kind, created_at, version))",
    "coverage": "count(*), sum(hash(pipeline_id, range_start, range_end))",
    "open_dates": "count(*), sum(hash(pipeline_id, run_date, status, attempt, batch_id))",
}


def run(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and the last output line of one CLI run."""
    timer = [str(TIME), "-v"] if TIME.exists() else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    began = time.perf_counter()
    proc = subprocess.run(timer + cmd, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr[-2000:]}")
    if timer:
        line = next(x for x in proc.stderr.splitlines() if "Maximum resident" in x)
        rss = float(line.rsplit(":", 1)[1]) / 1024
    else:  # (the children's high-water mark: right for the first, largest run)
        rss = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    return seconds, rss, last


def generate(work: Path, pipelines: int, years: int) -> tuple[Path, Path, int, float]:
    """The config dir and Parquet history (reused when the workdir already has them)."""
    config = work / f"pipelines-{pipelines}.d"
    history = work / f"history-{pipelines}x{years}.parquet"
    last_day = date(2025, 12, 31)
    start = last_day - timedelta(days=365 * years - 1)
    width = len(str(pipelines))
    began = time.perf_counter()
    if not config.exists():
        config.mkdir(parents=True)
        for i in range(pipelines):
            pid = f"p{i:0{width}d}"
            (config / f"{pid}.yaml").write_text(PIPELINE.format(pid=pid, start=start))
    con = duckdb.connect()
    if not history.exists():
        con.execute(
            f"""COPY (
                  SELECT 'p' || lpad(CAST(p AS VARCHAR), {width}, '0') AS pipeline_id,
                         d::DATE AS run_date,
                         CASE WHEN hash(p, d) % 100 = 0 THEN 'failed' ELSE 'success' END
                           AS status
                  FROM range({pipelines}) t(p),
                       generate_series(DATE '{start}', DATE '{last_day}', INTERVAL 1 DAY) s(d)
                  ORDER BY p, d
                ) TO '{history}' (FORMAT parquet)"""
        )
    row = con.execute(f"SELECT count(*) FROM '{history}'").fetchone()
    con.close()
    return config, history, int(row[0]) if row else 0, time.perf_counter() - began


def fingerprint(state: Path) -> dict[str, tuple[object, ...]]:
    con = duckdb.connect(str(state), read_only=True)
    try:
        return {
            t: tuple(con.execute(f"SELECT {q} FROM {t}").fetchone() or ())
            for t, q in FINGERPRINT.items()
        }
    finally:
        con.close()


def size_mb(state: Path) -> float:
    wal = Path(f"{state}.wal")
    return (state.stat().st_size + (wal.stat().st_size if wal.exists() else 0)) / 1e6


def live_writes(state: Path, runs: int = 8) -> list[tuple[str, float]]:
    """Seconds of the three writes of a pass's runs on the imported state, through the
    store: the runs recorded, marked running, their outcomes recorded (each its own
    transaction, as ``apply`` does). The DuckDB run log has no index: these stay fast
    because batch ids are hex and imported ids start with ``import:``, so DuckDB skips
    the imported row groups by their min/max instead of scanning them."""
    import hashlib
    from datetime import UTC, datetime

    from reconciler.core.batches import Outcome, RunIntent
    from reconciler.state.store import open_store

    store = open_store(str(state))
    now = datetime(2026, 1, 1, 6, tzinfo=UTC)
    with store.read() as session:
        pids = sorted(session.applied_configs())[:runs]
    intents = [
        RunIntent(batch_id=hashlib.sha256(pid.encode()).hexdigest()[:20], key=pid,
                  pipeline_id=pid,
                  dates=(date(2026, 1, 1),), attempt=1, kind="run", request_id=None,
                  priority=0, retry_schedule="", platform="local")
        for pid in pids
    ]  # fmt: skip
    steps: list[tuple[str, float]] = []
    began = time.perf_counter()
    with store.write() as session:
        session.record_intents(intents, now)
    steps.append(("runs recorded (pending)", time.perf_counter() - began))
    began = time.perf_counter()
    with store.write() as session:
        session.mark_running([(i.batch_id, f"run-{i.pipeline_id}", now) for i in intents])
    steps.append(("runs marked running", time.perf_counter() - began))
    with store.read() as session:
        flying = session.in_flight()
    ended = Outcome(success=True, ended_at=now)
    began = time.perf_counter()
    with store.write() as session:
        session.record_outcomes_live([(b, ended, {}) for b in flying])
    steps.append(("outcomes recorded", time.perf_counter() - began))
    return steps


def machine_reference() -> float:
    """Seconds for a fixed pure-Python loop: this shared machine's speed varies several
    times over from hour to hour, so a table carries the figure it was measured beside."""
    began = time.perf_counter()
    sum(range(10**8))
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--workdir", type=Path, default=None, help="kept (and reused)")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="import-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        config, history, rows, generated = generate(work, args.pipelines, args.years)
        state = work / "state.duckdb"
        for leftover in (state, Path(f"{state}.wal")):
            leftover.unlink(missing_ok=True)
        exe = [sys.executable, "-m", "reconciler", "import-history", str(history)]
        common = ["--config-dir", str(config), "--state", str(state), "--now", NOW]
        t_import, rss_import, out_import = run([*exe, *common], work)
        size = size_mb(state)
        first = fingerprint(state)
        t_again, rss_again, out_again = run([*exe, *common], work)
        same = fingerprint(state) == first
        reference = machine_reference()
        print(f"## import-history ({args.pipelines:,} pipelines x {args.years} years)\n")
        print(f"machine reference: sum(range(10**8)) in {reference:.2f} s\n")
        print(
            f"history file: {rows:,} rows, {history.stat().st_size / 1e6:.1f} MB Parquet "
            f"(ready in {generated:.1f} s)\n"
        )
        print("| step | seconds | peak RSS (MB) | state file (MB) | output |")
        print("|---|---:|---:|---:|---|")
        print(f"| import-history | {t_import:.1f} | {rss_import:.0f} | {size:.0f} | {out_import} |")
        print(
            f"| import-history again | {t_again:.1f} | {rss_again:.0f} | {size_mb(state):.0f} | "
            f"{out_again} |"
        )
        print(f"\nre-import changed nothing: {'yes' if same else 'NO'}")
        print("\nthen a pass's writes for 8 runs on the imported state:\n")
        print("| write | seconds |")
        print("|---|---:|")
        for name, seconds in live_writes(state):
            print(f"| {name} | {seconds:.3f} |")
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
