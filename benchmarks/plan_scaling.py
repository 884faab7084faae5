"""Plan scaling: plan time and peak memory by pipelines x years of daily history.

Data: N daily pipelines whose history starts ``years`` before ``--now`` and is covered
except for 1% scattered holes (seeded random, never the latest date, so every hole is a
``backfill`` date). The same holes feed every method:

  planner        ``reconciler.core.planner.plan(specs, observed, now)`` on in-memory plain
                 data (coverage as merged ranges); best-of-``--runs`` wall time, and the
                 tracemalloc peak of one more run.
  plan (CLI)     ``python -m reconciler plan --format json`` as a subprocess (stdout to
                 /dev/null) against a real DuckDB state file (schema made by
                 ``state.connection.transaction``, rows bulk-inserted with SQL) and a
                 generated config dir with one YAML file per pipeline; wall time and peak
                 RSS (``/usr/bin/time -v``, else ``getrusage(RUSAGE_CHILDREN)``).
  naive set      per pipeline, ``set(all due dates) - set(covered dates)`` in Python,
                 dates as ``datetime.date`` (time only).
  DuckDB anti    one DuckDB query: ``generate_series`` of due dates ANTI JOIN a table of
                 covered ``(pipeline_id, run_date)`` rows, fetched into Python (time only;
                 building the per-date table is reported separately, not in the time).

Targets (2-core machine): planner < 0.2 s for 10k x 10 years; ``reconciler plan``
end to end < 3 s and < 500 MB; planner time at 10 years <= 1.5x its time at 1 year.

Run:
  python benchmarks/plan_scaling.py --quick            # 1k pipelines x 1 and 10 years
  python benchmarks/plan_scaling.py                    # 1k and 10k x 1 and 10 years
  python benchmarks/plan_scaling.py --profile          # + cProfile of the planner
  python benchmarks/plan_scaling.py --pipelines 10000 --years 10 --skip-naive --phases

MB below means 10^6 bytes.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import gc
import hashlib
import io
import json
import os
import pstats
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconciler.core.coverage import Observed, PipelineObserved  # noqa: E402
from reconciler.core.intervals import DayRanges  # noqa: E402
from reconciler.core.pipeline_decisions import due_window  # noqa: E402
from reconciler.core.planner import plan  # noqa: E402
from reconciler.core.spec import PipelineSpec, Schedule, with_adhoc  # noqa: E402

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo")
VARIANTS = 4  # pipeline i: zone ZONES[i % 4], multi_date when i is odd
PLACEHOLDER = "zzplaceholder"
TIME_BIN = "/usr/bin/time"

PLANNER_TARGET_S = 0.2
E2E_TARGET_S = 3.0
E2E_TARGET_MB = 500.0
RATIO_TARGET = 1.5


# --- data ------------------------------------------------------------------------------


def pipeline_id(index: int, width: int) -> str:
    return f"p{index:0{width}d}"


def variant_of(index: int) -> tuple[str, bool]:
    """(timezone, multi_date) of pipeline ``index``."""
    return ZONES[index % len(ZONES)], index % 2 == 1


def history_start(years: int) -> date:
    return date(NOW.year - years, NOW.month, NOW.day)


def make_spec(pid: str, index: int, start: date) -> PipelineSpec:
    """The spec ``to_spec`` makes of ``yaml_text(pid, index, start)`` (checked in setup)."""
    zone, multi = variant_of(index)
    schedule = Schedule(type="daily", start=start, at=clock_time(2, 0), timezone=zone)
    return PipelineSpec(id=pid, schedule=schedule, multi_date=multi, max_dates=31)


def yaml_text(pid: str, index: int, start: date) -> str:
    zone, multi = variant_of(index)
    return (
        f"id: {pid}\n"
        "platform: local\n"
        "trigger:\n"
        '  command: [python, jobs/load.py, --date, "{date}"]\n'
        "schedule:\n"
        "  type: daily\n"
        f"  start: {start.isoformat()}\n"
        '  at: "02:00"\n'
        f"  timezone: {zone}\n"
        "batch:\n"
        f"  multi_date: {'true' if multi else 'false'}\n"
        "  max_dates: 31\n"
    )


@dataclass
class Dataset:
    """N pipelines x ``years`` of daily history with scattered holes, as ordinals."""

    pipelines: int
    years: int
    label: str  # how holes were chosen, e.g. "1%" or "4/pipeline"
    width: int
    ids: list[str]
    specs: tuple[PipelineSpec, ...]
    first: list[int]  # first due date (ordinal) per pipeline
    last: list[int]  # latest due date (ordinal) per pipeline
    covered: list[list[tuple[int, int]]]  # merged covered ranges (ordinals) per pipeline
    holes: int
    due_dates: int
    _observed: Observed | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"{self.pipelines}x{self.years}y"

    def observed(self) -> Observed:
        """The planner's plain input: coverage as merged ranges of day ordinals, the form
        the state store reads it in."""
        if self._observed is None:
            self._observed = Observed(
                {
                    pid: PipelineObserved(
                        covered=DayRanges([a for a, _ in ranges], [b for _, b in ranges])
                    )
                    for pid, ranges in zip(self.ids, self.covered, strict=True)
                }
            )
        return self._observed


def make_dataset(
    pipelines: int, years: int, seed: int, fraction: float, fixed: int | None
) -> Dataset:
    """Holes: ``fraction`` of each pipeline's due dates (or ``fixed`` per pipeline)."""
    rng = random.Random(f"{seed}:{pipelines}:{years}:{fraction}:{fixed}")
    width = max(5, len(str(pipelines - 1)))
    start = history_start(years)
    ids: list[str] = []
    specs: list[PipelineSpec] = []
    firsts: list[int] = []
    lasts: list[int] = []
    covered: list[list[tuple[int, int]]] = []
    windows: dict[int, tuple[int, int]] = {}
    holes_total = due_total = 0
    for index in range(pipelines):
        pid = pipeline_id(index, width)
        spec = make_spec(pid, index, start)
        variant = index % VARIANTS
        if variant not in windows:
            window = due_window(spec.schedule, NOW)
            assert window is not None
            windows[variant] = (window[0].toordinal(), window[1].toordinal())
        first, last = windows[variant]
        days = last - first + 1
        count = fixed if fixed is not None else max(1, round(days * fraction))
        holes = sorted(rng.sample(range(first, last), min(count, days - 1)))
        ranges: list[tuple[int, int]] = []
        cursor = first
        for hole in holes:
            if hole > cursor:
                ranges.append((cursor, hole - 1))
            cursor = hole + 1
        if cursor <= last:
            ranges.append((cursor, last))
        ids.append(pid)
        specs.append(spec)
        firsts.append(first)
        lasts.append(last)
        covered.append(ranges)
        holes_total += len(holes)
        due_total += days
    label = f"{fixed}/pipeline" if fixed is not None else f"{fraction:.0%}"
    return Dataset(
        pipelines,
        years,
        label,
        width,
        ids,
        tuple(specs),
        firsts,
        lasts,
        covered,
        holes_total,
        due_total,
    )


