"""Delivery: a receiver down for a pass gets the message on the next; a 4xx is final."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flow_helpers import FAIL, STATE, apply, notifications, notify_lines, query, write_pipeline
from receivers import TOKEN, HookReceiver, SmtpReceiver

from reconciler.state.duckdb_store import DuckDBStore
from tests import store_reads as reads

NOW = "2026-01-10T06:00:00"
PASSWORD = "pw-Very-Secret-123"


def test_a_receiver_down_for_one_pass_gets_the_message_on_the_next(tmp_path: Path, cli) -> None:
    write_pipeline(
        tmp_path / "pipelines.d",
        "broken",
        FAIL,
        schedule={"start": "2026-01-09"},
        retry={"enabled": False},
        notifications=[
            {"channel": "slack", "url_env": "SLACK_URL", "on": ["failure"]},
            {"channel": "webhook", "url_env": "HOOK_URL", "on": ["failure"]},
        ],
    )
    slack, hook = HookReceiver("slack"), HookReceiver("webhook")
    env = {"SLACK_URL": slack.url, "HOOK_URL": hook.url}
    hook.start()
    try:
        hook.fail_next(403, "invalid_token")
        first = apply(cli, NOW, env)  # slack is down, the webhook refuses
        slack_line, hook_line = sorted(notify_lines(first))
        assert slack_line.startswith(
            "[failure] broken: 2 dates failed and will not be retried -> slack (SLACK_URL): not "
            "sent (connection failed (ConnectError)); will try again after 2026-01-10T06:01:"
        )
        assert hook_line == (
            "[failure] broken: 2 dates failed and will not be retried -> webhook (HOOK_URL): NOT "
            "SENT (HTTP 403 invalid_token); will not retry"
        )
        assert notifications(tmp_path) == [
            ("broken", "failure", "slack:SLACK_URL", d, "pending", 1) for d in _days()
        ] + [("broken", "failure", "webhook:HOOK_URL", d, "failed", 1) for d in _days()]
        failed = reads.notifications(DuckDBStore(str(tmp_path / STATE)))
        assert {(n.channel, n.last_error) for n in failed} == {
            ("webhook:HOOK_URL", "HTTP 403 invalid_token")
        }
        # too early for the backoff (a minute): still pending, nothing tried
        assert notify_lines(apply(cli, "2026-01-10T06:00:30", env)) == []
        slack.start()
        second = apply(cli, "2026-01-10T06:05:00", env)
        third = apply(cli, "2026-01-10T06:10:00", env)
    finally:
        slack.stop()
        hook.stop()
    assert notify_lines(second) == [
        "[failure] broken: 2 dates failed and will not be retried -> slack (SLACK_URL)"
    ]
    assert notify_lines(third) == []
    assert len(slack.payloads) == 1 and hook.received == []
    assert {(r[2], r[4], r[5]) for r in notifications(tmp_path)} == {
        ("slack:SLACK_URL", "sent", 2),
        ("webhook:HOOK_URL", "failed", 1),
    }
    state = (tmp_path / STATE).read_bytes()
    assert TOKEN.encode() not in state
    for done in (first, second, third):
        assert TOKEN not in done.stdout + done.stderr


def _days() -> list[date]:
    return [date(2026, 1, 9), date(2026, 1, 10)]


def test_email_through_apply_and_a_refused_login(tmp_path: Path, cli) -> None:
    config = tmp_path / "pipelines.d"

    def email(pid: str, port: int, password_env: str) -> None:
        write_pipeline(
            config, pid, FAIL, schedule={"start": "2026-01-10"}, retry={"enabled": False},
            notifications=[{
                "channel": "email", "smtp_host": "127.0.0.1", "smtp_port": port,
                "username_env": "SMTP_USER", "password_env": password_env,
                "from": "reconciler@example.com", "to": ["oncall@example.com"],
                "on": ["failure"],
            }],
        )  # fmt: skip

    with (
        SmtpReceiver(tmp_path / "a", login=("robot", PASSWORD)) as good,
        SmtpReceiver(tmp_path / "b", login=("robot", "another")) as bad,
    ):
        email("mailed", good.port, "SMTP_PASSWORD")
        email("refused", bad.port, "SMTP_PASSWORD")
        # one CA file for both servers' certificates
        ca = tmp_path / "ca.pem"
        ca.write_bytes(good.ca_file.read_bytes() + bad.ca_file.read_bytes())
        env = {"SMTP_USER": "robot", "SMTP_PASSWORD": PASSWORD, "SSL_CERT_FILE": str(ca)}
        first = apply(cli, NOW, env)
        second = apply(cli, "2026-01-10T07:00:00", env)
    lines = sorted(notify_lines(first))
    assert lines == [
        "[failure] mailed: 1 date failed and will not be retried -> email (to oncall@example.com)",
        "[failure] refused: 1 date failed and will not be retried -> email (to oncall@example.com)"
        f": NOT SENT (SMTP login to 127.0.0.1:{bad.port} refused (535)); will not retry",
    ]
    assert notify_lines(second) == []
    (mail,) = good.messages
    assert mail["To"] == "oncall@example.com"
    body = mail.get_payload()[0].get_payload()
    assert "2026-01-10 after 1 attempt: exit code 1: boom: 2026-01-10" in body
    assert bad.messages == [] and set(bad.logins) == {("robot", False)}
    for text in (first.stdout, first.stderr):
        assert PASSWORD not in text
    assert PASSWORD.encode() not in (tmp_path / STATE).read_bytes()
    assert query(tmp_path, "SELECT count(*) FROM pipeline_notifications") == [(2,)]
