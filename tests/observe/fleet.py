"""A small demo fleet of local pipelines for the observability tests: one that succeeds
(slowly enough to be seen in flight) and one that fails without retries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

SLEEP = "import time; time.sleep(0.4)"
FAIL = "import sys; sys.exit(3)"


def write_fleet(config: Path, days: int = 6, extra: str = "") -> None:
    """``orders`` (succeeds) and ``refunds`` (fails), daily over the last ``days`` days."""
    config.mkdir(parents=True, exist_ok=True)
    start = (datetime.now(UTC) - timedelta(days=days - 1)).date().isoformat()
    for pid, code in (("orders", SLEEP), ("refunds", FAIL)):
        (config / f"{pid}.yaml").write_text(
            f"id: {pid}\nplatform: local\ntrigger:\n  command: [python, -c, {json.dumps(code)}]\n"
            f"schedule:\n  type: daily\n  start: {start}\n"
            "retry:\n  max_retries: 0\n" + extra,
            encoding="utf-8",
        )