# --- measuring -------------------------------------------------------------------------


@dataclass
class Row:
    dataset: Dataset
    method: str
    seconds: float | None
    peak_mb: float | None
    note: str = ""
    verdict: str = ""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def best_of(runs: int, func: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(runs):
        result = None
        gc.collect()
        began = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - began)
    return best, result


def traced_peak(func: Callable[[], Any]) -> float:
    """tracemalloc peak (MB) of one call, counting only what the call allocates."""
    gc.collect()
    tracemalloc.start()
    try:
        result = func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak / 1e6


def backfill_dates(result: Any) -> int:
    return sum(len(a.dates) for a in result.actions if a.kind == "backfill")


def measure_planner(ds: Dataset, runs: int, label: str) -> Row:
    observed, specs = ds.observed(), ds.specs
    seconds, result = best_of(runs, lambda: plan(specs, observed, NOW))
    planned, actions = backfill_dates(result), len(result.actions)
    del result
    if planned != ds.holes:
        raise SystemExit(f"{ds.name}: planner planned {planned} backfill dates, {ds.holes} holes")
    peak = traced_peak(lambda: plan(specs, observed, NOW))
    return Row(ds, label, seconds, peak, f"{actions:,} actions; tracemalloc peak")


def measure_listing(ds: Dataset, runs: int) -> Row:
    """The planner, then every action built: what a consumer of the whole plan pays."""
    observed, specs = ds.observed(), ds.specs
    seconds, listed = best_of(runs, lambda: tuple(plan(specs, observed, NOW).actions))
    note = f"{len(listed):,} actions built (plain backfills are listed on demand)"
    del listed
    peak = traced_peak(lambda: tuple(plan(specs, observed, NOW).actions))
    return Row(ds, "planner + every action listed", seconds, peak, note)


