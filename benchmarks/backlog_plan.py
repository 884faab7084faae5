"""A fleet that has not run yet: ``reconciler plan`` on an empty state.

Data: N daily pipelines (single-date runs, UTC) whose schedule starts ``years`` before
``--now``, one generated YAML file each, and a real DuckDB state file that holds
nothing (onboarding, a new start date, a long outage): every due date is a backfill.
The same fleet starting one month before ``--now`` is the baseline.

Each command runs as a subprocess with the config cache warm (one untimed run first),
stdout written to a file: wall time (best of ``--runs``), peak RSS (``/usr/bin/time -v``,
else ``getrusage(RUSAGE_CHILDREN)``) and the output's size. Commands: ``plan`` (text),
``plan --format json`` (the range form) and ``plan --format json-v2`` (the expanded
form, one object per run, streamed).

Targets (the shared 2-core machine): at 2,000 x 10 years, text and JSON each within
1.5x the one-month time, under 400 MB, the JSON under 8 MB; at 10,000 x 10 years under
3 s and 500 MB each.

Run:
  python benchmarks/backlog_plan.py                          # 2,000 x 10 years and 1 month
  python benchmarks/backlog_plan.py --pipelines 10000 --skip-baseline
  python benchmarks/backlog_plan.py --formats text json      # leave the expanded form out

MB below means 10^6 bytes.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TIME_BIN = "/usr/bin/time"
FORMATS = ("text", "json", "json-v2")


@dataclass(frozen=True)
class Row:
    fleet: str
    fmt: str
    seconds: float
    rss_mb: float
    out_mb: float


def yaml_text(pid: str, start: date) -> str:
    return (
        f"id: {pid}\n"
        "platform: local\n"
        "trigger:\n"
        '  command: [python, jobs/load.py, --date, "{date}"]\n'
        "schedule:\n"
        "  type: daily\n"
        f"  start: {start.isoformat()}\n"
        '  at: "02:00"\n'
        "  timezone: UTC\n"
    )


def build(directory: Path, pipelines: int, start: date) -> tuple[Path, Path]:
    """A config dir of ``pipelines`` YAML files and an empty (migrated) DuckDB state."""
    sys.path.insert(0, str(ROOT))
    from reconciler.state.store import open_store

    config = directory / "pipelines.d"
    config.mkdir(parents=True)
    width = len(str(pipelines - 1))
    for index in range(pipelines):
        pid = f"p{index:0{width}d}"
        (config / f"{pid}.yaml").write_text(yaml_text(pid, start))
    state = directory / "state.duckdb"
    with open_store(str(state)).write():
        pass  # creates the file and migrates it to the current schema
    return config, state


# the checkout whose reconciler runs (--code: another one, to compare; run from its
# directory, which ``python -m`` puts first on the path, by its .venv's python if any)
CODE = [ROOT]


def child_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env.update(NO_COLOR="1", GITHUB_ACTIONS="false", PYTHONPATH=str(CODE[0]))
    env["RECONCILER_CACHE_DIR"] = str(cache)
    return env


def run_plan(config: Path, state: Path, fmt: str, cache: Path, out: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one ``reconciler plan``, stdout to ``out``."""
    venv = CODE[0] / ".venv" / "bin" / "python"
    python = str(venv) if CODE[0] != ROOT and venv.exists() else sys.executable
    command = [
        python, "-m", "reconciler", "plan", "--config-dir", str(config),
        "--state", str(state), "--now", NOW.isoformat(), "--format", fmt, "--no-check-env",
    ]  # fmt: skip
    timed = os.path.exists(TIME_BIN)
    if timed:
        command = [TIME_BIN, "-v", *command]
    began = time.perf_counter()
    with out.open("wb") as handle:
        result = subprocess.run(
            command, stdout=handle, stderr=subprocess.PIPE, text=True,
            env=child_env(cache), cwd=CODE[0], check=False,
        )  # fmt: skip
    seconds = time.perf_counter() - began
    if result.returncode not in (0, 2):
        raise SystemExit(f"reconciler plan failed ({result.returncode}):\n{result.stderr[-3000:]}")
    if timed:
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
        assert match, result.stderr[-2000:]
        return seconds, int(match.group(1)) * 1024 / 1e6
    kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, kb * 1024 / 1e6


def measure(
    label: str, pipelines: int, start: date, formats: Sequence[str], runs: int
) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="backlog-plan-") as tmp:
        directory = Path(tmp)
        config, state = build(directory, pipelines, start)
        cache = directory / "cache"
        out = directory / "out"
        # warms the config cache: every file is loaded to plan one pipeline
        first = min(config.iterdir()).stem
        warm = [sys.executable, "-m", "reconciler", "plan", "--config-dir", str(config),
                "--state", str(state), "--now", NOW.isoformat(), "--pipeline", first]  # fmt: skip
        subprocess.run(warm, env=child_env(cache), cwd=CODE[0], capture_output=True, check=True)
        for fmt in formats:
            best = min(run_plan(config, state, fmt, cache, out) for _ in range(runs))
            size = out.stat().st_size / 1e6
            rows.append(Row(label, fmt, best[0], best[1], size))
            print(
                f"  {label} {fmt}: {best[0]:.2f} s, {best[1]:.0f} MB, {size:.1f} MB",
                file=sys.stderr,
            )
            sys.stderr.flush()
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=2000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--runs", type=int, default=1, help="best of this many runs")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS))
    parser.add_argument("--skip-baseline", action="store_true", help="no one-month fleet")
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="run the reconciler of this checkout"
    )
    args = parser.parse_args(argv)
    CODE[0] = args.code.resolve()
    today = NOW.date()
    years = f"{args.pipelines:,} x {args.years} years"
    fleets = [(years, today.replace(year=today.year - args.years))]
    if not args.skip_baseline:
        fleets.append((f"{args.pipelines:,} x 1 month", today - timedelta(days=31)))
    rows: list[Row] = []
    for label, start in fleets:
        rows += measure(label, args.pipelines, start, args.formats, args.runs)
    print("| fleet (empty state) | format | wall s | peak RSS MB | output MB |")
    print("| --- | --- | ---: | ---: | ---: |")
    for row in rows:
        cells = f"{row.seconds:.2f} | {row.rss_mb:.0f} | {row.out_mb:.1f}"
        print(f"| {row.fleet} | {row.fmt} | {cells} |")


if __name__ == "__main__":
    main()
