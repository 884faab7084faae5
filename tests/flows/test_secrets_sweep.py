"""The secrets sweep: every secret, in every form, absent from everything the CLI leaves.

Distinct secrets are planted for every kind the reconciler reads (Databricks, dbt
Cloud and Snowflake tokens, HTTP hook headers, Slack and webhook URLs with a secret
path and query, a webhook signing secret, an SMTP user and password, a PostgreSQL URL
password). The servers behind them echo them back in their errors. Then validate,
plan, apply, status, history, report and state export run through the CLI, and every
output, every table of the state and every exported Parquet file is searched for each
secret: verbatim, percent-encoded, base64, as Basic/``AUTH PLAIN`` credentials, as
URL parts and cut short.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import duckdb
import pytest
from flow_helpers import STATE
from secret_servers import EchoServer, EchoSmtp

NOW = "2026-01-10T06:00:00"
TOKENS = {
    "SWEEP_DATABRICKS_TOKEN": "dapi5e1f0c2b3a4d5e6f708192a3b4c5d6e7",
    "SWEEP_DBT_TOKEN": "dbtc_Qw3rTyU1oP9aSdFgHjKlZxCvBnM0",
    "SWEEP_SNOWFLAKE_TOKEN": "sfpat-Mn8Bv7Cx6Zl5Kj4Hg3Fd2Sa1Qw0Ertyu",
    # inside SWEEP_HOOK_HEADERS; the quote comes back escaped in the receiver's JSON
    "SWEEP_HOOK_TOKEN": 'h"hk-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2',
    "SWEEP_HOOK_SECRET": "whsig-Pl0Ök9Ij8Üh7Yg6Tf5",  # (never sent: JSON-escaped forms only)
    "SWEEP_SMTP_PASSWORD": "smtp-Rf4Ed3Ws2Qa1Zx",
}
SMTP_USER = "sweep-alerts"
SLACK_PATH = "/services/T0SWEEP1/B0SWEEP2/slk-Aa1Bb2Cc3Dd4Ee5Ff6"
HOOK_PATH = "/wh/WHPATH-8h7g6f5e4d3c"
HOOK_QUERY = "key=qk-Kk7Jj6Hh5Gg4"
PG_PASSWORD = "pgpw-Tt5Rr4Ee3Ww2Qq1"


def _b64(text: str) -> set[str]:
    encoded = base64.b64encode(text.encode()).decode()
    return {encoded, encoded.rstrip("=")}


def forms(secret: str) -> set[str]:
    """How a secret may come back: verbatim, percent-encoded, JSON-escaped, base64, cut
    short."""
    out = {secret, quote(secret, safe=""), quote_plus(secret), *_b64(secret)}
    out |= {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    if len(secret) >= 16:
        out.add(secret[:10])
    return out


def url_forms(url: str) -> set[str]:
    parts = urlsplit(url)
    # (a URL's scheme, host and first words are no secret: no prefix of the whole)
    out = {url, quote(url, safe=""), *_b64(url), parts.path, quote(parts.path, safe="")}
    for segment in parts.path.split("/"):
        if any(c.isdigit() for c in segment):
            out |= forms(segment)
    for _, value in parse_qsl(parts.query):
        out |= forms(value)
    return out


def pipelines(config: Path, http: EchoServer, smtp: EchoSmtp) -> None:
    notifications = [
        {"channel": "slack", "url_env": "SWEEP_SLACK_URL", "on": ["failure"]},
        {"channel": "webhook", "url_env": "SWEEP_HOOK_URL", "secret_env": "SWEEP_HOOK_SECRET",
         "on": ["failure"]},
        {"channel": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
         "starttls": False, "username_env": "SWEEP_SMTP_USER",
         "password_env": "SWEEP_SMTP_PASSWORD", "from": "reconciler@example.com",
         "to": ["oncall@example.com"], "on": ["failure"]},
        {"channel": "stdout", "on": ["failure"]},
    ]  # fmt: skip
    triggers: dict[str, tuple[str, dict[str, Any]]] = {
        "dbx": ("databricks", {"host": http.base, "job_id": 11,
                               "token_env": "SWEEP_DATABRICKS_TOKEN"}),
        "dbt": ("dbt", {"host": http.base, "account_id": 1, "job_id": 12,
                        "token_env": "SWEEP_DBT_TOKEN"}),
        "snow": ("snowflake", {"account": "acme", "host": http.base, "statement": "select 1",
                               "token_env": "SWEEP_SNOWFLAKE_TOKEN"}),
        "hook": ("http", {"url": http.base + "/hooks/export",
                          "headers_env": "SWEEP_HOOK_HEADERS"}),
    }  # fmt: skip
    config.mkdir(parents=True, exist_ok=True)
    for pid, (platform, trigger) in triggers.items():
        document = {
            "id": pid,
            "platform": platform,
            "trigger": trigger,
            "schedule": {"type": "daily", "start": "2026-01-09"},
            "retry": {"enabled": False},
            "notifications": notifications,
        }
        (config / f"{pid}.yaml").write_text(json.dumps(document), encoding="utf-8")


def environment(http: EchoServer) -> dict[str, str]:
    env = {k: v for k, v in TOKENS.items() if k != "SWEEP_HOOK_TOKEN"}
    env["SWEEP_HOOK_HEADERS"] = json.dumps(
        {"Authorization": f"Bearer {TOKENS['SWEEP_HOOK_TOKEN']}"}
    )
    env["SWEEP_SLACK_URL"] = http.base + SLACK_PATH
    env["SWEEP_HOOK_URL"] = f"{http.base}{HOOK_PATH}?{HOOK_QUERY}"
    env["SWEEP_SMTP_USER"] = SMTP_USER
    return env


def leaks(env: dict[str, str]) -> dict[str, str]:
    """Each form to look for -> the secret it gives away."""
    found: dict[str, str] = {}
    for name, value in TOKENS.items():
        found |= dict.fromkeys(forms(value), name)
    for name in ("SWEEP_SLACK_URL", "SWEEP_HOOK_URL"):
        found |= dict.fromkeys(url_forms(env[name]), name)
    password = TOKENS["SWEEP_SMTP_PASSWORD"]
    found |= dict.fromkeys(_b64(f"{SMTP_USER}:{password}"), "SMTP basic")
    found |= dict.fromkeys(_b64(f"\0{SMTP_USER}\0{password}"), "SMTP AUTH PLAIN")
    found |= dict.fromkeys(forms(PG_PASSWORD), "PostgreSQL password")
    found |= dict.fromkeys(_b64(f"postgres:{PG_PASSWORD}"), "PostgreSQL basic")
    return found


def tables_text(path: Path) -> dict[str, str]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()]  # fmt: skip
        return {n: repr(conn.execute(f'SELECT * FROM "{n}"').fetchall()) for n in names}
    finally:
        conn.close()


def parquet_text(directory: Path) -> dict[str, str]:
    conn = duckdb.connect()
    try:
        return {
            f.name: repr(conn.execute("SELECT * FROM read_parquet(?)", [str(f)]).fetchall())
            for f in sorted(directory.rglob("*.parquet"))
        }
    finally:
        conn.close()


def test_no_secret_in_any_form_reaches_output_state_or_exports(
    tmp_path: Path, cli, cli_env: dict[str, str]
) -> None:
    http, smtp = EchoServer().start(), EchoSmtp().start()
    env = environment(http)
    pipelines(tmp_path / "pipelines.d", http, smtp)
    texts: dict[str, str] = {}

    def run(*args: str, ok: bool = True, **extra: str) -> subprocess.CompletedProcess[str]:
        done: subprocess.CompletedProcess[str] = cli(*args, env={**env, **extra})
        texts[" ".join(args)] = done.stdout + done.stderr
        if ok:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    try:
        run("validate")
        run("validate", "--check-env")
        # one variable missing: the lines naming it must name it only
        missing = run("validate", "--check-env", "--config-dir", "pipelines.d", ok=False,
                      SWEEP_SMTP_USER="")  # fmt: skip
        assert missing.returncode == 1 and "SWEEP_SMTP_USER is not set" in missing.stderr
        run("plan", "--now", NOW)
        run("plan", "--now", NOW, "--format", "json", SWEEP_DBT_TOKEN="")
        applied = run("apply", "--wait", "--now", NOW)
        # notifications retried; the events as JSON lines (API errors, notifications, runs)
        logged = run("apply", "--wait", "--now", "2026-01-10T07:00:00", "--log-format", "json")
    finally:
        http.stop()
        smtp.stop()
    # the servers got the secrets and echoed them back: there was something to leak
    assert smtp.auth and any(p.startswith(HOOK_PATH) for p in http.paths)
    assert "failed" in applied.stdout
    events = [json.loads(line)["event"] for line in logged.stderr.splitlines()]
    assert "notification_sent" in events or "notification_failed" in events
    run("status", "--now", NOW)
    run("status", "--now", NOW, "--format", "json")
    for pid in ("dbx", "dbt", "snow", "hook"):
        run("history", pid)
        run("history", pid, "--format", "json")
        run("explain", pid, "2026-01-09", "--now", NOW)
        run("explain", pid, "2026-01-09", "--now", NOW, "--format", "json")
    run("report", "--now", NOW, "--out", "report.html")
    texts["report.html"] = (tmp_path / "report.html").read_text(encoding="utf-8")
    run("state", "export", "exported")
    pg = f"postgresql://postgres:{PG_PASSWORD}@127.0.0.1:1/sweep"  # nothing listens there
    run("status", "--state", pg, ok=False)
    base = os.environ.get("RECONCILER_TEST_POSTGRES")
    if base:  # a real server, which ignores the password under trust authentication
        parts = urlsplit(base)
        netloc = f"{parts.username}:{PG_PASSWORD}@{parts.hostname}:{parts.port or 5432}"
        url = parts._replace(netloc=netloc, query="options=-csearch_path%3Dno_such_schema")
        run("status", "--state", url.geturl(), ok=False)

    exported = parquet_text(tmp_path / "exported")
    assert exported, "state export wrote no Parquet files"
    state = tables_text(tmp_path / STATE)
    # the errors did reach the state (masked), so the sweep looked at real text
    assert "***" in state["pipeline_run_log"] and "***" in state["pipeline_notifications"]
    found = [
        f"{secret} as {form!r} in {where}"
        for where, text in {**texts, **state, **exported}.items()
        for form, secret in leaks(env).items()
        if form in text
    ]
    assert found == []


@pytest.mark.parametrize("password", ["2026", "postgres"])
def test_a_short_or_common_database_password_leaves_ordinary_output_alone(
    tmp_path: Path, cli, password: str
) -> None:
    """A PostgreSQL password that is also a year or the user's name is masked where it
    stands as a password, and nowhere else: dates, batch ids, plan text and URLs pass."""
    config = tmp_path / "pipelines.d"
    config.mkdir()
    document = {
        "id": "orders",
        "platform": "local",
        "trigger": {"command": ["true"]},
        "schedule": {"type": "daily", "start": "2026-01-09"},
    }
    (config / "orders.yaml").write_text(json.dumps(document), encoding="utf-8")
    dead = f"postgresql://postgres:{password}@127.0.0.1:1/sweep"  # nothing listens there
    refused = cli("status", "--state", dead)
    assert refused.returncode == 1
    assert "postgresql://postgres:***@127.0.0.1:1/sweep" in refused.stderr
    assert f":{password}@" not in refused.stderr
    base = os.environ.get("RECONCILER_TEST_POSTGRES")
    if not base:
        pytest.skip("no PostgreSQL server (RECONCILER_TEST_POSTGRES) for the state")
    import psycopg

    schema = f"sweep_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        parts = urlsplit(base)
        netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port or 5432}"
        state = parts._replace(netloc=netloc, query=f"options=-csearch_path%3D{schema}").geturl()
        outputs = [
            cli("plan", "--now", NOW, "--state", state),
            cli("apply", "--wait", "--now", NOW, "--state", state),
            cli("status", "--now", NOW, "--state", state),
            cli("status", "--now", NOW, "--state", state, "--format", "json"),
            cli("history", "orders", "--state", state),
            cli("history", "orders", "--state", state, "--format", "json"),
        ]
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    for done in outputs:
        assert done.returncode in (0, 2), done.stdout + done.stderr
        assert "***" not in done.stdout + done.stderr, done.stdout + done.stderr
    text = "".join(done.stdout for done in outputs)
    assert "2026-01-09" in text and "2026-01-10" in text
    assert "20260109" in text or "20260110" in text  # batch ids
    assert json.loads(outputs[5].stdout)[0]["run_date"].startswith("2026-01-")


def test_a_debug_traceback_is_masked(tmp_path: Path, cli_env: dict[str, str]) -> None:
    """``--debug`` re-raises past the masked streams; the traceback Python prints is
    masked all the same (an exception's message may carry a token)."""
    token = TOKENS["SWEEP_DATABRICKS_TOKEN"]
    script = f"""
from reconciler.cli import main
from reconciler.masking import register

@main.command("boom")
def boom() -> None:
    register({token!r})
    raise RuntimeError("token {token} rejected by " + {token!r}[:14] + "...")

main(["--debug", "boom"], prog_name="reconciler")
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert "RuntimeError: token *** rejected by ***" in done.stderr
    assert not [form for form in forms(token) if form in done.stdout + done.stderr]


def test_a_secret_in_json_output_is_masked_in_its_escaped_form(tmp_path: Path, cli) -> None:
    """A state written before its password was known holds it raw; ``history --format
    json`` escapes its quote and accents, and the mask still finds it."""
    base = os.environ.get("RECONCILER_TEST_POSTGRES")
    if not base:
        pytest.skip("no PostgreSQL server (RECONCILER_TEST_POSTGRES) for the state")
    import psycopg

    password = 'pä"ss-wörd-secret'
    config = tmp_path / "pipelines.d"
    config.mkdir()
    command = f"echo 'login {password} refused' >&2; exit 3"
    document = {
        "id": "orders",
        "platform": "local",
        "trigger": {"command": ["sh", "-c", command]},
        "schedule": {"type": "daily", "start": "2026-01-10"},
        "retry": {"enabled": False},
    }
    (config / "orders.yaml").write_text(json.dumps(document), encoding="utf-8")
    schema = f"sweep_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        parts = urlsplit(base)
        before = parts._replace(query=f"options=-csearch_path%3D{schema}")
        applied = cli("apply", "--wait", "--now", NOW, "--state", before.geturl())
        assert "failed" in applied.stdout, applied.stdout + applied.stderr
        netloc = (
            f"{parts.username}:{quote(password, safe='')}@{parts.hostname}:{parts.port or 5432}"
        )
        state = before._replace(netloc=netloc).geturl()
        shown = cli("history", "orders", "--format", "json", "--state", state)
        text = cli("history", "orders", "--state", state)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    rows = json.loads(shown.stdout)
    assert rows and all(r["error_message"] == "exit code 3: login *** refused" for r in rows)
    found = [f for f in forms(password) if f in shown.stdout + text.stdout + text.stderr]
    assert found == []