def naive_set_difference(ds: Dataset) -> int:
    """Per pipeline: all due dates as a set minus the covered dates as a set."""
    fo = date.fromordinal
    missing = 0
    for first, last, ranges in zip(ds.first, ds.last, ds.covered, strict=True):
        due = {fo(o) for o in range(first, last + 1)}
        covered = {fo(o) for a, b in ranges for o in range(a, b + 1)}
        missing += len(sorted(due - covered))
    return missing


def measure_naive(ds: Dataset) -> Row:
    seconds, missing = best_of(1, lambda: naive_set_difference(ds))
    if missing != ds.holes:
        raise SystemExit(f"{ds.name}: naive set difference found {missing}, {ds.holes} holes")
    return Row(ds, "naive Python set difference", seconds, None, "time only")


def write_csvs(ds: Dataset, directory: Path) -> tuple[Path, Path]:
    """``coverage.csv`` (pipeline_id, range_start, range_end) and ``due.csv``."""
    fo = date.fromordinal
    coverage, due = directory / "coverage.csv", directory / "due.csv"
    with coverage.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["pipeline_id", "range_start", "range_end"])
        for pid, ranges in zip(ds.ids, ds.covered, strict=True):
            out.writerows((pid, fo(a).isoformat(), fo(b).isoformat()) for a, b in ranges)
    with due.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["pipeline_id", "first_date", "last_date"])
        out.writerows(
            (pid, fo(a).isoformat(), fo(b).isoformat())
            for pid, a, b in zip(ds.ids, ds.first, ds.last, strict=True)
        )
    return coverage, due


COVERAGE_COLUMNS = "{'pipeline_id': 'VARCHAR', 'range_start': 'DATE', 'range_end': 'DATE'}"
DUE_COLUMNS = "{'pipeline_id': 'VARCHAR', 'first_date': 'DATE', 'last_date': 'DATE'}"

ANTI_JOIN = """
    SELECT d.pipeline_id, d.run_date
    FROM (SELECT pipeline_id,
                 unnest(generate_series(first_date, last_date, INTERVAL 1 DAY))::DATE AS run_date
          FROM due) d
    ANTI JOIN covered c ON c.pipeline_id = d.pipeline_id AND c.run_date = d.run_date
    ORDER BY d.pipeline_id, d.run_date
"""


def measure_duckdb(ds: Dataset, coverage_csv: Path, due_csv: Path, runs: int) -> Row:
    import duckdb

    conn = duckdb.connect()
    try:
        began = time.perf_counter()
        conn.execute(
            f"""CREATE TABLE covered AS
                SELECT pipeline_id,
                       unnest(generate_series(range_start, range_end, INTERVAL 1 DAY))::DATE
                         AS run_date
                FROM read_csv(?, header = true, columns = {COVERAGE_COLUMNS})""",
            [str(coverage_csv)],
        )
        conn.execute(
            f"""CREATE TABLE due AS
                SELECT * FROM read_csv(?, header = true, columns = {DUE_COLUMNS})""",
            [str(due_csv)],
        )
        setup = time.perf_counter() - began
        rows = conn.execute("SELECT count(*) FROM covered").fetchall()[0][0]
        seconds, result = best_of(runs, lambda: conn.execute(ANTI_JOIN).fetchall())
        if len(result) != ds.holes:
            raise SystemExit(f"{ds.name}: DuckDB anti-join found {len(result)}, {ds.holes} holes")
    finally:
        conn.close()
    return Row(
        ds,
        "DuckDB anti-join (query + fetch)",
        seconds,
        None,
        f"time only; building {rows:,} covered rows took {setup:.2f} s more",
    )


