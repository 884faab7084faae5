"""Time reading the config cache for 10,000 pipeline files: the hot path of a no-op pass.

Run: ``python benchmarks/config_cache_bench.py [--files 10000] [--runs 7]``. Writes the
files (benchmarks/validate_bench.py's generator), fills the cache with one
``load_config``, then prints the best of ``--runs`` for reading the cache file alone
(``ConfigCache(...)``), for a warm ``load_config`` (stat every file, answer from the
cache) and the cache file's size.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from validate_bench import generate


def best_of(runs: int, work: object) -> float:
    best = float("inf")
    for _ in range(runs):
        began = time.perf_counter()
        work()  # type: ignore[operator]
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cache-bench-") as tmp:
        config, root = Path(tmp) / "pipelines.d", Path(tmp) / "cache"
        config.mkdir()
        generate(config, args.files)
        old = time.time_ns() - 10**10  # files older than the cache: metadata is trusted
        for path in config.iterdir():
            os.utime(path, ns=(old, old))
        os.environ["RECONCILER_CACHE_DIR"] = str(root)
        from reconciler.config.cache import ConfigCache
        from reconciler.config.loading import load_config

        load_config(config)
        (cache_file,) = [p for p in root.iterdir() if p.name.startswith("config-")]
        read = best_of(args.runs, lambda: ConfigCache(config, root))
        assert len(ConfigCache(config, root).old) == args.files, "the cache was not read"
        warm = best_of(args.runs, lambda: load_config(config))
        print(f"cache file: {cache_file.name}, {cache_file.stat().st_size / 1e6:.1f} MB")
        print(f"read the cache ({args.files} entries): {read * 1000:.0f} ms")
        print(f"warm load_config ({args.files} files): {warm * 1000:.0f} ms")


if __name__ == "__main__":
    main()
