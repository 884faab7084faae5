"""``kill -9`` of apply while it sends: every notification arrives at least once.

Each message's result is committed as soon as the receiver answers, so the only one a
crash can leave unrecorded is the one in flight; the next apply sends it again, with
the same ``X-Reconciler-Delivery`` and notification ids.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from flow_helpers import FAIL, apply, notifications, write_pipeline
from receivers import HookReceiver, Received

NOW = "2026-01-10T06:00:00"
LATER = "2026-01-10T06:05:00"  # the next scheduled pass
CHANNELS = 20  # one message each: the pass's claim holds them all
HANG_ON = 6  # the receiver takes the 6th request, then never answers


class HangingReceiver(HookReceiver):
    """Answers the first requests; takes request ``hang_on`` and hangs until released."""

    def __init__(self, hang_on: int) -> None:
        super().__init__("webhook")
        self.hang_on = hang_on
        self.hanging = threading.Event()
        self.release = threading.Event()

    def _answer(self, got: Received) -> tuple[int, str, dict[str, str]]:
        answer = super()._answer(got)
        if len(self.received) == self.hang_on and not self.release.is_set():
            self.hanging.set()
            self.release.wait(60)
        return answer


def _ids(payload: Any) -> list[str]:
    return [n["notification_id"] for n in payload["notifications"]]


def test_kill9_while_sending_loses_nothing_and_repeats_only_the_send_in_flight(
    tmp_path: Path, cli, cli_env: dict[str, str]
) -> None:
    names = [f"HOOK_{i:02d}" for i in range(CHANNELS)]
    write_pipeline(
        tmp_path / "pipelines.d",
        "broken",
        FAIL,
        schedule={"start": "2026-01-10"},
        retry={"enabled": False},
        notifications=[
            {"channel": "webhook", "url_env": name, "on": ["failure"]} for name in names
        ],
    )
    receiver = HangingReceiver(HANG_ON).start()
    env = {name: receiver.url for name in names}
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "apply", "--wait", "--now", NOW],
            cwd=tmp_path,
            env={**cli_env, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            assert receiver.hanging.wait(90), "apply never reached the receiver"
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(30) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
            receiver.release.set()
        before = Counter(r[4] for r in notifications(tmp_path))
        # results were committed one by one: the sends answered are sent already
        assert before == {"sent": HANG_ON - 1, "pending": CHANNELS - HANG_ON + 1}
        second = apply(cli, LATER, env)
    finally:
        receiver.stop()
    assert "NOT SENT" not in second.stdout
    rows = notifications(tmp_path)
    assert len(rows) == CHANNELS
    assert {(r[4], r[5]) for r in rows} == {("sent", 1)}  # no attempt lost to the crash
    got = receiver.received
    per_id = Counter(i for r in got for i in _ids(r.json()))
    assert len(per_id) == CHANNELS and min(per_id.values()) == 1  # all delivered
    repeated = [i for i, n in per_id.items() if n > 1]
    assert len(repeated) == 1 and per_id[repeated[0]] == 2  # only the send in flight
    twice = [r for r in got if repeated[0] in _ids(r.json())]
    assert twice[0].headers["x-reconciler-delivery"] == twice[1].headers["x-reconciler-delivery"]
    assert twice[0].json()["delivery_id"] == twice[1].json()["delivery_id"]
    assert twice[0] is got[HANG_ON - 1]  # the one the crash interrupted
