"""``reconciler apply --wait`` on a fleet that has never run: time to the first run, memory.

Generates ``--pipelines`` daily local pipelines (command ``true``) that start
``--years`` years before ``--now``, on an empty DuckDB state, and runs
``reconciler apply --wait --max-parallel 8`` in a subprocess, as a user would. It
watches the local runs directory (each run is a directory named by its batch id,
made as the run is handed to the supervisor) and the RSS of the apply process and of
its whole process tree (``/proc/<pid>/status`` ``VmRSS``, every ``--sample`` seconds).
After ``--runs`` runs have started it interrupts the pass with SIGINT, as a user's ^C,
checks that it exits with its one-line message, then starts ``apply`` again and times
the first run the second pass starts. The same is measured for the same fleet with
one month of backlog, for comparison. Prints a markdown table.

Run: ``python benchmarks/backlog_apply.py [--pipelines 2000] [--years 10] [--runs 100000]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

NOW = "2026-11-27T06:00:00"
TICK = 0.005  # seconds between looks at the runs directory before the first run


def pipeline_yaml(pid: str, start: date, true_path: str) -> str:
    return "\n".join(
        [
            f"id: {pid}",
            "platform: local",
            "trigger:",
            f"  command: [{true_path}]",
            "schedule:",
            "  type: daily",
            f"  start: {start.isoformat()}",
            "retry:",
            "  enabled: false",
            "",
        ]
    )


def make_fleet(work: Path, pipelines: int, start: date, true_path: str) -> None:
    config = work / "pipelines.d"
    config.mkdir(parents=True)
    for n in range(pipelines):
        pid = f"p{n:05d}"
        (config / f"{pid}.yaml").write_text(pipeline_yaml(pid, start, true_path), "utf-8")


def tree_rss_kb(root: int) -> tuple[int, int]:
    """VmRSS of ``root`` and of ``root`` with all its descendants, in kB."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    own = total = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        rss = _rss_kb(pid)
        total += rss
        if pid == root:
            own = rss
    return own, total


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def count_entries(path: Path) -> int:
    try:
        return sum(1 for _ in os.scandir(path))
    except OSError:
        return 0


@dataclass(slots=True)
class Pass:
    first_run: float | None = None  # seconds from the process start to the first new run
    elapsed: float = 0.0
    started: int = 0  # runs started by this pass
    peak_own_mb: float = 0.0
    peak_tree_mb: float = 0.0
    samples: list[tuple[float, int, float, float]] = field(default_factory=list)
    exit_code: int | None = None
    stderr_tail: str = ""
    stop_seconds: float | None = None  # from SIGINT to the process' exit


def run_pass(work: Path, runs: int, sample: float, budget: float) -> Pass:
    """One ``apply --wait``, interrupted (SIGINT) once ``runs`` runs were started by it."""
    runs_dir = work / "runs"
    before = count_entries(runs_dir)
    env = dict(os.environ, RECONCILER_RUNS_DIR=str(runs_dir))
    argv = [sys.executable, "-m", "reconciler", "apply", "--wait", "--max-parallel", "8"]
    argv += ["--now", NOW]
    out = Pass()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    next_sample = 0.0
    while proc.poll() is None:
        now = time.perf_counter() - t0
        if out.first_run is None:
            if count_entries(runs_dir) > before:
                out.first_run = now
            else:
                time.sleep(TICK)
                if now < next_sample:
                    continue
        if now >= next_sample:
            own, total = tree_rss_kb(proc.pid)
            out.started = count_entries(runs_dir) - before
            out.samples.append((now, out.started, own / 1024, total / 1024))
            out.peak_own_mb = max(out.peak_own_mb, own / 1024)
            out.peak_tree_mb = max(out.peak_tree_mb, total / 1024)
            next_sample = now + sample
            if out.started >= runs or now > budget:
                stop = time.perf_counter()
                proc.send_signal(signal.SIGINT)
                try:
                    _, err = proc.communicate(timeout=120)
                    out.stop_seconds = time.perf_counter() - stop
                except subprocess.TimeoutExpired:
                    proc.kill()  # (it did not stop: the table says so)
                    _, err = proc.communicate()
                    err += "\nno exit within 120 s of SIGINT: killed"
                out.stderr_tail = err.strip()[-300:]
                break
        if out.first_run is not None:
            time.sleep(min(sample, max(next_sample - (time.perf_counter() - t0), 0.0)))
    else:
        out.stderr_tail = (proc.stderr.read() if proc.stderr else "").strip()[-300:]
    out.exit_code = proc.wait()
    out.elapsed = time.perf_counter() - t0
    out.started = count_entries(runs_dir) - before
    return out


def measure(pipelines: int, start: date, runs: int, sample: float, budget: float) -> list[Pass]:
    true_path = shutil.which("true") or "/bin/true"
    work = Path(tempfile.mkdtemp(prefix="backlog-apply-"))
    try:
        make_fleet(work, pipelines, start, true_path)
        first = run_pass(work, runs, sample, budget)
        again = run_pass(work, max(runs // 100, 100), sample, budget)
        return [first, again]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _fmt(value: float | None, unit: str = "s") -> str:
    return "-" if value is None else f"{value:.2f} {unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=2000)
    parser.add_argument("--years", type=float, default=10)
    parser.add_argument("--runs", type=int, default=100_000, help="interrupt after this many")
    parser.add_argument("--sample", type=float, default=0.5, help="seconds between samples")
    parser.add_argument("--budget", type=float, default=3600, help="interrupt after seconds")
    parser.add_argument("--no-small", action="store_true", help="skip the one-month fleet")
    parser.add_argument("--trace", action="store_true", help="print the samples")
    args = parser.parse_args()
    today = date.fromisoformat(NOW[:10])
    cases = [(f"{args.years:g} years", today - timedelta(days=round(365.25 * args.years)))]
    if not args.no_small:
        cases.append(("1 month", today - timedelta(days=30)))
    print(f"apply --wait --max-parallel 8, {args.pipelines} daily local `true` pipelines, ")
    print(f"interrupted (SIGINT) after {args.runs} runs; restart interrupted after a hundredth\n")
    print(
        "| backlog | pass | first run | runs started | runs/s | peak RSS apply | "
        "peak RSS tree | stop (SIGINT) | exit |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, start in cases:
        passes = measure(args.pipelines, start, args.runs, args.sample, args.budget)
        for name, p in zip(("first", "restart"), passes, strict=True):
            busy = p.elapsed - (p.first_run or 0.0)
            rate = p.started / busy if busy > 0 else 0.0
            said = p.stderr_tail.splitlines()[-1] if p.stderr_tail else ""
            print(
                f"| {label} | {name} | {_fmt(p.first_run)} | {p.started} | {rate:.0f} | "
                f"{p.peak_own_mb:.0f} MB | {p.peak_tree_mb:.0f} MB | "
                f"{_fmt(p.stop_seconds)} | {p.exit_code} `{said[:60]}` |"
            )
            if args.trace:
                for t, n, own, tree in p.samples[:: max(len(p.samples) // 20, 1)]:
                    print(f"    t={t:7.1f}s started={n:7d} rss={own:6.0f} MB tree={tree:6.0f} MB")


if __name__ == "__main__":
    main()
