"""The demo (``pipelines.d`` + ``examples``, copied): the bad date 2026-03-17 excluded, so
nothing fails; an SLA that a late date breaches, told once by the stdout channel; and,
with the exclusion removed, the check failing on that date, told once."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from flow_helpers import apply, notify_lines

ROOT = Path(__file__).resolve().parents[2]
BREACH = (
    "[sla_breach] month_end_report: SLA missed for 1 date - 2026-11-30: deadline "
    "2026-12-01 09:00 America/New_York (14:00 UTC) passed without a successful run"
)


def _copy_demo(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "pipelines.d", tmp_path / "pipelines.d")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")


def test_the_demo_excludes_the_bad_date_and_reports_the_late_report_once(
    tmp_path: Path, cli
) -> None:
    _copy_demo(tmp_path)
    first = notify_lines(apply(cli, "2026-11-27T06:00:00Z"))
    again = notify_lines(apply(cli, "2026-11-27T06:00:00Z"))
    later = notify_lines(apply(cli, "2026-12-01T16:00:00Z"))
    last = notify_lines(apply(cli, "2026-12-01T16:00:00Z"))
    told = first + again + later + last
    assert [line for line in told if line.startswith(("[quality_failure]", "[failure]"))] == []
    # every month's report runs: the excluded day is not needed
    assert "[success] month_end_report: 10 dates succeeded - 2026-01-31..2026-10-31 (10 dates)" in (
        first
    )
    assert [line for line in told if line.startswith("[sla_breach]")] == [BREACH]
    assert BREACH in later
    assert again == [] and last == []
    orders = tmp_path / "examples" / "data" / "orders"
    assert not (orders / "2026-03-17.csv").exists()
    assert (orders / "2026-03-16.csv").exists() and (orders / "2026-03-18.csv").exists()


def test_without_the_exclusion_the_bad_date_fails_its_check_once(tmp_path: Path, cli) -> None:
    _copy_demo(tmp_path)
    daily = tmp_path / "pipelines.d" / "orders_daily.yaml"
    text = daily.read_text(encoding="utf-8")
    daily.write_text(re.sub(r"\nexclude:\n(  .*\n)+", "\n", text), encoding="utf-8")
    assert "\nexclude:" not in daily.read_text(encoding="utf-8")
    first = notify_lines(apply(cli, "2026-11-27T06:00:00Z"))
    again = notify_lines(apply(cli, "2026-11-27T06:00:00Z"))
    quality = [line for line in first + again if line.startswith("[quality_failure]")]
    assert quality == [
        "[quality_failure] orders_daily: quality checks failed for 31 dates - "
        "2026-03-01..2026-03-31 (31 dates): rows_present failed: returned false (the run "
        "counts as failed and is retried by policy)"
    ]
    assert quality[0] in first and again == []
