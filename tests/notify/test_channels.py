"""Each channel against a real receiver on 127.0.0.1: sent, pending or failed, no secrets."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from notify_helpers import NOW, failure_rows, one_message
from receivers import TOKEN, HookReceiver, SmtpReceiver

from reconciler.config.models import (
    EmailNotification,
    SlackNotification,
    StdoutNotification,
    WebhookNotification,
)
from reconciler.notify.channels import channel_key
from reconciler.notify.dispatch import Delivery, deliver

if TYPE_CHECKING:
    from reconciler.notify.channels import ChannelModel

PASSWORD = "pw-Very-Secret-123"


def send(model: ChannelModel, env: dict[str, str]) -> Delivery:
    key = channel_key(model)
    message = one_message(failure_rows(3, channel=key))
    (result,) = list(deliver([message], {("orders", key): model}, env, NOW))
    if result.error:
        assert TOKEN not in result.error and PASSWORD not in result.error
    return result


def slack_model() -> SlackNotification:
    return SlackNotification(channel="slack", url_env="SLACK_URL")


def email_model(port: int, **kw: Any) -> EmailNotification:
    fields: dict[str, Any] = {
        "channel": "email",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "username_env": "SMTP_USER",
        "password_env": "SMTP_PASSWORD",
        "from": "reconciler@example.com",
        "to": ["oncall@example.com", "data@example.com"],
    }
    return EmailNotification.model_validate(fields | kw)


def test_slack_message_is_accepted_as_slack_would() -> None:
    with HookReceiver("slack") as slack:
        result = send(slack_model(), {"SLACK_URL": slack.url})
    assert result.outcome == "sent"
    (payload,) = slack.payloads
    assert payload["text"].startswith("[failure] orders: 3 dates failed")
    assert payload["blocks"][0]["type"] == "header"


@pytest.mark.parametrize(
    ("status", "body", "retry_after", "outcome", "error"),
    [
        (403, "invalid_token", None, "failed", "HTTP 403 invalid_token"),
        (404, "channel_not_found", None, "failed", "HTTP 404 channel_not_found"),
        (500, "rollup_error", None, "pending", "HTTP 500 rollup_error"),
        (429, "", 7, "pending", "HTTP 429"),
    ],
)
def test_slack_refusals_are_sorted_into_transient_and_permanent(
    status: int, body: str, retry_after: int | None, outcome: str, error: str
) -> None:
    with HookReceiver("slack") as slack:
        slack.fail_next(status, body, retry_after=retry_after)
        result = send(slack_model(), {"SLACK_URL": slack.url})
    assert (result.outcome, result.error) == (outcome, error)
    assert result.retry_after == retry_after


def test_a_receiver_that_is_down_is_a_transient_failure() -> None:
    slack = HookReceiver("slack")  # never started: the port refuses connections
    result = send(slack_model(), {"SLACK_URL": slack.url})
    assert result.outcome == "pending"
    assert result.error == "connection failed (ConnectError)"


def test_missing_or_plain_http_urls_wait_for_the_environment_to_be_fixed() -> None:
    missing = send(slack_model(), {})
    assert (missing.outcome, missing.error) == (
        "pending",
        "environment variable SLACK_URL is not set",
    )
    plain = send(slack_model(), {"SLACK_URL": f"http://example.com/services/{TOKEN}"})
    assert plain.outcome == "pending"
    assert "must hold an https URL" in (plain.error or "")


def test_webhook_is_signed_over_timestamp_and_raw_body() -> None:
    model = WebhookNotification(channel="webhook", url_env="HOOK_URL", secret_env="HOOK_SECRET")
    with HookReceiver("webhook") as hook:
        result = send(model, {"HOOK_URL": hook.url, "HOOK_SECRET": "s3cret"})
    assert result.outcome == "sent"
    (got,) = hook.received
    stamp = got.headers["x-reconciler-timestamp"]
    mac = hmac.new(b"s3cret", stamp.encode() + b"." + got.body, hashlib.sha256).hexdigest()
    assert got.headers["x-reconciler-signature"] == f"sha256={mac}"
    assert got.headers["x-reconciler-event"] == "failure"
    document = got.json()
    assert document["delivery_id"] == got.headers["x-reconciler-delivery"]
    assert document["dates"] == ["2026-01-01", "2026-01-02", "2026-01-03"]


def test_unsigned_webhook_has_no_signature_header() -> None:
    model = WebhookNotification(channel="webhook", url_env="HOOK_URL")
    with HookReceiver("webhook") as hook:
        assert send(model, {"HOOK_URL": hook.url}).outcome == "sent"
    assert "x-reconciler-signature" not in hook.received[0].headers


def test_stdout_channel_returns_its_line() -> None:
    result = send(StdoutNotification(channel="stdout"), {})
    assert result.outcome == "sent"
    assert result.text and result.text.startswith("[failure] orders: 3 dates failed")


def test_email_with_starttls_and_login_is_plain_text_plus_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SmtpReceiver(tmp_path, login=("robot", PASSWORD)) as smtp:
        monkeypatch.setenv("SSL_CERT_FILE", str(smtp.ca_file))
        env = {"SMTP_USER": "robot", "SMTP_PASSWORD": PASSWORD}
        result = send(email_model(smtp.port), env)
    assert result.outcome == "sent", result.error
    assert smtp.logins == [("robot", True)]
    assert smtp.envelopes == [
        ("reconciler@example.com", ["oncall@example.com", "data@example.com"])
    ]
    (mail,) = smtp.messages
    assert (
        mail["Subject"] == "[reconciler] [failure] orders: 3 dates failed and will not be retried"
    )
    kinds = [part.get_content_type() for part in mail.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/html"]


def test_email_refuses_a_server_without_starttls(tmp_path: Path) -> None:
    with SmtpReceiver(tmp_path, starttls=False, login=("robot", PASSWORD)) as smtp:
        env = {"SMTP_USER": "robot", "SMTP_PASSWORD": PASSWORD}
        result = send(email_model(smtp.port), env)
    assert result.outcome == "failed"
    assert "does not offer STARTTLS; nothing sent" in (result.error or "")
    assert smtp.messages == [] and smtp.logins == []


def test_email_login_refused_is_final(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with SmtpReceiver(tmp_path, login=("robot", "the-right-one")) as smtp:
        monkeypatch.setenv("SSL_CERT_FILE", str(smtp.ca_file))
        env = {"SMTP_USER": "robot", "SMTP_PASSWORD": PASSWORD}
        result = send(email_model(smtp.port), env)
    assert result.outcome == "failed"
    assert result.error == f"SMTP login to 127.0.0.1:{smtp.port} refused (535)"
    assert smtp.messages == []


def test_email_to_an_untrusted_certificate_is_final(tmp_path: Path) -> None:
    with SmtpReceiver(tmp_path) as smtp:  # SSL_CERT_FILE not set: the CA is unknown
        result = send(email_model(smtp.port, username_env=None, password_env=None), {})
    assert result.outcome == "failed"
    assert "TLS with 127.0.0.1" in (result.error or "")


def test_email_server_down_is_transient(tmp_path: Path) -> None:
    smtp = SmtpReceiver(tmp_path, starttls=False)  # never started
    result = send(email_model(smtp.port, starttls=False, username_env=None, password_env=None), {})
    assert result.outcome == "pending"
    assert "ConnectionRefusedError" in (result.error or "")
