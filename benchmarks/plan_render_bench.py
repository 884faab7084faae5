"""Rendering a big plan in process: the JSON writer and the text renderer (plan_scaling.py's data).

Uses ``plan_scaling.py``'s generated fleets (N daily pipelines, 1% holes) and times, best
of ``--runs``: the planner, ``plan_to_json`` and ``render_text``. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from plan_scaling import NOW, make_dataset  # noqa: E402

from reconciler.core.planner import plan  # noqa: E402
from reconciler.render.plan_json import plan_to_json  # noqa: E402
from reconciler.render.plan_text import render_text  # noqa: E402


def best_of(runs: int, func: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(runs):
        gc.collect()
        began = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - began)
    return best, result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(
        "| pipelines x years | actions | planner (s) | plan_to_json (s) | JSON MB | JSON sha256 "
        "| render_text (s) |"
    )
    print("|---|---:|---:|---:|---:|---|---:|")
    for pipelines in args.pipelines:
        ds = make_dataset(pipelines, args.years, 7, 0.01, None)
        specs, observed = ds.specs, ds.observed()
        planning, result = best_of(args.runs, partial(plan, specs, observed, NOW))
        encoding, text = best_of(args.runs, partial(plan_to_json, result))
        rendering, _ = best_of(args.runs, partial(render_text, result))
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        print(
            f"| {pipelines:,} x {args.years} | {len(result.actions):,} | {planning:.3f} "
            f"| {encoding:.3f} | {len(text) / 1e6:.1f} | {digest} | {rendering:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
