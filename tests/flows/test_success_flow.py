"""``success`` and ``backfill_complete``: one digest per request when all its dates are done."""

from __future__ import annotations

from pathlib import Path

from flow_helpers import OK, apply, notifications, notify_lines, write_pipeline
from receivers import HookReceiver

NOW = "2026-01-10T06:00:00"


def test_success_and_one_digest_per_request(tmp_path: Path, cli) -> None:
    write_pipeline(
        tmp_path / "pipelines.d",
        "loads",
        OK,
        backfill={
            "requests": [
                {"id": "redo-jan", "from": "2026-01-02", "to": "2026-01-04", "reason": "bug 12"}
            ]
        },
        notifications=[
            {"channel": "webhook", "url_env": "HOOK_URL", "on": ["success", "backfill_complete"]},
            {"channel": "stdout", "on": ["success", "backfill_complete"]},
        ],
    )
    with HookReceiver("webhook") as hook:
        env = {"HOOK_URL": hook.url}
        first = apply(cli, NOW, env)
        assert sorted(notify_lines(first)) == sorted(
            [
                "[backfill_complete] loads: backfill redo-jan complete: 3 dates, 3 succeeded, "
                "0 failed - requested 2026-01-02..2026-01-04; reason: bug 12",
                "[success] loads: 10 dates succeeded - 2026-01-01..2026-01-10 (10 dates)",
                "[backfill_complete] loads: backfill redo-jan complete: 3 dates, 3 succeeded, "
                "0 failed -> webhook (HOOK_URL)",
                "[success] loads: 10 dates succeeded -> webhook (HOOK_URL)",
            ]
        )
        assert notify_lines(apply(cli, NOW, env)) == []

        done = cli("backfill", "loads", "--from", "2026-01-05", "--to", "2026-01-06",
                   "--reason", "late files", "--now", NOW)  # fmt: skip
        assert done.returncode == 0, done.stderr
        third = apply(cli, "2026-01-10T06:05:00", env)
        fourth = apply(cli, "2026-01-10T06:10:00", env)
    lines = notify_lines(third)
    assert "[success] loads: 2 dates succeeded - 2026-01-05..2026-01-06 (2 dates)" in lines
    digests = [line for line in lines if line.startswith("[backfill_complete]") and " - " in line]
    assert len(digests) == 1
    assert (
        "complete: 2 dates, 2 succeeded, 0 failed - requested 2026-01-05..2026-01-06"
        in (digests[0])
    )
    assert notify_lines(fourth) == []
    events = [p["event"] for p in hook.payloads]
    assert sorted(events) == ["backfill_complete", "backfill_complete", "success", "success"]
    digest = next(p for p in hook.payloads if p["event"] == "backfill_complete")
    details = digest["notifications"][0]["details"]
    assert details["request_id"] == "redo-jan" and details["succeeded"] == 3
    adhoc = [p for p in hook.payloads if p["event"] == "backfill_complete"][1]
    assert adhoc["notifications"][0]["details"]["request_id"].startswith("adhoc-")
    statuses = {row[4] for row in notifications(tmp_path)}
    assert statuses == {"sent"}
