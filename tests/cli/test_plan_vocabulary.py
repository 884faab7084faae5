"""One word for a run's number (``attempt N``) and instants to the second, in every
human-readable output: text and markdown plans, status, history, saved-plan errors."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

NOW = "2026-01-10T06:00:00"
# a pinned clock with a fraction, and runs that end a fraction of a second after it
LATER = "2026-01-10T06:01:00.250"
AFTER_RETRY = "2026-01-10T06:10:00.250"
MICROSECONDS = re.compile(r"\d\d:\d\d:\d\d\.\d")


def _failing(config: Path) -> None:
    config.mkdir(parents=True, exist_ok=True)
    command = json.dumps([sys.executable, "-c", "raise SystemExit(3)", "{date}"])
    (config / "flaky.yaml").write_text(
        f"id: flaky\nplatform: local\ntrigger:\n  command: {command}\n"
        "schedule: {type: daily, start: 2026-01-10}\n"
        "retry: {schedule: every 5 minutes, max_retries: 2}\n",
        encoding="utf-8",
    )


def test_one_word_for_attempts_and_seconds_for_instants(tmp_path: Path, cli) -> None:
    _failing(tmp_path / "pipelines.d")
    assert cli("apply", "--wait", "--now", NOW).returncode == 0
    outputs = []
    for args in (
        ("plan", "--now", LATER),
        ("plan", "--now", LATER, "--format", "markdown"),
        ("plan", "--now", AFTER_RETRY),
        ("status", "--now", LATER),
        ("status", "--now", LATER, "--format", "json"),
        ("history", "flaky"),
        ("history", "flaky", "--format", "json"),
    ):
        done = cli(*args)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
        assert not MICROSECONDS.search(done.stdout), (args, done.stdout)
    waiting, markdown, due = outputs[:3]
    # the waiting retry and the retry once due name the same run: attempt 2
    assert re.search(r"\[attempt 2 due 2026-01-10T06:05:\d\d\+00:00\]", waiting), waiting
    assert "Reconciler plan at 2026-01-10T06:01:00+00:00" in waiting
    assert "attempt 2 due 2026-01-10T06:05:" in markdown
    assert "_Planned at 2026-01-10T06:01:00+00:00._" in markdown
    assert "[attempt 2]" in due
    for text in outputs:
        assert not re.search(r"\bretry \d", text), text
        assert not re.search(r"\btry\b", text), text
    assert "attempt" in outputs[5].splitlines()[0]


def test_saved_plan_errors_print_seconds(tmp_path: Path, cli) -> None:
    _failing(tmp_path / "pipelines.d")
    assert cli("plan", "--now", LATER, "--out", "plan.json").returncode == 0
    done = cli("apply", "--plan", "plan.json", "--now", "2026-01-10T09:00:00.5")
    assert done.returncode == 1
    assert "made at 2026-01-10T06:01:00+00:00," in done.stderr, done.stderr
    assert not MICROSECONDS.search(done.stderr), done.stderr
