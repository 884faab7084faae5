"""Every class of bad pipeline file: exit 1, and each problem at its line, column and field.

Each case is a whole file and the complete list of problems validate must print for it,
as (line, col, field, part of the message).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from validate_support import VALID, Outcome

Expect = tuple[int, int, str, str]

HEAD = """\
id: orders
platform: local
trigger:
  command: [python, job.py, "{date}"]
"""  # lines 1-4
SCHEDULE = """\
schedule:
  type: daily
  start: 2026-01-01
"""  # lines 5-7 after HEAD


def with_schedule(*lines: str) -> str:
    """HEAD, then ``schedule:`` (line 5) and the given lines from line 6 on."""
    return HEAD + "schedule:\n" + "".join(f"  {line}\n" for line in lines)


CASES: dict[str, tuple[str, list[Expect]]] = {
    # --- YAML itself -------------------------------------------------------------------
    "yaml syntax error": (
        "id: orders\nplatform: [local\ntrigger: x\n",
        [(3, 8, "", "invalid YAML: did not find expected ',' or ']'")],
    ),
    "tab in indentation": (
        "id: orders\n\tplatform: local\n",
        [(2, 1, "", "invalid YAML: a tab character at line 2, column 1; YAML does not allow tabs")],
    ),
    "tab after spaces in a nested mapping": (
        HEAD + "schedule:\n  type: daily\n  \tstart: 2026-01-01\n",
        [(7, 3, "", "a tab character at line 7, column 3")],
    ),
    "character that cannot start a token is named": (
        "id: `orders`\n",
        [(1, 5, "", "found character '`' that cannot start any token")],
    ),
    "date PyYAML rejects": (
        HEAD + "schedule:\n  type: daily\n  start: 2026-02-30\n",
        [(7, 10, "", "'2026-02-30' is not a valid date (day is out of range for month)")],
    ),
    "two documents": (
        VALID + "---\nid: other\n",
        [(8, 1, "", "invalid YAML: but found another document")],
    ),
    "unknown tag": (
        "id: !python/object:os.system orders\n",
        [(1, 5, "", "could not determine a constructor")],
    ),
    "list as key": (
        "? [a, b]\n: 1\n",
        [(1, 3, "", "a key must be a plain value")],
    ),
    "recursive alias": (
        "id: orders\nplatform: local\ntrigger: &t\n  command: [*t]\n",
        [(3, 10, "", "an alias refers to a value that contains it")],
    ),
    "duplicate key": (
        VALID + "id: again\n",
        [(8, 1, "id", "duplicate key 'id' (first defined at line 1)")],
    ),
    "duplicate nested key": (
        VALID + "  type: weekly\n",
        [(8, 3, "schedule.type", "duplicate key 'type' (first defined at line 6)")],
    ),
    # --- not a mapping -----------------------------------------------------------------
    "a list": (
        "- id: orders\n- id: other\n",
        [(1, 1, "", "expected a mapping of pipeline keys (id, platform, ...), found a list")],
    ),
    "a scalar": ("orders\n", [(1, 1, "", "found 'orders'")]),
    "empty file": ("", [(1, 1, "", "found an empty file")]),
    "only comments": ("# nothing yet\n", [(1, 1, "", "found an empty file")]),
    # --- keys --------------------------------------------------------------------------
    "unknown top-level key": (
        VALID + "retyr:\n  max_retries: 1\n",
        [(8, 1, "retyr", "unknown key 'retyr'; did you mean 'retry'?")],
    ),
    "unknown nested key": (
        VALID + "  timezon: UTC\n",
        [(8, 3, "schedule.timezon", "did you mean 'timezone'? (expected one of: at, days,")],
    ),
    "unknown trigger key of the platform": (
        HEAD + "  commands: x\n" + SCHEDULE,
        [(5, 3, "trigger.commands", "unknown key 'commands'; did you mean 'command'?")],
    ),
    "unknown notification key": (
        VALID + "notifications:\n  - channel: slack\n    url_env: HOOK\n    urlenv: X\n",
        [(11, 5, "notifications[0].urlenv", "did you mean 'url_env'?")],
    ),
    "missing id": (
        "platform: local\ntrigger:\n  command: [x]\nschedule:\n  type: daily\n"
        "  start: 2026-01-01\n",
        [(1, 1, "id", "required key 'id' is missing")],
    ),
    "missing platform (the rest is still checked)": (
        "id: Orders\ntrigger:\n  command: [x]\nschedule:\n  type: daily\n  start: 2026-01-01\n",
        [
            (1, 1, "platform", "required key 'platform' is missing"),
            (1, 5, "id", "expected an id of lowercase letters"),
        ],
    ),
    "missing trigger": (
        "id: orders\nplatform: local\nschedule:\n  type: daily\n  start: 2026-01-01\n",
        [(1, 1, "trigger", "required key 'trigger' is missing")],
    ),
    "missing schedule.type and schedule.start": (
        HEAD + "schedule:\n  every: 2\n",
        [
            (6, 3, "schedule.type", "required key 'type' is missing"),
            (6, 3, "schedule.start", "required key 'start' is missing"),
        ],
    ),
    "missing trigger.command": (
        "id: orders\nplatform: local\ntrigger: {}\n" + SCHEDULE,
        [(3, 10, "trigger.command", "required key 'command' is missing")],
    ),
    # --- types -------------------------------------------------------------------------
    "wrong types": (
        "id: 5\nplatform: local\ntrigger:\n  command: python job.py\nschedule:\n"
        "  type: daily\n  every: '2'\n  start: 2026-01-01\nbatch:\n  multi_date: yes\n"
        "  max_dates: 1.5\n",
        [
            (1, 5, "id", "expected text, found 5"),
            (4, 12, "trigger.command", "expected a list, found 'python job.py'"),
            (7, 10, "schedule.every", "expected a whole number, found '2'"),
            (10, 15, "batch.multi_date", "expected true or false, found 'yes'"),
            (11, 14, "batch.max_dates", "expected a whole number, found 1.5"),
        ],
    ),
    "section that is not a mapping": (
        HEAD + "schedule: daily\n",
        [(5, 11, "schedule", "expected a mapping, found 'daily'")],
    ),
    "start with a time of day": (
        HEAD + "schedule:\n  type: daily\n  start: 2026-01-01 10:00:00\n",
        [(7, 10, "schedule.start", "expected a date without a time of day")],
    ),
    "start not a date": (
        HEAD + "schedule:\n  type: daily\n  start: soon\n",
        [(7, 10, "schedule.start", "expected a date as YYYY-MM-DD, found 'soon'")],
    ),
    # --- id and platform ---------------------------------------------------------------
    "bad id": (
        "id: Orders-Daily\n" + VALID.split("\n", 1)[1],
        [(1, 5, "id", "expected an id of lowercase letters, digits and _ that starts with")],
    ),
    "id too long": (
        f"id: a{'b' * 64}\n" + VALID.split("\n", 1)[1],
        [(1, 5, "id", "(at most 64 characters)")],
    ),
    "unknown platform": (
        "id: orders\nplatform: airflow\ntrigger:\n  dag: x\n" + SCHEDULE,
        [(2, 11, "platform", "unknown platform 'airflow'; expected one of 'local', 'databricks'")],
    ),
    "unknown platform (the rest is still checked)": (
        "id: orders\nplatform: airflow\ntrigger:\n  dag: x\n" + SCHEDULE + "  every: 0\n",
        [
            (2, 11, "platform", "unknown platform 'airflow'"),
            (8, 10, "schedule.every", "expected a number >= 1, found 0"),
        ],
    ),
    "keys named like union tags": (
        "id: orders\nplatform: local\nlocal: 1\ntrigger:\n  command: 5\n"
        + SCHEDULE
        + "notifications:\n  - channel: slack\n    slack: x\n    url_env: 5\n",
        [
            (3, 1, "local", "unknown key 'local'"),
            (5, 12, "trigger.command", "expected a list, found 5"),
            (11, 5, "notifications[0].slack", "unknown key 'slack' (expected one of: channel"),
            (12, 14, "notifications[0].url_env", "expected text, found 5"),
        ],
    ),
    # --- schedule ----------------------------------------------------------------------
    "every 0, offset -1": (
        with_schedule("type: daily", "every: 0", "offset: -1", "start: 2026-01-01"),
        [
            (7, 10, "schedule.every", "expected a number >= 1, found 0"),
            (8, 11, "schedule.offset", "expected a number >= 0, found -1"),
        ],
    ),
    "at not HH:MM": (
        with_schedule("type: daily", "start: 2026-01-01", "at: 2:00"),
        [(8, 7, "schedule.at", "expected a time of day as HH:MM (00:00 to 23:59), found '2:00'")],
    ),
    "at 24:00": (
        with_schedule("type: daily", "start: 2026-01-01", 'at: "24:00"'),
        [(8, 7, "schedule.at", "found '24:00'")],
    ),
    "at as a number": (
        with_schedule("type: daily", "start: 2026-01-01", "at: 200"),
        [(8, 7, "schedule.at", "expected text, found 200")],
    ),
    "bad timezone": (
        with_schedule("type: daily", "start: 2026-01-01", "timezone: Europe/Berlinn"),
        [(8, 13, "schedule.timezone", "expected an IANA time zone such as Europe/Berlin")],
    ),
    "timezone offset is not a zone": (
        with_schedule("type: daily", "start: 2026-01-01", "timezone: +02:00"),
        [(8, 13, "schedule.timezone", "found '+02:00'")],
    ),
    "end before start": (
        with_schedule("type: daily", "start: 2026-03-01", "end: 2026-02-28"),
        [(8, 8, "schedule.end", "2026-02-28 is before start (2026-03-01)")],
    ),
    "unknown schedule type": (
        with_schedule("type: hourly", "start: 2026-01-01"),
        [(6, 9, "schedule.type", "expected 'daily', 'weekly' or 'monthly', found 'hourly'")],
    ),
    "daily with days": (
        with_schedule("type: daily", "start: 2026-01-01", "days: [1]"),
        [(8, 9, "schedule.days", "a daily schedule takes no days")],
    ),
    "weekly with a number": (
        with_schedule("type: weekly", "start: 2026-01-01", "days: [mon, 3]"),
        [(8, 15, "schedule.days[1]", "expected a weekday (mon, tue, wed, thu, fri, sat, sun)")],
    ),
    "weekly with a misspelt day": (
        with_schedule("type: weekly", "start: 2026-01-01", "days: [mon, thur]"),
        [(8, 15, "schedule.days[1]", "expected a weekday (mon, tue, wed, thu, fri, sat, sun)")],
    ),
    "monthly with 0, 32, -32 and a weekday": (
        with_schedule("type: monthly", "start: 2026-01-01", "days: [1, 0, 32, -32]"),
        [
            (8, 13, "schedule.days[1]", "expected a day of the month: 1..31, or -1..-31"),
            (8, 16, "schedule.days[2]", "found 32"),
            (8, 20, "schedule.days[3]", "found -32"),
        ],
    ),
    "monthly with a weekday": (
        with_schedule("type: monthly", "start: 2026-01-01", "days: [-1, fri]"),
        [(8, 14, "schedule.days[1]", "in a monthly schedule, found 'fri'")],
    ),
    # --- retry grammar -----------------------------------------------------------------
    "retry in words": (
        VALID + "retry:\n  schedule: every five minutes\n",
        [(9, 13, "retry.schedule", "expected 'every N second|minute|hour[s]' or 'exponential")],
    ),
    "retry in days": (
        VALID + "retry:\n  schedule: every 1 day\n",
        [(9, 13, "retry.schedule", "found 'every 1 day'")],
    ),
    "retry of zero seconds": (
        VALID + "retry:\n  schedule: every 0 seconds\n",
        [(9, 13, "retry.schedule", "the retry delay must be at least 1 second")],
    ),
    "retry cap below first delay": (
        VALID + "retry:\n  schedule: exponential 1 hour up to 1 minute\n",
        [(9, 13, "retry.schedule", "the cap (60s) is smaller than the first delay (3600s)")],
    ),
    "retry without cap": (
        VALID + "retry:\n  schedule: exponential 1 minute\n",
        [(9, 13, "retry.schedule", "found 'exponential 1 minute'")],
    ),
    "retry negative max": (
        VALID + "retry:\n  max_retries: -1\n",
        [(9, 16, "retry.max_retries", "expected a number >= 0, found -1")],
    ),
    # --- backfill and quality ----------------------------------------------------------
    "backfill request ids repeat": (
        VALID + "backfill:\n  requests:\n"
        "    - {id: fix-1, from: 2026-01-01, to: 2026-01-02}\n"
        "    - {id: fix-1, from: 2026-01-05, to: 2026-01-06}\n",
        [(11, 12, "backfill.requests[1].id", "request id 'fix-1' is already used by requests[0]")],
    ),
    "backfill request to before from": (
        VALID + "backfill:\n  requests:\n    - id: fix-1\n      from: 2026-02-01\n"
        "      to: 2026-01-31\n",
        [(12, 11, "backfill.requests[0].to", "2026-01-31 is before from (2026-02-01)")],
    ),
    "backfill request without from": (
        VALID + "backfill:\n  requests:\n    - id: fix-1\n      to: 2026-01-31\n",
        [(10, 7, "backfill.requests[0].from", "required key 'from' is missing")],
    ),
    "backfill order": (
        VALID + "backfill:\n  order: random\n",
        [(9, 10, "backfill.order", "expected 'oldest_first' or 'newest_first', found 'random'")],
    ),
    "quality check names repeat": (
        VALID + "quality:\n  checks:\n    - name: rows\n      sql: select true\n"
        "    - name: rows\n      sql: select false\n",
        [(12, 13, "quality.checks[1].name", "check name 'rows' is already used by checks[0]")],
    ),
    "quality check engine and empty sql": (
        VALID + "quality:\n  checks:\n    - name: rows\n      engine: postgres\n      sql: ''\n",
        [
            (11, 15, "quality.checks[0].engine", "expected 'duckdb' or 'snowflake'"),
            (12, 12, "quality.checks[0].sql", "expected non-empty text, found ''"),
        ],
    ),
    "sla without time": (
        VALID + "sla:\n  notify: true\n",
        [(9, 3, "sla.time", "required key 'time' is missing")],
    ),
    # --- notifications -----------------------------------------------------------------
    "slack without url_env": (
        VALID + "notifications:\n  - channel: slack\n",
        [(9, 5, "notifications[0].url_env", "required key 'url_env' is missing")],
    ),
    "webhook url_env holding a URL": (
        VALID + "notifications:\n  - channel: webhook\n    url_env: https://example.com/x\n",
        [(10, 14, "notifications[0].url_env", "expected the name of an environment variable")],
    ),
    "email without from and to": (
        VALID + "notifications:\n  - channel: email\n    smtp_host: smtp.example.com\n",
        [
            (9, 5, "notifications[0].from", "required key 'from' is missing"),
            (9, 5, "notifications[0].to", "required key 'to' is missing"),
        ],
    ),
    "email with bad addresses": (
        VALID + "notifications:\n  - channel: email\n    smtp_host: smtp.example.com\n"
        "    from: reconciler\n    to: [ops@example.com, oncall]\n",
        [
            (11, 11, "notifications[0].from", "expected an email address, found 'reconciler'"),
            (12, 27, "notifications[0].to[1]", "expected an email address, found 'oncall'"),
        ],
    ),
    "email with no recipients": (
        VALID + "notifications:\n  - channel: email\n    smtp_host: smtp.example.com\n"
        "    from: r@example.com\n    to: []\n",
        [(12, 9, "notifications[0].to", "expected at least 1 item, found an empty list")],
    ),
    "unknown channel": (
        VALID + "notifications:\n  - channel: pager\n",
        [(9, 14, "notifications[0].channel", "unknown channel 'pager'; expected one of 'slack'")],
    ),
    "notification without channel": (
        VALID + "notifications:\n  - url_env: HOOK\n",
        [(9, 5, "notifications[0].channel", "required key 'channel' is missing")],
    ),
    "unknown event": (
        VALID + "notifications:\n  - channel: stdout\n    on: [failure, sucess]\n",
        [(10, 19, "notifications[0].on[1]", "expected 'failure', 'sla_breach'")],
    ),
    # --- URLs --------------------------------------------------------------------------
    "http URL to a public host": (
        "id: hook\nplatform: http\ntrigger:\n  url: http://jobs.example.com/run\n" + SCHEDULE,
        [(4, 8, "trigger.url", "expected an https:// URL (plain http:// only for localhost")],
    ),
    "http URL to a loopback look-alike": (
        "id: hook\nplatform: http\ntrigger:\n  url: http://localhost.example.com/run\n" + SCHEDULE,
        [(4, 8, "trigger.url", "found 'http://localhost.example.com/run'")],
    ),
    "not a URL": (
        "id: hook\nplatform: http\ntrigger:\n  url: jobs.example.com\n"
        "  status_url: ftp://jobs.example.com/x\n" + SCHEDULE,
        [
            (4, 8, "trigger.url", "found 'jobs.example.com'"),
            (5, 15, "trigger.status_url", "found 'ftp://jobs.example.com/x'"),
        ],
    ),
    "databricks host over http": (
        "id: dbx\nplatform: databricks\ntrigger:\n  host: http://x.cloud.databricks.com\n"
        "  job_id: 1\n" + SCHEDULE,
        [(4, 9, "trigger.host", "expected an https:// URL")],
    ),
    "URL with a password": (
        "id: hook\nplatform: http\ntrigger:\n  url: https://user:pa55@jobs.example.com/\n"
        + SCHEDULE,
        [(4, 8, "trigger.url", "the URL carries a password")],
    ),
    # --- templates ---------------------------------------------------------------------
    "unknown placeholder in command": (
        HEAD.replace('"{date}"', '"{day}"') + SCHEDULE,
        [(4, 29, "trigger.command[2]", "unknown placeholder {day} (expected one of {date},")],
    ),
    "unknown parameter": (
        HEAD.replace('"{date}"', '"{param.out}"') + SCHEDULE + "parameters:\n  dir: x\n",
        [(4, 29, "trigger.command[2]", "unknown parameter {param.out} (declared: dir,")],
    ),
    "unbalanced braces": (
        HEAD.replace('"{date}"', '"{date"') + SCHEDULE,
        [(4, 29, "trigger.command[2]", "unbalanced braces")],
    ),
    "stray closing brace": (
        HEAD.replace('"{date}"', '"date}"') + SCHEDULE,
        [(4, 29, "trigger.command[2]", "unbalanced braces")],
    ),
    "format spec": (
        HEAD.replace('"{date}"', '"{date:%Y}"') + SCHEDULE,
        [(4, 29, "trigger.command[2]", "{date:%Y} uses a format spec")],
    ),
    "conversion": (
        HEAD.replace('"{date}"', '"{date!r}"') + SCHEDULE,
        [(4, 29, "trigger.command[2]", "{date!r} uses a format spec")],
    ),
    "unknown placeholder in sql": (
        VALID + "quality:\n  checks:\n    - name: rows\n      sql: select {rows}\n",
        [(11, 12, "quality.checks[0].sql", "unknown placeholder {rows}")],
    ),
    "unknown placeholder in a parameter": (
        VALID + "parameters:\n  path: data/{day}.csv\n",
        [(9, 9, "parameters.path", "unknown placeholder {day}")],
    ),
    "unknown placeholder in http body and status_url": (
        "id: hook\nplatform: http\ntrigger:\n  url: https://x.example.com/run\n  body:\n"
        '    when: "{when}"\n    nested: {list: ["{date}", "{nope}"]}\n'
        "  status_url: https://x.example.com/runs/{run}\n" + SCHEDULE,
        [
            (6, 11, "trigger.body.when", "unknown placeholder {when}"),
            (7, 31, "trigger.body.nested.list[1]", "unknown placeholder {nope}"),
            (8, 15, "trigger.status_url", "unknown placeholder {run}"),
        ],
    ),
    "platform_run_id only in status_url": (
        "id: hook\nplatform: http\ntrigger:\n  url: https://x.example.com/{platform_run_id}\n"
        + SCHEDULE,
        [(4, 8, "trigger.url", "unknown placeholder {platform_run_id}")],
    ),
    "parameter cycle": (
        VALID + 'parameters:\n  a: "{param.b}/x"\n  b: "{param.a}/y"\n  c: "{param.c}"\n',
        [
            (9, 6, "parameters.a", "parameters refer to each other in a circle: a -> b -> a"),
            (10, 6, "parameters.b", "b -> a -> b"),
            (11, 6, "parameters.c", "c -> c"),
        ],
    ),
    "bad parameter name": (
        VALID + "parameters:\n  out-dir: x\n",
        [(9, 3, "parameters.out-dir", "expected a parameter name of letters, digits and _")],
    ),
    "parameter that is a list": (
        VALID + "parameters:\n  dirs: [a, b]\n",
        [(9, 9, "parameters.dirs", "expected text, found a list")],
    ),
    # --- depends_on and version --------------------------------------------------------
    "dependency dates not one of the mappings": (
        VALID + "depends_on:\n  - pipeline: up\n    dates: weekly\n",
        [(10, 12, "depends_on[0].dates", "expected 'period', 'same' or 'latest', found 'weekly'")],
    ),
    "dependency offset too large": (
        VALID + "depends_on:\n  - {pipeline: up, offset: 400}\n",
        [(9, 28, "depends_on[0].offset", "expected a number <= 366, found 400")],
    ),
    "dependency offset too small": (
        VALID + "depends_on:\n  - {pipeline: up, offset: -367}\n",
        [(9, 28, "depends_on[0].offset", "expected a number >= -366, found -367")],
    ),
    "dependency offset not a whole number": (
        VALID + "depends_on:\n  - {pipeline: up, offset: '1'}\n",
        [(9, 28, "depends_on[0].offset", "expected a whole number, found '1'")],
    ),
    "dependency without its pipeline": (
        VALID + "depends_on:\n  - dates: same\n",
        [(9, 5, "depends_on[0].pipeline", "required key 'pipeline' is missing")],
    ),
    "dependency key misspelt": (
        VALID + "depends_on:\n  - pipeline: up\n    offest: 1\n",
        [(10, 5, "depends_on[0].offest", "unknown key 'offest'; did you mean 'offset'?")],
    ),
    "dependency on a pipeline id that cannot exist": (
        VALID + "depends_on:\n  - pipeline: Orders-Daily\n",
        [(9, 15, "depends_on[0].pipeline", "expected an id of lowercase letters")],
    ),
    "depends_on not a list": (
        VALID + "depends_on: orders_daily\n",
        [(8, 13, "depends_on", "expected a list, found 'orders_daily'")],
    ),
    "depends_on on itself": (
        VALID + "depends_on:\n  - pipeline: up\n  - pipeline: orders\n",
        [(10, 15, "depends_on[1].pipeline", "pipeline 'orders' cannot depend on itself")],
    ),
    "the same entry twice": (
        VALID + "depends_on:\n  - pipeline: up\n  - {pipeline: up, dates: period}\n",
        [(10, 16, "depends_on[1].pipeline", "repeats depends_on[0] ('up', dates period")],
    ),
    "version neither text nor a whole number": (
        VALID + "version: true\n",
        [(8, 10, "version", "expected text or a whole number, found true")],
    ),
    "version on two lines": (
        VALID + 'version: "a\\nb"\n',
        [(8, 10, "version", "one line of text without control characters")],
    ),
    "refresh flag not a boolean": (
        VALID + "backfill:\n  refresh_on_version_change: yes\n",
        [(9, 30, "backfill.refresh_on_version_change", "expected true or false, found 'yes'")],
    ),
    # --- literal secrets ---------------------------------------------------------------
    "token in a trigger": (
        "id: dbx\nplatform: databricks\ntrigger:\n  host: https://x.cloud.databricks.com\n"
        "  job_id: 1\n  token: abc\n" + SCHEDULE,
        [(6, 10, "trigger.token", "secrets are never written in YAML")],
    ),
    "password in email": (
        VALID + "notifications:\n  - channel: email\n    smtp_host: smtp.example.com\n"
        "    from: r@example.com\n    to: [ops@example.com]\n    password: hunter2\n",
        [(13, 15, "notifications[0].password", "give its name with 'password_env'")],
    ),
    "url in a notification": (
        VALID + "notifications:\n  - channel: webhook\n    url_env: HOOK\n"
        "    url: https://example.com/hook\n",
        [(11, 10, "notifications[0].url", "give its name with 'url_env'")],
    ),
    "Databricks token anywhere": (
        VALID + "parameters:\n  key: dapi0123456789abcdef0123456789abcdef\n",
        [(9, 8, "parameters.key", "looks like a Databricks token")],
    ),
    "Slack webhook anywhere": (
        HEAD.replace('"{date}"', "https://hooks.slack.com/services/T0/B0/XYZ") + SCHEDULE,
        [(4, 29, "trigger.command[2]", "looks like a Slack webhook URL")],
    ),
    "Slack webhook as url_env": (
        VALID + "notifications:\n  - channel: slack\n"
        "    url_env: https://hooks.slack.com/services/T0/B0/XYZ\n",
        [(10, 14, "notifications[0].url_env", "give its name with 'url_env'")],
    ),
}


@pytest.mark.parametrize("text, expected", list(CASES.values()), ids=list(CASES))
def test_bad_input(
    validate_text: Callable[[str], tuple[Path, Outcome]], text: str, expected: list[Expect]
) -> None:
    path, outcome = validate_text(text)
    assert outcome.exit_code == 1, outcome.stdout + outcome.stderr
    got = [(p.line, p.col, p.field) for p in outcome.problems]
    want = [(line, col, field) for line, col, field, _ in expected]
    assert got == want, outcome.stderr
    for problem, (_, _, _, fragment) in zip(outcome.problems, expected, strict=True):
        assert problem.file == str(path)
        assert fragment in problem.rest, outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert outcome.stderr.rstrip().endswith("problem(s) in 1 of 1 file(s)")


def test_secret_is_never_echoed(validate_text: Callable[[str], tuple[Path, Outcome]]) -> None:
    token = "dapi0123456789abcdef0123456789abcdef"
    text = VALID + f"notifications:\n  - channel: webhook\n    url_env: {token}\n"
    text += f"    secret_env: '{token}'\nparameters:\n  x: [{token}]\n"
    text = text.replace("platform: local", f"platform: local\nname: {{a: {token}}}")
    _, outcome = validate_text(text)
    assert outcome.exit_code == 1
    assert outcome.problems
    assert token not in outcome.stderr + outcome.stdout


def test_password_in_url_is_not_echoed(
    validate_text: Callable[[str], tuple[Path, Outcome]],
) -> None:
    text = "id: h\nplatform: http\ntrigger:\n  url: http://u:s3cr3t@example.com/\n" + SCHEDULE
    _, outcome = validate_text(text)
    assert outcome.exit_code == 1
    assert "s3cr3t" not in outcome.stderr
