"""What local runs leave on disk: where (``--runs-dir``), who may read it, and a damaged result.

Driven as a user would: ``reconciler apply`` subprocesses in a temporary directory.
"""

from __future__ import annotations

import json
import stat
import sys
import time
from pathlib import Path

import pytest
from apply_helpers import APPEND, ledger_command, ledger_dates, query, write_pipeline

from reconciler.platforms.local import LocalPlatform
from reconciler.platforms.runs_dir import credential_free, runs_dir_for

NOW = "2026-01-01T06:00:00"  # one date due for a daily pipeline from 2026-01-01
STATE = Path(".reconciler/state.duckdb")
RUNS = Path(".reconciler/state-runs")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _result_file(runs: Path, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(runs.glob("*/result.json"))
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no run finished under {runs}")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ('{"returncode": 0, "ended_at": "2026-01-0', "not JSON"),
        ('{"returncode": 0}', "no ISO-8601 ended_at"),
        ("[1, 2]", "a JSON list, not an object"),
        ('{"ended_at": "2026-01-01T06:00:01+00:00"}', "no integer returncode"),
    ],
)
def test_a_damaged_result_file_is_the_runs_failure_with_the_reason(
    tmp_path: Path, cli, damage: str, reason: str
) -> None:
    slow = ledger_command("import time", "time.sleep(1)")
    write_pipeline(tmp_path / "pipelines.d", "orders", slow)
    env = {"LEDGER": str(tmp_path / "ledger.txt")}
    first = cli("apply", "--now", NOW, env=env)  # returns with the run in flight
    assert first.returncode == 0, first.stderr
    assert "1 still running" in first.stdout, first.stdout
    result = _result_file(tmp_path / RUNS)
    result.write_text(damage, encoding="utf-8")
    done = cli("apply", "--wait", "--now", NOW, env=env, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "internal error" not in done.stdout + done.stderr
    assert "1 failed" in done.stdout, done.stdout
    rows = query(tmp_path / STATE, "SELECT status, error_message FROM pipeline_run_log")
    assert len(rows) == 1 and rows[0][0] == "failed", rows
    assert f"is damaged ({reason}" in rows[0][1], rows
    history = cli("history", "orders")
    assert "damaged" in history.stdout, history.stdout


def test_the_state_and_run_files_are_private_to_their_user(tmp_path: Path, cli) -> None:
    code = "import sys; print('secret output'); sys.stderr.write('secret error')"
    write_pipeline(tmp_path / "pipelines.d", "orders", [sys.executable, "-c", code])
    done = cli("apply", "--wait", "--now", NOW)
    assert done.returncode == 0, done.stderr
    assert _mode(tmp_path / ".reconciler") == 0o700
    assert _mode(tmp_path / STATE) == 0o600
    assert _mode(tmp_path / RUNS) == 0o700
    (run_dir,) = (tmp_path / RUNS).iterdir()
    assert _mode(run_dir) == 0o700
    names = {p.name: _mode(p) for p in run_dir.iterdir()}
    assert {"stdout.log", "stderr.log", "result.json", "supervisor.pid"} <= set(names)
    assert set(names.values()) == {0o600}, names


def test_an_existing_world_readable_state_file_is_narrowed(tmp_path: Path, cli) -> None:
    write_pipeline(tmp_path / "pipelines.d", "orders", [sys.executable, "-c", "pass"])
    assert cli("apply", "--wait", "--now", NOW).returncode == 0
    (tmp_path / STATE).chmod(0o644)  # as older versions left it
    assert cli("apply", "--now", NOW).returncode == 0
    assert _mode(tmp_path / STATE) == 0o600


def test_runs_dir_option_and_environment_choose_where_runs_live(tmp_path: Path, cli) -> None:
    ledger = tmp_path / "ledger.txt"
    write_pipeline(tmp_path / "pipelines.d", "orders", ledger_command())
    env = {"LEDGER": str(ledger)}
    done = cli("apply", "--wait", "--now", NOW, "--runs-dir", "my-runs", env=env)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "my-runs").glob("*/result.json"))) == 1
    assert not (tmp_path / RUNS).exists()
    env["RECONCILER_RUNS_DIR"] = str(tmp_path / "env-runs")
    done = cli("apply", "--wait", "--now", "2026-01-02T06:00:00", env=env)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "env-runs").glob("*/result.json"))) == 1
    assert ledger_dates(ledger) == {"2026-01-01": 1, "2026-01-02": 1}
    # the state says where each run lives, so a later pass follows it there
    owners = query(tmp_path / STATE, "SELECT runs_dir FROM local_runs ORDER BY runs_dir")
    assert owners == [(str(tmp_path / "env-runs"),), (str(tmp_path / "my-runs"),)]


def test_a_url_states_runs_dir_is_named_by_a_hash_without_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECONCILER_RUNS_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    url = "postgresql://app:s3cretpw@db.example:5432/test?options=-csearch_path%3Dx&password=p2"
    other = "postgresql://ops:other@db.example:5432/test?password=p3&options=-csearch_path%3Dx"
    where = runs_dir_for(url)
    assert where.parent == tmp_path / "xdg" / "reconciler" / "runs"
    assert "s3cretpw" not in str(where) and "app" not in str(where) and "p2" not in str(where)
    assert runs_dir_for(other) == where  # the same database and schema, other credentials
    assert runs_dir_for(url.replace("x&", "y&")) != where  # another schema
    assert "s3cretpw" not in credential_free(url) and "p2" not in credential_free(url)
    assert runs_dir_for(url, tmp_path / "chosen") == tmp_path / "chosen"
    assert runs_dir_for("states/prod.duckdb") == Path("states/prod-runs").absolute()


def test_a_damaged_result_read_directly_by_the_platform(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "b1"
    run_dir.mkdir(parents=True)
    (run_dir / "result.json").write_bytes(b"\xff\xfe garbage")
    result = LocalPlatform(tmp_path / "runs").poll("b1", "b1")
    assert result.state == "failed" and "damaged (not UTF-8 text)" in (result.error or "")
    (run_dir / "result.json").write_text(json.dumps({"returncode": 3, "ended_at": NOW}))
    result = LocalPlatform(tmp_path / "runs").poll("b1", "b1")
    assert result.state == "failed" and result.error == "exit code 3"
    assert result.ended_at is not None and result.ended_at.tzinfo is not None


def test_a_run_whose_runs_directory_is_gone_is_lost_never_started_twice(
    tmp_path: Path, cli
) -> None:
    # the job writes its date first, then keeps running: a second start shows in the ledger
    code = f"{APPEND}; import time; time.sleep(6)"
    write_pipeline(tmp_path / "pipelines.d", "orders", [sys.executable, "-c", code, "{dates}"])
    ledger = tmp_path / "ledger.txt"
    env = {"LEDGER": str(ledger)}
    first = cli("apply", "--now", NOW, env=env)
    assert first.returncode == 0, first.stderr
    assert "1 still running" in first.stdout, first.stdout
    _started(ledger)
    # same host, runs directory gone (a container restarted on a wiped tmpfs)
    (tmp_path / RUNS).rename(tmp_path / "runs.old")
    done = cli("apply", "--wait", "--now", NOW, env=env, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ledger_dates(ledger) == {"2026-01-01": 1}, ledger.read_text()
    rows = query(tmp_path / STATE, "SELECT status, error_message FROM pipeline_run_log")
    assert rows[0][0] == "failed" and "is gone" in rows[0][1], rows


def _started(ledger: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not ledger.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
