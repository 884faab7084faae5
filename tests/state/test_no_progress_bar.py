"""DuckDB draws a progress bar on stdout for any query over two seconds, even into a
pipe; every connection the reconciler opens turns it off, so that nothing but the
command's output reaches stdout (a `plan --format json` of a big state stays JSON).

Checked in a process of its own, as the command line runs: under pytest's capture
DuckDB leaves the bar off by itself, and the check would prove nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from reconciler.quality.duckdb_engine import sandbox
from reconciler.state.connection import reading_file, transaction

SETTING = "SELECT current_setting('enable_progress_bar')"
state = sys.argv[1]
with transaction(state) as conn:
    print("write", conn.execute(SETTING).fetchone()[0])
with reading_file(state) as (conn, _version):
    print("read", conn.execute(SETTING).fetchone()[0])
print("quality", sandbox([state]).execute(SETTING).fetchone()[0])
"""


def test_state_and_quality_connections_draw_no_progress_bar(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "state.duckdb")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n") == ["write False", "read False", "quality False", ""]
