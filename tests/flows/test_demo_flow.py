"""The demo (``pipelines.d`` + ``examples``, copied): a check failing on 2026-03-17, an
SLA that a late date breaches, and the stdout channel telling each once."""

from __future__ import annotations

import shutil
from pathlib import Path

from flow_helpers import apply, notify_lines

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_reports_the_bad_date_and_the_late_report_once(tmp_path: Path, cli) -> None:
    shutil.copytree(ROOT / "pipelines.d", tmp_path / "pipelines.d")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    first = notify_lines(apply(cli, "2026-11-27T06:00:00Z"))
    again = notify_lines(apply(cli, "2026-11-27T06:00:00Z"))
    later = notify_lines(apply(cli, "2026-12-01T16:00:00Z"))
    last = notify_lines(apply(cli, "2026-12-01T16:00:00Z"))
    told = first + again + later + last
    quality = [line for line in told if line.startswith("[quality_failure]")]
    assert quality == [
        "[quality_failure] orders_daily: quality checks failed for 31 dates - "
        "2026-03-01..2026-03-31 (31 dates): rows_present failed: returned false (the run "
        "counts as failed and is retried by policy)"
    ]
    breaches = [line for line in told if line.startswith("[sla_breach]")]
    assert breaches == [
        "[sla_breach] month_end_report: SLA missed for 1 date - 2026-11-30: deadline "
        "2026-12-01 09:00 America/New_York (14:00 UTC) passed without a successful run"
    ]
    assert quality[0] in first and breaches[0] in later
    assert again == [] and last == []
