"""Report one month of orders, per currency.

    python examples/jobs/month_end_report.py --date 2026-03-31
    python examples/jobs/month_end_report.py --dates 2026-01-31,2026-02-28,2026-03-31

For each date D, reads every orders file of D's month that exists in ``--orders-dir``
and writes ``<out-dir>/<YYYY-MM>.csv`` atomically with one row per currency: month,
currency, orders, customers (distinct), amount, days (days of the month with an orders
file). With ``--require-complete`` a month with a missing orders file is an error (exit 1,
nothing written), so the reconciler retries instead of recording a partial month; days
given with ``--excluded`` (excluded from the orders pipeline) are not required.
``--dates`` takes the comma-separated list the ``{dates}`` template renders.
"""

from __future__ import annotations

import argparse
import calendar
from collections.abc import Sequence
from datetime import date
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

HEADER = ("month", "currency", "orders", "customers", "amount", "days")


def report(month_of: date, orders_dir: Path) -> tuple[list[tuple[object, ...]], int]:
    """The rows of the report of ``month_of``'s month, and how many days had a file."""
    month = f"{month_of:%Y-%m}"
    length = calendar.monthrange(month_of.year, month_of.month)[1]
    counts: dict[str, int] = {}
    customers: dict[str, set[str]] = {}
    amounts: dict[str, Decimal] = {}
    days = 0
    for day_of_month in range(1, length + 1):
        path = orders_dir / f"{month}-{day_of_month:02d}.csv"
        if not path.exists():
            continue
        days += 1
        for order in read_orders(path):
            currency = order["currency"]
            counts[currency] = counts.get(currency, 0) + 1
            customers.setdefault(currency, set()).add(order["customer_id"])
            amounts[currency] = amounts.get(currency, Decimal("0")) + Decimal(order["amount"])
    rows: list[tuple[object, ...]] = [
        (month, cur, counts[cur], len(customers[cur]), f"{amounts[cur]:.2f}", days)
        for cur in sorted(counts)
    ]
    return rows, days


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dates_arguments(parser)
    parser.add_argument("--orders-dir", type=Path, default=Path("examples/data/orders"))
    parser.add_argument("--out-dir", type=Path, default=Path("examples/data/monthly"))
    parser.add_argument(
        "--require-complete",
        action="store_true",
        help="fail unless every day of each month has an orders file (--excluded days aside)",
    )
    add_excluded_argument(parser)
    args = parser.parse_args(argv)

    months = sorted({date(d.year, d.month, 1) for d in selected_dates(args)})
    if args.require_complete:
        for first in months:
            length = calendar.monthrange(first.year, first.month)[1]
            days = [first.replace(day=n) for n in range(1, length + 1)]
            missing = [
                d
                for d in days
                if d not in args.excluded and not (args.orders_dir / f"{d}.csv").exists()
            ]
            if missing:
                raise JobError(
                    f"{first:%Y-%m}: {len(missing)} orders file(s) missing in {args.orders_dir}, "
                    f"first {missing[0]} (has the orders pipeline run for these days yet?)"
                )
    summary = []
    for first in months:
        rows, days = report(first, args.orders_dir)
        write_csv_atomic(args.out_dir / f"{first:%Y-%m}.csv", HEADER, rows)
        summary.append(f"{first:%Y-%m} ({days} days)")
    print(f"monthly: wrote {', '.join(summary)} to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
