"""Take a (synthetic, deterministic) inventory snapshot for one date.

    python examples/jobs/inventory_snapshot.py --date 2026-03-20
    python examples/jobs/inventory_snapshot.py --date 2026-03-20 --out /tmp/snap.csv

Writes ``<out-dir>/<date>.csv`` (or ``--out``) atomically with the columns snapshot_date,
warehouse, sku, on_hand, reserved. The warehouse is ``--warehouse``, else the
``RECONCILER_PARAM_WAREHOUSE`` environment variable that the reconciler's local platform
sets from the pipeline's ``parameters.warehouse``, else ``main``.
"""

from __future__ import annotations

import argparse
import os
import random
from collections.abc import Sequence
from pathlib import Path

from _common import JobError, iso_date, run, write_csv_atomic

SKUS = tuple(f"SKU-{n:03d}" for n in range(1, 13))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=iso_date, required=True, help="snapshot date (YYYY-MM-DD)")
    parser.add_argument("--out-dir", type=Path, default=Path("examples/data/inventory"))
    parser.add_argument("--out", type=Path, help="exact output file (overrides --out-dir)")
    parser.add_argument(
        "--warehouse",
        default=os.environ.get("RECONCILER_PARAM_WAREHOUSE") or "main",
        help="warehouse name (default: $RECONCILER_PARAM_WAREHOUSE or main)",
    )
    args = parser.parse_args(argv)
    if not args.warehouse.strip():
        raise JobError("--warehouse must not be empty")

    rng = random.Random(f"inventory:{args.warehouse}:{args.date.isoformat()}")
    rows = []
    for sku in SKUS:
        on_hand = rng.randint(0, 500)
        rows.append((args.date.isoformat(), args.warehouse, sku, on_hand, rng.randint(0, on_hand)))
    out = args.out or args.out_dir / f"{args.date.isoformat()}.csv"
    header = ("snapshot_date", "warehouse", "sku", "on_hand", "reserved")
    write_csv_atomic(out, header, rows)
    print(f"inventory: wrote {len(rows)} SKUs of {args.warehouse} for {args.date} to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
