"""Quality checks through ``apply``: pass, fail (retried, then a failure), cannot run (warn)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from flow_helpers import apply, notify_lines, query, write_pipeline

NOW = "2026-01-10T06:00:00"
# writes out/<pipeline>/<date>.csv with two rows
WRITE = [
    sys.executable,
    "-c",
    "import os, sys; os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True); "
    "open(sys.argv[1], 'w').write('n' + chr(10) + '1' + chr(10) + '2' + chr(10))",
    "out/{pipeline_id}/{date}.csv",
]
STDOUT = [{"channel": "stdout", "on": ["quality_failure", "failure"]}]


def check(name: str, sql: str, on_fail: str = "fail", reads: str = "out/") -> dict[str, object]:
    return {"name": name, "engine": "duckdb", "sql": sql, "on_fail": on_fail, "reads": [reads]}


def test_checks_pass_fail_and_cannot_run(tmp_path: Path, cli) -> None:
    config = tmp_path / "pipelines.d"
    start = {"start": "2026-01-08"}
    rows_sql = "select count(*) = 2 from read_csv('out/{pipeline_id}/{date}.csv')"
    write_pipeline(
        config,
        "good",
        WRITE,
        schedule=start,
        quality={"checks": [check("two_rows", rows_sql)]},
        notifications=STDOUT,
    )
    write_pipeline(
        config,
        "bad",
        WRITE,
        schedule=start,
        retry={"schedule": "every 1 minute", "max_retries": 1},
        quality={
            "checks": [
                check("two_rows", rows_sql),
                check("not_the_9th", "select '{date}' <> '2026-01-09'"),
            ]
        },
        notifications=STDOUT,
    )
    write_pipeline(config, "blind", WRITE, schedule=start,
                   quality={"checks": [check("upstream", "select count(*) > 0 from "
                                             "read_csv('missing/{date}.csv')", "warn",
                                             "missing/")]},
                   notifications=STDOUT)  # fmt: skip
    first = apply(cli, NOW)
    assert "9 run(s) started" in first.stdout and "8 succeeded, 1 failed" in first.stdout
    assert sorted(notify_lines(first)) == [
        "[quality_failure] bad: quality checks failed for 1 date - 2026-01-09: not_the_9th "
        "failed: returned false (the run counts as failed and is retried by policy)",
        "[quality_failure] blind: quality checks failed for 3 dates - 2026-01-08: upstream "
        'could not run: IO Error: No files found that match the pattern "missing/2026-01-08.csv" '
        "(a warning; the dates count as covered); 2026-01-09: upstream could not run: IO Error: "
        'No files found that match the pattern "missing/2026-01-09.csv" (a warning; the dates '
        "count as covered); 2026-01-10: upstream could not run: IO Error: No files found that "
        'match the pattern "missing/2026-01-10.csv" (a warning; the dates count as covered)',
    ]

    runs = query(
        tmp_path,
        """SELECT pipeline_id, run_date::VARCHAR, status, data_quality_passed, error_message
           FROM pipeline_run_log ORDER BY 1, 2""",
    )
    assert [r[:4] for r in runs] == [
        ("bad", "2026-01-08", "success", True),
        ("bad", "2026-01-09", "failed", False),
        ("bad", "2026-01-10", "success", True),
        ("blind", "2026-01-08", "success", False),
        ("blind", "2026-01-09", "success", False),
        ("blind", "2026-01-10", "success", False),
        ("good", "2026-01-08", "success", True),
        ("good", "2026-01-09", "success", True),
        ("good", "2026-01-10", "success", True),
    ]
    assert runs[1][4] == "quality check not_the_9th failed: returned false"
    log = query(
        tmp_path,
        """SELECT pipeline_id, check_name, check_result, could_run, error_details
           FROM data_quality_log WHERE run_date = '2026-01-09' ORDER BY 1, 2""",
    )
    assert [r[:4] for r in log] == [
        ("bad", "not_the_9th", False, True),
        ("bad", "two_rows", True, True),
        ("blind", "upstream", False, False),
        ("good", "two_rows", True, True),
    ]
    assert log[0][4] == "returned false"
    assert "No files found" in log[2][4]
    plan = json.loads(cli("plan", "--now", NOW, "--format", "json-v2").stdout)
    assert [(w["pipeline_id"], w["dates"]) for w in plan["waiting"]] == [("bad", ["2026-01-09"])]

    # the retry fails the same check: no new quality_failure, but now a failure
    second = apply(cli, "2026-01-10T06:05:00")
    assert notify_lines(second) == [
        "[failure] bad: 1 date failed and will not be retried - 2026-01-09 after 2 attempts: "
        "quality check not_the_9th failed: returned false"
    ]
    assert notify_lines(apply(cli, "2026-01-10T06:10:00")) == []
