"""Sending messages to their channels; what each send came to, without secrets.

Secrets are read from the environment at send time and never appear in a result:
errors name the environment variable, the status code or the kind of failure.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import httpx

from reconciler import masking
from reconciler.config.models import (
    EmailNotification,
    SlackNotification,
    StdoutNotification,
    WebhookNotification,
)
from reconciler.errors import PermanentError, ReconcilerError, TransientError
from reconciler.notify import http, mail, slack, stdout, webhook
from reconciler.notify.messages import Message

if TYPE_CHECKING:
    from reconciler.notify.channels import ChannelModel

Outcome = Literal["sent", "pending", "failed"]
SLACK_SPACING = 1.0  # seconds between two messages to one Slack webhook


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """What became of one message; ``text`` is the line a ``stdout`` channel prints."""

    message: Message
    outcome: Outcome
    error: str | None = None
    retry_after: float | None = None
    text: str | None = None


def label(model: ChannelModel | None, channel: str) -> str:
    """How people see a channel: ``slack (SLACK_WEBHOOK_URL)``, never the URL itself."""
    if isinstance(model, SlackNotification | WebhookNotification):
        return f"{model.channel} ({model.url_env})"
    if isinstance(model, EmailNotification):
        return f"email (to {', '.join(model.to)})"
    return channel


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secret(env: Mapping[str, str], name: str) -> str:
    """The value of environment variable ``name``.

    A missing secret is a transient failure: the environment can be fixed, and the
    notification is then sent (within ``MAX_ATTEMPTS`` of the outbox).
    """
    value = env.get(name, "").strip()
    if not value:
        raise TransientError(f"environment variable {name} is not set")
    masking.register(value)
    return value


def webhook_url(env: Mapping[str, str], name: str) -> str:
    """The URL held by environment variable ``name``; https, or http on loopback."""
    url = secret(env, name)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise TransientError(f"environment variable {name} does not hold a URL") from None
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and _loopback(host):
        return url
    raise TransientError(
        f"environment variable {name} must hold an https URL (http only for 127.0.0.1, "
        "localhost or [::1])"
    )


def _send(
    client: httpx.Client,
    model: ChannelModel,
    message: Message,
    env: Mapping[str, str],
    now: datetime,
) -> str | None:
    if isinstance(model, StdoutNotification):
        return stdout.line(message)
    if isinstance(model, SlackNotification):
        slack.send(client, webhook_url(env, model.url_env), message)
    elif isinstance(model, WebhookNotification):
        key = secret(env, model.secret_env) if model.secret_env else None
        webhook.send(client, webhook_url(env, model.url_env), key, message, now)
    else:
        mail.send(model, message, env, now)
    return None


def deliver(
    messages: Sequence[Message],
    configs: Mapping[tuple[str, str], ChannelModel],
    env: Mapping[str, str],
    now: datetime,
) -> Iterator[Delivery]:
    """Send each message once, yielding what became of it before the next is sent (the
    outbox records it first); a failure of one does not stop the others."""
    last_slack: dict[str, float] = {}
    with http.client() as client:
        for message in messages:
            model = configs.get((message.pipeline_id, message.channel))
            if model is None:
                error = "the channel is no longer configured for this pipeline"
                yield Delivery(message=message, outcome="failed", error=error)
                continue
            if isinstance(model, SlackNotification):
                # Slack takes about one message a second per webhook
                since = time.monotonic() - last_slack.get(model.url_env, float("-inf"))
                if since < SLACK_SPACING:
                    time.sleep(SLACK_SPACING - since)
                last_slack[model.url_env] = time.monotonic()
            try:
                text = _send(client, model, message, env, now)
            except TransientError as exc:
                yield Delivery(
                    message=message,
                    outcome="pending",
                    error=masking.mask(str(exc)),
                    retry_after=exc.delay,
                )
            except (PermanentError, ReconcilerError) as exc:
                yield Delivery(message=message, outcome="failed", error=masking.mask(str(exc)))
            except Exception as exc:  # a bug must not lose the pass; retried later
                error = f"internal error: {type(exc).__name__}"
                yield Delivery(message=message, outcome="pending", error=error)
            else:
                yield Delivery(message=message, outcome="sent", text=text)
