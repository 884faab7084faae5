"""Every number and date is bounded at validation, so nothing valid can crash a pass.

A property test writes pipeline files with values at and beyond each bound (and
``--now`` at and beyond the date bounds): a file either fails validation with a
problem line, or ``plan`` and ``apply`` (which syncs the config into the state and
starts runs) both succeed on it, beside a plain pipeline that must be planned too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reconciler.cli import main
from reconciler.config import bounds
from reconciler.schemas import committed_schemas

PLAIN = """\
id: plain
platform: local
trigger: {command: ["true"]}
schedule: {type: daily, start: 2026-01-01, end: 2026-01-10}
"""
# (bounded: with --now in 2999 an open-ended daily plain pipeline is 356,000 real runs,
# which is minutes of work, not a crash)


def around(low: int, high: int) -> st.SearchStrategy[int]:
    """Values at and just inside both bounds, and (rarely) beyond them: most
    files then validate, and go on to plan and apply."""
    inside = [low, low + 1, high - 1, high] * 20
    return st.sampled_from([*inside, low - 1, high + 1, low - 10**20, 10**29])


DATES = st.sampled_from(
    [
        *[bounds.EARLIEST_DATE, date(2026, 1, 1), bounds.LATEST_DATE] * 20,
        date(1, 1, 1),
        date(1899, 12, 31),
        date(3000, 1, 1),
        date(9999, 12, 31),
    ]
)
NOWS = st.sampled_from(
    [
        *["1900-01-01T00:00:00", "2026-03-01T06:00:00", "2999-12-31T23:59:59"] * 10,
        "1899-12-31T23:59:59",
        "3000-01-01T00:00:00",
        "9999-12-31T23:59:59",
    ]
)


@st.composite
def extreme_file(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(st.sampled_from(["daily", "weekly", "monthly"]))
    start = draw(DATES)
    end = draw(st.one_of(st.none(), DATES))
    schedule: dict[str, object] = {
        "type": kind,
        "start": start.isoformat(),
        "every": draw(around(1, bounds.MAX_EVERY)),
        "offset": draw(around(0, bounds.MAX_OFFSET_DAYS)),
        "at": "23:59",
        "timezone": draw(st.sampled_from(["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])),
    }
    if end is not None:
        schedule["end"] = end.isoformat()
    if kind == "weekly":
        schedule["days"] = ["mon", "sun"]
    if kind == "monthly":
        schedule["days"] = [1, -1, 31]
    if bounds.EARLIEST_DATE <= start <= bounds.LATEST_DATE:
        # 400,000 daily dates plan in 2 s but take a minute to apply (checked by hand):
        # three years at most keeps examples quick; the bounds are still reached
        latest = min(date(start.year + 3, 1, 1), bounds.LATEST_DATE)
        if end is None or end > latest:
            schedule["end"] = latest.isoformat()
    request_from, request_to = sorted([draw(DATES), draw(DATES)])
    doc = {
        "id": "extreme",
        "platform": "local",
        "trigger": {
            "command": ["true"],
            "timeout": draw(st.sampled_from([1, 2592000, 2592000, 2592001])),
        },
        "schedule": schedule,
        "batch": {"multi_date": True, "max_dates": draw(around(1, bounds.MAX_BATCH_DATES))},
        "retry": {
            "max_retries": draw(around(0, bounds.MAX_RETRIES)),
            "schedule": draw(
                st.sampled_from(
                    ["every 1 second", "every 168 hours"] * 3
                    + ["every 169 hours", "every 9999999 hours"]
                )
            ),
        },
        "backfill": {
            "priority": draw(around(-bounds.MAX_PRIORITY, bounds.MAX_PRIORITY)),
            "max_active_runs": draw(around(1, bounds.MAX_ACTIVE_RUNS)),
            "requests": [
                {
                    "id": "r1",
                    "from": request_from.isoformat(),
                    "to": min(request_to, date(min(request_from.year + 3, 9999), 1, 1)).isoformat(),
                    "priority": draw(around(-bounds.MAX_PRIORITY, bounds.MAX_PRIORITY)),
                }
            ],
        },
    }
    # JSON is YAML: every value written exactly
    return json.dumps(doc), draw(NOWS)


def invoke(*args: str) -> tuple[int, str]:
    """``reconciler ARGS``: validate in process, plan and apply as real subprocesses
    (apply leaves local runs and their supervisor behind, which must not share the
    test's own output)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RECONCILER_"))}
    env["RECONCILER_CACHE_DIR"] = "off"
    if args[0] == "validate":
        unset = {k: None for k in os.environ if k.startswith(("GITHUB_", "RECONCILER_"))}
        result = CliRunner().invoke(main, list(args), env={**unset, "RECONCILER_CACHE_DIR": "off"})
        code, output = result.exit_code, result.stdout + result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), output
    else:
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        code, output = done.returncode, done.stdout + done.stderr
    assert "internal error" not in output and "Traceback" not in output, output
    return code, output


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=extreme_file())
def test_what_validates_plans_and_applies(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, str]
) -> None:
    text, now = case
    root = tmp_path_factory.mktemp("bounds")
    config = root / "pipelines.d"
    config.mkdir()
    (config / "extreme.yaml").write_text(text)
    (config / "plain.yaml").write_text(PLAIN)
    common = ["--config-dir", str(config), "--state", str(root / "state.duckdb")]
    valid, output = invoke("validate", "--config-dir", str(config))
    event("valid" if valid == 0 else "invalid")
    if valid != 0:
        assert "extreme.yaml:" in output and "plain.yaml:" not in output
        return
    code, output = invoke("plan", *common, "--now", now, "--format", "json")
    if now[:4] in ("1899", "3000", "9999"):
        assert code == 1 and "--now: expected an instant from 1900-01-01" in output
        return
    assert code == 0, output
    assert '"plain"' in output
    code, output = invoke("apply", *common, "--now", now)
    assert code == 0, output
    code, output = invoke("apply", *common, "--now", now)  # and the pass after it
    assert code == 0, output


def test_the_schema_states_the_bounds() -> None:
    schema = json.loads(committed_schemas()["pipeline.schema.json"])
    text = json.dumps(schema)
    for value in (
        bounds.MAX_EVERY,
        bounds.MAX_OFFSET_DAYS,
        bounds.MAX_RETRIES,
        bounds.MAX_PRIORITY,
        bounds.MAX_ACTIVE_RUNS,
        bounds.MAX_BATCH_DATES,
        bounds.MAX_DURATION_SECONDS,
    ):
        assert f'"maximum": {value}' in text, value
    assert f'"formatMinimum": "{bounds.EARLIEST_DATE}"' in text
    assert f'"formatMaximum": "{bounds.LATEST_DATE}"' in text
