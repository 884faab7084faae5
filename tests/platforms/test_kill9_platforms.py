"""Exactly once across crashes and faults, per cloud platform.

``apply --wait`` over 36 dates is killed with SIGKILL at random moments (at least 15
times) while the test server fails a fifth of all calls (429 and 503 with
``Retry-After``, empty 500s, HTML 502s, replies dropped after the run was made, replies
slower than the client's timeout); then applies run to the end. Every date must have
been created exactly once on the platform (by key; dbt by the marker in ``cause``),
every date must be covered in state, and no token may appear in any output or in the
state files.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time

import pytest
from platform_harness import (
    apply_env,
    command,
    created_per_date,
    created_per_key,
    query,
    run_cli,
    state_bytes,
    write_config,
)
from platform_support import TOKEN

from tests.servers.base import FAULTS

NOW = "2026-02-05T06:00:00"  # 2026-01-01..2026-02-05: 36 daily dates
DATES = 36
KILLS = 15
SERVERS = {
    "databricks": "databricks_server",
    "dbt": "dbt_server",
    "snowflake": "snowflake_server",
    "http": "hook_server",
}


@pytest.mark.slow
@pytest.mark.parametrize("platform", list(SERVERS))
def test_killed_applies_with_a_faulty_platform_create_every_date_exactly_once(
    request: pytest.FixtureRequest, platform: str, tmp_path
) -> None:
    rng = random.Random(f"kill9-{platform}")
    server = request.getfixturevalue(SERVERS[platform])
    server.run_seconds = 0.6
    server.retry_after = 1
    server.fail_rate = 0.2
    server.fault_kinds = list(FAULTS)
    write_config(
        tmp_path, platform, server, retry={"enabled": False}, backfill={"max_active_runs": 4}
    )
    outputs: list[str] = []
    kills = mid_work = rounds = 0
    while kills < KILLS:
        rounds += 1
        assert rounds < 3 * KILLS, (kills, rounds)
        proc = subprocess.Popen(
            command("apply", "--wait", "--now", NOW, "--max-parallel", "6"),
            cwd=tmp_path,
            env=apply_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if rounds % 3 == 0:  # start-up: config sync, lock, adoption, planning
            time.sleep(rng.uniform(0.2, 1.0))
        else:  # inside the pass: once it talks to the platform, a random moment later
            calls = sum(server.requests.values())
            deadline = time.monotonic() + 20
            while (
                sum(server.requests.values()) == calls
                and proc.poll() is None
                and time.monotonic() < deadline
            ):
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.8))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
            mid_work += len(server.created) < DATES or any(
                r.phase() == "running" for r in list(server.runs.values())
            )
        out, err = proc.communicate(timeout=60)
        outputs += [out, err]
        assert proc.returncode in (0, -signal.SIGKILL), err
        assert "Traceback" not in err, err
    assert mid_work >= KILLS - 2, (kills, mid_work)  # nearly all with runs to start or follow

    deadline = time.monotonic() + 90
    while True:  # applies to the end, the platform still failing a fifth of the calls
        done = run_cli(tmp_path, "apply", "--wait", "--now", NOW, "--max-parallel", "6")
        outputs += [done.stdout, done.stderr]
        assert done.returncode == 0, done.stderr
        plan = run_cli(tmp_path, "plan", "--now", NOW, "--format", "json")
        assert plan.returncode == 0, plan.stderr
        if not json.loads(plan.stdout)["actions"]:
            break
        assert time.monotonic() < deadline, plan.stdout

    per_date = created_per_date(server)
    assert len(per_date) == DATES
    assert set(per_date.values()) == {1}, {d: n for d, n in per_date.items() if n != 1}
    assert set(created_per_key(server).values()) == {1}
    assert query(tmp_path, "SELECT range_start::VARCHAR, range_end::VARCHAR FROM coverage") == [
        ("2026-01-01", "2026-02-05")
    ]
    assert query(
        tmp_path,
        "SELECT status, count(*), count(DISTINCT run_date) FROM pipeline_run_log GROUP BY 1",
    ) == [("success", DATES, DATES)]
    made = {e["run_id"] for e in server.created}
    recorded = {r[0] for r in query(tmp_path, "SELECT platform_run_id FROM pipeline_run_log")}
    assert recorded == made
    assert query(tmp_path, "SELECT count(*) FROM open_dates") == [(0,)]
    assert sum(server.faults_served.values()) > 20
    for text in outputs:
        assert TOKEN not in text
    assert TOKEN.encode() not in state_bytes(tmp_path)
