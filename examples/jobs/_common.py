"""Helpers shared by the demo jobs: strict date arguments, atomic CSV writes, clean errors.

Standard library only, so a job starts in a few milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A guard against a typo such as --end-date 2206-01-01 writing 70 000 files.
MAX_DATES = 3660
ORDER_COLUMNS = ("order_id", "order_date", "customer_id", "amount", "currency")


class JobError(Exception):
    """A problem with the job's input: reported on stderr as one line, exit status 1."""


def iso_date(text: str) -> date:
    """``argparse`` type for a ``YYYY-MM-DD`` date."""
    text = text.strip()
    if not _ISO_DATE.match(text):
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid date ({exc})") from None


def iso_dates(text: str) -> list[date]:
    """``argparse`` type for comma-separated dates, as the ``{dates}`` template renders them."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("expected one or more dates as YYYY-MM-DD[,YYYY-MM-DD...]")
    if len(parts) > MAX_DATES:
        raise argparse.ArgumentTypeError(f"at most {MAX_DATES} dates per run, got {len(parts)}")
    return sorted({iso_date(p) for p in parts})


def add_dates_arguments(parser: argparse.ArgumentParser) -> None:
    """``--date D`` or ``--dates D1,D2,...`` (exactly one of them)."""
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--date", type=iso_date, help="the date to process (YYYY-MM-DD)")
    group.add_argument(
        "--dates",
        type=iso_dates,
        help="comma-separated dates for a multi-date run (the {dates} template)",
    )


def add_excluded_argument(parser: argparse.ArgumentParser) -> None:
    """``--excluded D1,D2``: days the orders pipeline excludes (its ``exclude`` entries).
    They will never have a file, by design, so ``--require-complete`` does not wait for
    them; any other missing day still fails the run."""
    parser.add_argument(
        "--excluded",
        type=iso_dates,
        default=[],
        help="days excluded from the orders pipeline: not required by --require-complete",
    )


def selected_dates(args: argparse.Namespace) -> list[date]:
    return [args.date] if args.date is not None else list(args.dates)


def date_range(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, inclusive."""
    if end < start:
        raise JobError(f"--end-date {end} is before --start-date {start}")
    days = (end - start).days + 1
    if days > MAX_DATES:
        raise JobError(f"at most {MAX_DATES} days per run, got {days} ({start} to {end})")
    return [start + timedelta(days=i) for i in range(days)]


def write_csv_atomic(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a CSV so readers see the old file or the whole new one, never a partial one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp creates 0600; use the usual mode
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_orders(path: Path) -> list[dict[str, str]]:
    """The rows of one orders file; a header-only file gives no rows."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ORDER_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise JobError(f"{path}: not an orders file (missing columns {', '.join(missing)})")
        return list(reader)


def run(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Call ``main(argv)``, turning input and file problems into one stderr line."""
    prog = Path(sys.argv[0]).name
    try:
        return main(argv)
    except (JobError, OSError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
