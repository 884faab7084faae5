"""Measures `reconciler plan` on a fleet where half the pipelines depend on the other half,
against the same fleet without `depends_on`.

N daily pipelines with Y years of imported history (1% failed dates, retries off, as in
import_and_noop.py). Half are sources; the other half form chains of depth 4 hanging
off a source, alternating `dates: period` and `dates: latest` (a weekly and a monthly
link in each chain, so the mappings cover more than one date):

    source -> c1 (daily, period) -> c2 (weekly on Sundays, period) -> c3 (daily, latest)
           -> c4 (monthly on the last day, period)

History is imported once (with the plain config), the state copied, and each copy
synced with its config by an `apply` with nothing to start; then `plan --format json`
and `plan` (text) run `--runs` times each, config cache warm. Prints a markdown table:
best wall time and peak RSS of each, and the ratio with / without dependencies.

    python benchmarks/dependency_plan.py --pipelines 1000 --years 10
    python benchmarks/dependency_plan.py --pipelines 10000 --years 10   # ~6 min, ~9 GB RAM
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

NOW = "2025-12-31T12:00:00"
LAST_DAY = date(2025, 12, 31)
# (schedule lines, mapping of the link that reaches this member of a chain)
CHAIN = [
    ("type: daily", "period"),
    ("type: weekly\n  days: [sun]", "period"),
    ("type: daily", "latest"),
    ("type: monthly\n  days: [-1]", "period"),
]


def _file(pid: str, start: date, schedule: str, upstream: str | None, dates: str) -> str:
    text = (
        f'id: {pid}\nplatform: local\ntrigger:\n  command: ["true"]\n'
        f"schedule:\n  {schedule}\n  start: {start}\nretry:\n  enabled: false\n"
    )
    if upstream is not None:
        text += f"depends_on:\n  - pipeline: {upstream}\n    dates: {dates}\n"
    return text


def write_fleet(config: Path, n: int, start: date, linked: bool) -> dict[str, str]:
    """The pipeline files; returns each pipeline's schedule kind (for the history)."""
    if config.exists():
        shutil.rmtree(config)
    config.mkdir(parents=True)
    kinds: dict[str, str] = {}
    sources = n // 2
    width = len(str(n))
    for i in range(sources):
        pid = f"s{i:0{width}d}"
        kinds[pid] = "daily"
        (config / f"{pid}.yaml").write_text(_file(pid, start, "type: daily", None, ""))
    for j in range(n - sources):
        chain, link = divmod(j, len(CHAIN))
        pid = f"c{chain:0{width}d}_{link + 1}"
        upstream = f"s{chain % sources:0{width}d}" if link == 0 else f"c{chain:0{width}d}_{link}"
        schedule, dates = CHAIN[link]
        kinds[pid] = schedule.split("\n")[0].removeprefix("type: ")
        body = _file(pid, start, schedule, upstream if linked else None, dates)
        (config / f"{pid}.yaml").write_text(body)
    return kinds


def write_history(path: Path, kinds: dict[str, str], start: date) -> int:
    """Every scheduled date of every pipeline, 1% failed, as Parquet; returns the rows."""
    con = duckdb.connect()
    con.execute("CREATE TABLE p (pipeline_id VARCHAR, kind VARCHAR)")
    con.executemany("INSERT INTO p VALUES (?, ?)", list(kinds.items()))
    con.execute(
        f"""COPY (
              SELECT pipeline_id, d::DATE AS run_date,
                     CASE WHEN hash(pipeline_id, d) % 100 = 0 THEN 'failed'
                          ELSE 'success' END AS status
              FROM p, generate_series(DATE '{start}', DATE '{LAST_DAY}', INTERVAL 1 DAY) s(d)
              WHERE kind = 'daily'
                 OR (kind = 'weekly' AND dayofweek(d) = 0)
                 OR (kind = 'monthly' AND d = last_day(d))
            ) TO '{path}' (FORMAT parquet)"""
    )
    rows = con.execute(f"SELECT count(*) FROM '{path}'").fetchone()[0]  # type: ignore[index]
    con.close()
    return int(rows)


def run(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one CLI run."""
    timer = ["/usr/bin/time", "-f", "%M"] if Path("/usr/bin/time").exists() else []
    began = time.perf_counter()
    proc = subprocess.run(
        timer + cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    seconds = time.perf_counter() - began
    if proc.returncode not in (0, 2):
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr[-2000:]}")
    rss = float(proc.stderr.strip().splitlines()[-1]) / 1024 if timer else float("nan")
    return seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="deps-bench-"))
    start = LAST_DAY - timedelta(days=365 * args.years - 1)
    exe = [sys.executable, "-m", "reconciler"]
    plain, linked = work / "plain", work / "linked"
    for side in (plain, linked):
        side.mkdir(parents=True, exist_ok=True)
    kinds = write_fleet(plain / "pipelines.d", args.pipelines, start, linked=False)
    write_fleet(linked / "pipelines.d", args.pipelines, start, linked=True)
    history = work / "history.parquet"
    rows = write_history(history, kinds, start)
    print(f"importing {rows:,} rows ...", file=sys.stderr)
    state = plain / "state.duckdb"
    state.unlink(missing_ok=True)
    common = ["--state", "state.duckdb", "--now", NOW]
    imported = run([*exe, "import-history", str(history), *common], plain)
    shutil.copy(state, linked / "state.duckdb")
    for side in (plain, linked):
        run([*exe, "apply", *common], side)  # (syncs the config: nothing to start)
    results: dict[tuple[str, str], tuple[float, float]] = {}
    for fmt in ("json", "text"):
        for _ in range(args.runs):
            for name, side in (("without", plain), ("with", linked)):  # alternating
                seconds, rss = run([*exe, "plan", "--format", fmt, *common], side)
                best = results.get((fmt, name))
                if best is None or seconds < best[0]:
                    results[(fmt, name)] = (seconds, rss)
    print(
        f"## plan with and without dependencies ({args.pipelines:,} pipelines x "
        f"{args.years} years, {rows:,} history rows; import {imported[0]:.0f} s)\n"
    )
    print("| plan | without depends_on (s) | with (s) | ratio | peak RSS without / with (MB) |")
    print("|---|---:|---:|---:|---:|")
    for fmt in ("json", "text"):
        (a, ra), (b, rb) = results[(fmt, "without")], results[(fmt, "with")]
        print(f"| `--format {fmt}` | {a:.2f} | {b:.2f} | {b / a:.2f} | {ra:.0f} / {rb:.0f} |")


if __name__ == "__main__":
    main()
