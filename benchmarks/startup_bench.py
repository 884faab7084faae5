"""Start-up cost of the CLI: ``reconciler --help`` time, and what importing the CLI pulls in.

Run: ``python benchmarks/startup_bench.py [--runs 10]``. Prints figures and asserts nothing
(target: ``--help`` under 0.3 s; duckdb, pydantic, httpx and yaml not imported).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HEAVY = ("duckdb", "pydantic", "pydantic_core", "httpx", "yaml", "jsonschema")
TARGET_SECONDS = 0.3


def time_help(runs: int) -> tuple[float, float]:
    """Best and median wall time of ``python -m reconciler --help``, in seconds."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "reconciler", "--help"],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        times.append(time.perf_counter() - began)
    times.sort()
    return times[0], times[len(times) // 2]


def time_bare_python(runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)
        best = min(best, time.perf_counter() - began)
    return best


def imported_modules() -> dict[str, int]:
    """Top-level packages ``import reconciler.cli`` loads, with their cumulative import µs."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import reconciler.cli"],
        check=True,
        capture_output=True,
        text=True,
    )
    cumulative: dict[str, int] = {}
    for line in result.stderr.splitlines():
        # "import time:      self [us] |  cumulative | imported package"
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, _, rest = line.partition(":")
        parts = [p.strip() for p in rest.split("|")]
        top = parts[2].strip().split(".")[0]
        cumulative[top] = max(cumulative.get(top, 0), int(parts[1]))
    return cumulative


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    best, median = time_help(args.runs)
    bare = time_bare_python(args.runs)
    verdict = "ok" if best < TARGET_SECONDS else f"MISS (target < {TARGET_SECONDS} s)"
    print(f"reconciler --help   best {best:.3f} s  median {median:.3f} s  {verdict}")
    print(f"python -c pass      best {bare:.3f} s  (interpreter start-up alone)")
    modules = imported_modules()
    heavy = {name: modules[name] for name in HEAVY if name in modules}
    print(f"import reconciler.cli loads {len(modules)} top-level modules")
    for name in HEAVY:
        state = f"IMPORTED ({heavy[name] / 1000:.1f} ms)" if name in heavy else "not imported"
        print(f"  {name:<14} {state}")
    top = sorted(modules.items(), key=lambda kv: -kv[1])[:5]
    print("slowest imports: " + ", ".join(f"{n} {us / 1000:.1f} ms" for n, us in top))


if __name__ == "__main__":
    main()
