"""Summarise the 7 days of orders ending at a date.

    python examples/jobs/weekly_summary.py --date 2026-03-20
    python examples/jobs/weekly_summary.py --dates 2026-03-16,2026-03-18,2026-03-20

For each date D, reads the orders files of D-6 .. D that exist in ``--orders-dir`` and
writes ``<out-dir>/<D>.csv`` atomically with one row per day found: day, orders, revenue
(the sum of amounts converted to EUR at the fixed demo rates below). Days without an
orders file are left out and counted in the one-line report; with ``--require-complete``
a missing file is an error instead (exit 1, nothing written), so a reconciler that runs
this before the orders exist retries it later rather than recording a partial summary;
days given with ``--excluded`` (excluded from the orders pipeline) are not required.
``--dates`` takes the comma-separated list the ``{dates}`` template renders for a
multi-date run.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from _common import (
    JobError,
    add_dates_arguments,
    add_excluded_argument,
    read_orders,
    run,
    selected_dates,
    write_csv_atomic,
)

# Fixed demo rates: revenue is reported in EUR.
EUR_RATES = {"EUR": Decimal("1"), "USD": Decimal("0.92"), "GBP": Decimal("1.17")}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dates_arguments(parser)
    parser.add_argument("--orders-dir", type=Path, default=Path("examples/data/orders"))
    parser.add_argument("--out-dir", type=Path, default=Path("examples/data/weekly"))
    parser.add_argument(
        "--require-complete",
        action="store_true",
        help="fail unless all 7 orders files of every window exist (--excluded days aside)",
    )
    add_excluded_argument(parser)
    args = parser.parse_args(argv)

    dates = selected_dates(args)
    if args.require_complete:
        wanted = {end - timedelta(days=back) for end in dates for back in range(7)}
        wanted -= set(args.excluded)
        missing = [d for d in sorted(wanted) if not (args.orders_dir / f"{d}.csv").exists()]
        if missing:
            raise JobError(
                f"{len(missing)} orders file(s) missing in {args.orders_dir}, first {missing[0]} "
                "(has the orders pipeline run for these days yet?)"
            )
    missing_days = 0
    for end in dates:
        rows = []
        for back in range(6, -1, -1):
            day = end - timedelta(days=back)
            path = args.orders_dir / f"{day.isoformat()}.csv"
            if not path.exists():
                missing_days += 1
                continue
            orders = read_orders(path)
            revenue = sum(
                (Decimal(o["amount"]) * EUR_RATES.get(o["currency"], Decimal("1")) for o in orders),
                Decimal("0"),
            )
            rows.append((day.isoformat(), len(orders), f"{revenue.quantize(Decimal('0.01'))}"))
        write_csv_atomic(
            args.out_dir / f"{end.isoformat()}.csv", ("day", "orders", "revenue"), rows
        )
    found = 7 * len(dates) - missing_days
    print(
        f"weekly: wrote {len(dates)} summary file(s) {dates[0]}..{dates[-1]} to {args.out_dir} "
        f"({found}/{7 * len(dates)} days of orders found)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