# --- end to end ------------------------------------------------------------------------


def config_templates(directory: Path, start: date) -> dict[int, str]:
    """``config_json`` per variant, as ``apply`` would store it, with a placeholder id."""
    from reconciler.config.loading import load_config

    directory.mkdir()
    for variant in range(VARIANTS):
        (directory / f"{variant}.yaml").write_text(
            yaml_text(f"{PLACEHOLDER}{variant}", variant, start)
        )
    out: dict[int, str] = {}
    for loaded in load_config(directory):
        variant = int(loaded.id.removeprefix(PLACEHOLDER))
        spec = loaded.spec
        if spec != make_spec(loaded.id, variant, start):
            raise SystemExit(f"in-memory spec differs from the YAML's:\n{spec}")
        text = loaded.config_json
        out[variant] = text.replace(f"{PLACEHOLDER}{variant}", PLACEHOLDER)
    return out


def build_e2e(ds: Dataset, directory: Path, coverage_csv: Path) -> tuple[Path, Path]:
    """A config dir of ``ds.pipelines`` YAML files and a state file holding their coverage."""
    import duckdb

    from reconciler.state.store import open_store

    start = history_start(ds.years)
    config = directory / "pipelines.d"
    config.mkdir()
    for index, pid in enumerate(ds.ids):
        (config / f"{pid}.yaml").write_text(yaml_text(pid, index, start))
    templates = config_templates(directory / "templates", start)
    state = directory / "state.duckdb"
    with open_store(str(state)).write():
        pass  # creates the file and migrates it to the current schema
    conn = duckdb.connect(str(state))
    try:
        conn.execute("CREATE TEMP TABLE templates (variant INTEGER, config_json TEXT)")
        conn.executemany("INSERT INTO templates VALUES (?, ?)", sorted(templates.items()))
        stamp = NOW.replace(tzinfo=None)
        conn.execute(
            f"""INSERT INTO pipelines (pipeline_id, pipeline_name, platform, schedule_type,
                    frequency, date_offset, multi_date_allowed, retry_enabled, retry_schedule,
                    max_retry_attempts, auto_backfill, data_quality_check,
                    sla_breach_notification, created_at, updated_at, config_json)
                SELECT pid, pid, 'local', 'daily', 1, 0, i % 2 = 1, true, 'every 5 minutes',
                       2, true, false, false, ?, ?, replace(t.config_json, '{PLACEHOLDER}', pid)
                FROM (SELECT i, 'p' || lpad(CAST(i AS VARCHAR), {ds.width}, '0') AS pid
                      FROM range({ds.pipelines}) r(i)) p
                JOIN templates t ON t.variant = p.i % {VARIANTS}""",
            [stamp, stamp],
        )
        conn.execute(
            f"""INSERT INTO coverage
                SELECT * FROM read_csv(?, header = true, columns = {COVERAGE_COLUMNS})""",
            [str(coverage_csv)],
        )
        conn.execute("CHECKPOINT")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM pipelines), (SELECT count(*) FROM coverage)"
        ).fetchall()[0]
    finally:
        conn.close()
    expected = (ds.pipelines, sum(len(r) for r in ds.covered))
    if tuple(counts) != expected:
        raise SystemExit(f"{ds.name}: state holds {counts}, expected {expected}")
    return config, state


