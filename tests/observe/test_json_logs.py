"""``--log-format json``: every stderr line of a demo pass is one JSON object with the
documented keys; stdout stays human; no planted secret reaches either."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reconciler.log_events import FIELDS
from reconciler.observe.logs import BASE_KEYS
from tests.conftest import Cli
from tests.observe.fleet import FAIL, write_fleet

HOOK_SECRET = "hooksecret-7Qz2Lx9Vb4Nc"
JOB_SECRET = "jobtoken-Kp3Wm8Rt6Yu1"
EVENTS = {"pass_started", "pass_ended", "config_changed", "lock_taken", "lock_released",
          "run_started", "run_ended", "notification_failed"}  # fmt: skip


class Refusing(BaseHTTPRequestHandler):
    """A webhook receiver that answers 500, echoing the path (and so the secret)."""

    def do_POST(self) -> None:
        body = f"cannot deliver to {self.path}".encode()
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/{HOOK_SECRET}"
    server.shutdown()
    server.server_close()


def test_every_stderr_line_is_a_json_event_and_no_secret_leaks(
    tmp_path: Path, cli: Cli, hook: str
) -> None:
    config = tmp_path / "pipelines.d"
    notify = (
        "notifications:\n  - channel: webhook\n    url_env: OBS_HOOK_URL\n"
        "    secret_env: OBS_TOKEN\n"
        "    on: [failure]\n  - channel: stdout\n    on: [failure]\n"
    )
    write_fleet(config, days=2, extra=notify)
    # the failing job prints both secrets; the webhook's error quotes its URL
    refunds = config / "refunds.yaml"
    leak = "import os, sys; print(os.environ['OBS_HOOK_URL'], os.environ['OBS_TOKEN']); sys.exit(3)"
    text = refunds.read_text(encoding="utf-8").replace(json.dumps(FAIL), json.dumps(leak))
    refunds.write_text(text, encoding="utf-8")
    env = {"OBS_HOOK_URL": hook, "OBS_TOKEN": JOB_SECRET}
    done = cli("apply", "--wait", "--log-format", "json", "--config-dir", str(config),
               "--state", str(tmp_path / "s.duckdb"), env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines
    records = [json.loads(line) for line in lines]  # (each line one object)
    assert all(isinstance(r, dict) for r in records)
    allowed = set(BASE_KEYS) | set(FIELDS) | {"error"}
    for record in records:
        assert set(BASE_KEYS) <= set(record) <= allowed, record
    seen = {r["event"] for r in records}
    assert seen >= EVENTS, EVENTS - seen
    ended = [r for r in records if r["event"] == "run_ended"]
    assert {r["status"] for r in ended} == {"succeeded", "failed"}
    for r in ended:
        assert r["pipeline"] in ("orders", "refunds") and r["batch_id"] and r["attempt"] == 1
        assert isinstance(r["dates"], list) and r["duration_seconds"] is not None
    failed_notes = [r for r in records if r["event"] == "notification_failed"]
    assert {r["channel"] for r in failed_notes} == {"webhook"}
    # human output stays on stdout, as text
    assert "Applied: 4 run(s) started" in done.stdout
    assert not done.stdout.lstrip().startswith("{")
    both = done.stdout + done.stderr
    assert "***" in both  # the secrets were there to leak, and were masked
    assert HOOK_SECRET not in both and JOB_SECRET not in both
    assert HOOK_SECRET[:10] not in both and JOB_SECRET[:10] not in both


def test_the_environment_variable_turns_json_on_for_any_command(tmp_path: Path, cli: Cli) -> None:
    done = cli("status", "--config-dir", str(tmp_path / "none"),
               env={"RECONCILER_LOG_FORMAT": "json"})  # fmt: skip
    assert done.returncode == 1
    [*_, last] = [json.loads(line) for line in done.stderr.splitlines()]
    assert last["level"] == "error" and last["message"].startswith("Error: ")
    text = cli("status", "--config-dir", str(tmp_path / "none"))
    assert text.stderr.startswith(str(tmp_path / "none")) or "Error:" in text.stderr
    assert "{" not in text.stderr
