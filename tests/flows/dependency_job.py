"""A local job for dependency tests: it reads the files of its upstream pipelines and
fails when one is missing, as a real job fails on missing input.

    dependency_job.py NAME DATES ROOT [UPSTREAM:DAYS ...]

For each date D (DATES is comma-separated) it reads ``ROOT/UPSTREAM/<day>.txt`` for the
DAYS + 1 days ending on D, and writes ``ROOT/NAME/D.txt``: its generation (how many
times D was produced) and a digest of what it read, so a refresh changes the output.
Each date's start and end are appended to ``$LEDGER`` as ``start|end NAME D <ns>``.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path


def main() -> int:
    name, dates, root = sys.argv[1], sys.argv[2].split(","), Path(sys.argv[3])
    reads = [(up, int(days)) for up, days in (arg.split(":") for arg in sys.argv[4:])]
    ledger = Path(os.environ["LEDGER"])
    pause = float(os.environ.get("JOB_SLEEP", "0"))
    with ledger.open("a") as log:
        for day in dates:
            log.write(f"start {name} {day} {time.time_ns()}\n")
    time.sleep(pause)
    for day in dates:
        digest = hashlib.sha256()
        for up, span in reads:
            last = date.fromisoformat(day)
            for back in range(span, -1, -1):
                path = root / up / f"{last - timedelta(days=back)}.txt"
                if not path.exists():
                    print(f"missing input {path}", file=sys.stderr)
                    return 1
                digest.update(path.read_bytes())
        out = root / name / f"{day}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        generation = int(out.read_text().split()[0]) + 1 if out.exists() else 1
        out.write_text(f"{generation} {digest.hexdigest()[:12]}\n")
    with ledger.open("a") as log:
        for day in dates:
            log.write(f"end {name} {day} {time.time_ns()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