def plan_command(config: Path, state: Path) -> list[str]:
    return [
        sys.executable, "-m", "reconciler", "plan", "--config-dir", str(config),
        "--state", str(state), "--now", NOW.isoformat(), "--format", "json",
    ]  # fmt: skip


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env.update(NO_COLOR="1", GITHUB_ACTIONS="false", PYTHONPATH=str(ROOT))
    return env


def run_cli(config: Path, state: Path, cache: Path | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, how RSS was measured) of one ``reconciler plan``;
    ``cache``: the config cache dir (None: the environment's)."""
    command = plan_command(config, state)
    timed = os.path.exists(TIME_BIN)
    if timed:
        command = [TIME_BIN, "-v", *command]
    began = time.perf_counter()
    result = subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**child_env(), **({"RECONCILER_CACHE_DIR": str(cache)} if cache else {})},
        cwd=ROOT, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    if result.returncode != 0:
        raise SystemExit(f"reconciler plan failed ({result.returncode}):\n{result.stderr[-3000:]}")
    if timed:
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
        assert match, result.stderr[-2000:]
        return seconds, int(match.group(1)) * 1024 / 1e6, "time -v"
    # max over every child so far: right when this child is the largest one yet
    kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, kb * 1024 / 1e6, "getrusage"


def verify_cli(ds: Dataset, config: Path, state: Path) -> None:
    """One extra run that keeps stdout: the JSON plan must backfill exactly the holes."""
    result = subprocess.run(
        plan_command(config, state), capture_output=True, text=True, env=child_env(),
        cwd=ROOT, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"reconciler plan failed:\n{result.stderr[-3000:]}")
    document = json.loads(result.stdout)
    planned = sum(len(a["dates"]) for a in document["actions"] if a["kind"] == "backfill")
    if planned != ds.holes or document["config_changes"]:
        raise SystemExit(
            f"{ds.name}: CLI plan backfills {planned} dates (holes {ds.holes}), "
            f"{len(document['config_changes'])} config changes"
        )
    log(f"  verified: CLI plan backfills the {planned} holes, no config changes")


def measure_e2e(ds: Dataset, config: Path, state: Path, runs: int) -> list[Row]:
    """A first plan (empty config cache: every file parsed and validated), then the
    best of ``runs`` later ones (unchanged files come from the cache)."""
    with tempfile.TemporaryDirectory(prefix="config-cache-") as cache:
        cold = run_cli(config, state, Path(cache))
        best: tuple[float, float, str] | None = None
        for _ in range(runs):
            seconds, peak, how = run_cli(config, state, Path(cache))
            if best is None or seconds < best[0]:
                best = (seconds, peak, how)
    assert best is not None
    return [
        Row(
            ds,
            "`reconciler plan --format json`, first run (cold config cache)",
            cold[0],
            cold[1],
            f"peak RSS ({cold[2]}); every file parsed and validated",
        ),
        Row(
            ds,
            "`reconciler plan --format json` (subprocess)",
            best[0],
            best[1],
            f"peak RSS ({best[2]}); best of {runs}, config cache warm",
        ),
    ]


def phases(config: Path, state: Path) -> list[tuple[str, float]]:
    """Where ``make_plan`` + JSON rendering spend their time, in process, one run."""

    from reconciler.config.loading import load_config
    from reconciler.render.plan_json import plan_to_json

    out: list[tuple[str, float]] = []
    gc.disable()  # as the CLI runs: no cyclic collector while the big plan is built

    @contextmanager
    def phase(name: str) -> Iterator[None]:
        began = time.perf_counter()
        yield
        out.append((name, time.perf_counter() - began))

    with phase("load_config (from the config cache when warm)"):
        pipelines = load_config(config)
    with phase("specs"):
        specs = tuple(p.spec for p in pipelines)
    ids = [p.id for p in pipelines]
    from reconciler.state.store import open_store

    with phase("state: observe and ad-hoc requests"), open_store(str(state)).read() as session:
        observed, extra = session.plan_inputs(ids)
    specs = tuple(with_adhoc(specs, extra))
    with phase("flat config (desired)"):
        desired = {p.id: p.flat for p in pipelines}
    with phase("plan (incl. a config diff of every pipeline; the CLI skips equal texts)"):
        result = plan(specs, observed, NOW, desired)
    with phase("plan_to_json"):
        text = plan_to_json(result)
    out.append((f"(JSON output: {len(text) / 1e6:.1f} MB)", 0.0))
    gc.enable()
    return out


