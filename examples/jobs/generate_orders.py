"""Generate deterministic synthetic orders, one CSV per day.

    python examples/jobs/generate_orders.py --start-date 2026-03-01 --end-date 2026-03-31

writes ``examples/data/orders/<date>.csv`` for every day of the range, with the columns
order_id, order_date, customer_id, amount, currency and 50 to 200 rows. The rows are
seeded by the date, so re-running a date rewrites exactly the same file: runs are
idempotent, which is what a backfill needs. Every file is written atomically (a temporary
file in the same directory, then ``os.replace``).

Deliberate quality failure: for 2026-03-17 (``BAD_DATE``) the job writes a file with the
header only, and still exits 0. The demo pipeline ``orders_daily`` has a duckdb quality
check requiring rows for every date of a run, so a run holding 2026-03-17 would fail its
check, be retried, and end as a gap; the demo excludes that date (``exclude``), so no run
holds it. Pass
``--repair-bad-date`` to write normal rows for that date too (then backfill it with a
``backfill.requests`` entry).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from _common import ORDER_COLUMNS, date_range, iso_date, run, write_csv_atomic

BAD_DATE = date(2026, 3, 17)
CURRENCIES = ("EUR", "USD", "GBP")
CURRENCY_WEIGHTS = (70, 20, 10)


def orders_for(day: date) -> list[tuple[str, str, str, str, str]]:
    """The orders of ``day``: the same list on every call."""
    rng = random.Random(f"orders:{day.isoformat()}")
    rows = []
    for i in range(1, rng.randint(50, 200) + 1):
        amount = max(1.0, rng.lognormvariate(3.5, 0.8))
        rows.append(
            (
                f"O{day:%Y%m%d}-{i:04d}",
                day.isoformat(),
                f"C{rng.randint(1, 5000):05d}",
                f"{amount:.2f}",
                rng.choices(CURRENCIES, CURRENCY_WEIGHTS)[0],
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start-date", type=iso_date, required=True, help="first day (YYYY-MM-DD)")
    parser.add_argument("--end-date", type=iso_date, required=True, help="last day, inclusive")
    parser.add_argument("--out-dir", type=Path, default=Path("examples/data/orders"))
    parser.add_argument(
        "--repair-bad-date",
        action="store_true",
        help=f"write normal rows for the demo's bad date {BAD_DATE} too",
    )
    args = parser.parse_args(argv)

    total = 0
    empty = []
    days = date_range(args.start_date, args.end_date)
    for day in days:
        rows = [] if day == BAD_DATE and not args.repair_bad_date else orders_for(day)
        write_csv_atomic(args.out_dir / f"{day.isoformat()}.csv", ORDER_COLUMNS, rows)
        total += len(rows)
        if not rows:
            empty.append(day.isoformat())
    note = f" (no rows for {', '.join(empty)})" if empty else ""
    print(
        f"orders: wrote {len(days)} file(s) {args.start_date}..{args.end_date}, "
        f"{total} rows to {args.out_dir}{note}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
