"""No message ever echoes a credential-looking value, whichever check rejects it.

Each case puts a credential where a check quotes the value it rejects; validate runs
as in a pull request (``GITHUB_ACTIONS=true``, so the ``::error`` annotations too) and
neither the problem lines nor the annotations may contain the secret.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from validate_support import HEAD_SCHEDULE, run_validate

TOKEN = "ghp_" + "Zq7" * 12  # a GitHub token
RANDOM = "q8Xv2LmN4pR7sT1wY5zA3bC6dE9f"  # no known prefix: random letters and digits
SHORT = "abc123"  # too short to look like a token, but in a credential-named query key

CASES = {
    "http URL with an api_key query": (
        "id: h\nplatform: http\ntrigger:\n  url: http://example.com/run?api_key=abc123\n"
        + HEAD_SCHEDULE,
        SHORT,
    ),
    "status_url with a token query": (
        "id: h\nplatform: http\ntrigger:\n  url: https://example.com/run\n"
        "  status_url: http://example.com/s?token=abc123\n" + HEAD_SCHEDULE,
        SHORT,
    ),
    "databricks host with a user": (
        f"id: d\nplatform: databricks\ntrigger:\n  host: http://{RANDOM}@example.com\n"
        "  job_id: 1\n" + HEAD_SCHEDULE,
        RANDOM,
    ),
    "timezone": (
        f"id: t\nplatform: local\ntrigger: {{command: [x]}}\nschedule:\n"
        f"  type: daily\n  start: 2026-01-01\n  timezone: {TOKEN}\n",
        TOKEN,
    ),
    "retry schedule": (
        f"id: r\nplatform: local\ntrigger: {{command: [x]}}\n{HEAD_SCHEDULE}"
        f"retry:\n  schedule: every {RANDOM}\n",
        RANDOM,
    ),
    "duration": (
        f"id: r\nplatform: local\ntrigger: {{command: [x], timeout: {RANDOM}}}\n{HEAD_SCHEDULE}",
        RANDOM,
    ),
    "id": (f"id: {RANDOM}\nplatform: local\ntrigger: {{command: [x]}}\n{HEAD_SCHEDULE}", RANDOM),
    "platform": (f"id: x\nplatform: {RANDOM}\ntrigger: {{command: [x]}}\n{HEAD_SCHEDULE}", RANDOM),
    "unknown key": (
        f"id: x\nplatform: local\ntrigger: {{command: [x]}}\n{HEAD_SCHEDULE}{RANDOM}: 1\n",
        RANDOM,
    ),
    "duplicate key": (
        f"id: x\nplatform: local\n{RANDOM}: 1\n{RANDOM}: 2\ntrigger: {{command: [x]}}\n"
        + HEAD_SCHEDULE,
        RANDOM,
    ),
    "a tagged value that cannot be read": (
        f"id: x\nplatform: local\ntrigger: {{command: [x]}}\n{HEAD_SCHEDULE}"
        f"parameters:\n  p: !!int {RANDOM}\n",
        RANDOM,
    ),
    "a whole file that is a credential line": (
        f"https://user:{TOKEN}@github.com\n",
        TOKEN,
    ),
    "a number that is a token": (
        f"id: x\nplatform: local\ntrigger: {{command: [x]}}\nschedule:\n  type: daily\n"
        f"  start: 2026-01-01\n  every: {RANDOM}\n",
        RANDOM,
    ),
}


@pytest.mark.parametrize("text, secret", CASES.values(), ids=list(CASES))
def test_no_message_echoes_a_credential(tmp_path: Path, text: str, secret: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    outcome = run_validate(str(path), env={"GITHUB_ACTIONS": "true"})
    assert outcome.exit_code == 1, outcome.stderr
    assert outcome.problems, outcome.stderr
    output = outcome.stdout + outcome.stderr
    assert secret not in output, output
    assert "::error " in outcome.stdout