# --- reporting -------------------------------------------------------------------------


def fmt_seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def fmt_mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def judge(rows: list[Row]) -> list[str]:
    """Fill each row's verdict; return the summary lines of the targets."""
    lines: list[str] = []
    for row in rows:
        ds = row.dataset
        planner_target = (ds.pipelines, ds.years) == (10_000, 10) and ds.label.endswith("%")
        if row.method.startswith("planner alone") and planner_target and row.seconds is not None:
            ok = row.seconds < PLANNER_TARGET_S
            row.verdict = "ok" if ok else f"MISS (< {PLANNER_TARGET_S} s)"
        if row.method.startswith("`reconciler plan") and row.seconds is not None:
            misses = []
            if row.seconds >= E2E_TARGET_S:
                misses.append(f"< {E2E_TARGET_S:g} s")
            if row.peak_mb is not None and row.peak_mb >= E2E_TARGET_MB:
                misses.append(f"< {E2E_TARGET_MB:g} MB")
            row.verdict = "ok" if not misses else "MISS (" + ", ".join(misses) + ")"
    planner = {
        (r.dataset.pipelines, r.dataset.years, r.dataset.label): r.seconds
        for r in rows
        if r.method.startswith("planner alone") and r.seconds
    }
    for (pipelines, years, label), seconds in sorted(planner.items()):
        base = planner.get((pipelines, 1, label))
        if years == 1 or base is None:
            continue
        ratio = seconds / base
        verdict = "ok" if ratio <= RATIO_TARGET else f"MISS (<= {RATIO_TARGET}x)"
        lines.append(
            f"- planner {pipelines} pipelines, holes {label}: {years} y / 1 y = "
            f"{seconds:.3f} / {base:.3f} s = {ratio:.2f}x  {verdict}"
        )
    return lines


def print_table(rows: list[Row]) -> None:
    header = "| pipelines | years | due dates | holes | method | time (s) | peak (MB) | note |"
    print(header + " target |")
    print("|---:|---:|---:|---:|---|---:|---:|---|---|")
    for r in rows:
        ds = r.dataset
        print(
            f"| {ds.pipelines:,} | {ds.years} | {ds.due_dates:,} | {ds.holes:,} ({ds.label}) "
            f"| {r.method} | {fmt_seconds(r.seconds)} | {fmt_mb(r.peak_mb)} | {r.note} "
            f"| {r.verdict} |"
        )


def profile_planner(ds: Dataset, top: int) -> str:
    observed, specs = ds.observed(), ds.specs
    profiler = cProfile.Profile()
    profiler.enable()
    plan(specs, observed, NOW)
    profiler.disable()
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top + 1)
    return buffer.getvalue().strip()


def source_digest() -> str:
    digest = hashlib.sha1()
    for name in ("planner", "calendar", "intervals", "coverage"):
        digest.update((ROOT / "reconciler" / "core" / f"{name}.py").read_bytes())
    return digest.hexdigest()[:12]


def ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pipelines",
        type=ints,
        default=[1_000, 10_000],
        help="comma-separated pipeline counts (default 1000,10000)",
    )
    parser.add_argument(
        "--years",
        type=ints,
        default=[1, 10],
        help="comma-separated years of history (default 1,10)",
    )
    parser.add_argument("--quick", action="store_true", help="1000 pipelines only")
    parser.add_argument("--runs", type=int, default=3, help="best of N for planner, DuckDB")
    parser.add_argument("--e2e-runs", type=int, default=2, help="best of N CLI runs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--hole-fraction", type=float, default=0.01)
    parser.add_argument(
        "--fixed-holes",
        type=int,
        default=4,
        help="also time the planner with this many holes per pipeline at "
        "every history length (isolates the cost of history); 0: skip",
    )
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument(
        "--phases", action="store_true", help="also break the CLI's work into phases, in process"
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="check the CLI's JSON plan backfills exactly the holes",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the planner on the largest size; top functions",
    )
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument(
        "--workdir", type=Path, default=None, help="keep generated files here instead of a temp dir"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.pipelines = [1_000]

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="plan-scaling-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    phase_tables: list[tuple[Dataset, list[tuple[str, float]]]] = []
    largest: Dataset | None = None
    try:
        for pipelines in args.pipelines:
            for years in args.years:
                log(f"{pipelines} pipelines x {years} years: generating")
                ds = make_dataset(pipelines, years, args.seed, args.hole_fraction, None)
                log(
                    f"  {ds.due_dates:,} due dates, {ds.holes:,} holes, "
                    f"{sum(map(len, ds.covered)):,} covered ranges"
                )
                rows.append(measure_planner(ds, args.runs, "planner alone (`core.planner.plan`)"))
                rows.append(measure_listing(ds, args.runs))
                log(f"  planner: {rows[-1].seconds:.3f} s, {rows[-1].peak_mb:.1f} MB")
                if args.fixed_holes:
                    fixed = make_dataset(pipelines, years, args.seed, 0.0, args.fixed_holes)
                    rows.append(measure_planner(fixed, args.runs, "planner alone, fixed holes"))
                    log(f"  planner ({fixed.label}): {rows[-1].seconds:.3f} s")
                if not args.skip_naive:
                    rows.append(measure_naive(ds))
                    log(f"  naive: {rows[-1].seconds:.3f} s")
                directory = workdir / ds.name
                if directory.exists():
                    shutil.rmtree(directory)
                directory.mkdir()
                if not (args.skip_duckdb and args.skip_e2e):
                    coverage_csv, due_csv = write_csvs(ds, directory)
                if not args.skip_duckdb:
                    rows.append(measure_duckdb(ds, coverage_csv, due_csv, args.runs))
                    log(f"  duckdb anti-join: {rows[-1].seconds:.3f} s")
                if not args.skip_e2e:
                    began = time.perf_counter()
                    config, state = build_e2e(ds, directory, coverage_csv)
                    log(f"  built config dir + state in {time.perf_counter() - began:.1f} s")
                    if args.verify:
                        verify_cli(ds, config, state)
                    rows.extend(measure_e2e(ds, config, state, args.e2e_runs))
                    log(f"  CLI: {rows[-1].seconds:.3f} s, {rows[-1].peak_mb:.1f} MB")
                    if args.phases:
                        phase_tables.append((ds, phases(config, state)))
                if args.workdir is None:
                    shutil.rmtree(directory)
                if largest is None or (ds.pipelines, ds.years) > (largest.pipelines, largest.years):
                    if largest is not None:
                        largest._observed = None  # free memory
                    largest = ds
                else:
                    ds._observed = None
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    summary = judge(rows)
    print(
        f"## Plan scaling (now {NOW.isoformat()}, seed {args.seed}, "
        f"core sources {source_digest()}, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]})\n"
    )
    print_table(rows)
    print(
        "\nTargets: planner < 0.2 s at 10k x 10 y; CLI < 3 s and < 500 MB; "
        "planner 10 y <= 1.5x 1 y.\n"
    )
    for line in summary:
        print(line)
    for ds, table in phase_tables:
        print(f"\n### `reconciler plan` phases in process, {ds.pipelines:,} x {ds.years} y\n")
        print("| phase | seconds |\n|---|---:|")
        for name, seconds in table:
            print(f"| {name} | {seconds:.3f} |" if seconds else f"| {name} | |")
    if args.profile and largest is not None:
        print(
            f"\n### cProfile of the planner alone, {largest.pipelines:,} x {largest.years} y "
            f"(top {args.top} by cumulative time)\n"
        )
        print("```")
        print(profile_planner(largest, args.top))
        print("```")


if __name__ == "__main__":
    main()
