"""E-mail over SMTP: STARTTLS before anything else, login from environment variables.

With ``starttls: true`` (the default) a server that does not offer STARTTLS, or
refuses it, gets nothing: credentials and content never travel in clear. Messages
are ``multipart/alternative``: plain text and HTML. 4xx replies and lost connections
are retried later; 5xx replies, refused logins and refused TLS are final.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from reconciler import masking
from reconciler.config.models import EmailNotification
from reconciler.errors import PermanentError, TransientError
from reconciler.notify.messages import Message

TIMEOUT = 10.0


def build(message: Message, model: EmailNotification, now: datetime) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = f"[reconciler] [{message.event}] {message.title}"
    mail["From"] = model.from_
    mail["To"] = ", ".join(model.to)
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = make_msgid("reconciler")
    mail["X-Reconciler-Delivery"] = message.delivery_id
    plain = "\n".join(
        [message.title, "", *(f"- {line}" for line in message.lines), "", "-- backfill-reconciler"]
    )
    items = "".join(f"<li>{html.escape(line)}</li>" for line in message.lines)
    page = (
        f"<html><body><h3>{html.escape(message.title)}</h3>"
        f"<p>Event: <b>{html.escape(message.event)}</b> &middot; pipeline "
        f"<b>{html.escape(message.pipeline_name)}</b></p><ul>{items}</ul>"
        '<p style="color:#888">backfill-reconciler</p></body></html>'
    )
    mail.set_content(plain)
    mail.add_alternative(page, subtype="html")
    return mail


def _credentials(model: EmailNotification, env: Mapping[str, str]) -> tuple[str, str] | None:
    def read(name: str) -> str:
        value = env.get(name)
        if not value:  # fixable in the environment: tried again later
            raise TransientError(f"environment variable {name} is not set")
        return value

    if model.username_env is None and model.password_env is None:
        return None
    user = read(model.username_env) if model.username_env else model.from_
    password = read(model.password_env) if model.password_env else ""
    masking.register(password, user=user)  # (AUTH PLAIN and LOGIN send it base64-encoded)
    masking.register(f"\0{user}\0{password}")
    return user, password


def _code(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
    return f"{exc.smtp_code} {' '.join(text.split())[:120]}".strip()


def send(
    model: EmailNotification,
    message: Message,
    env: Mapping[str, str],
    now: datetime,
    context: ssl.SSLContext | None = None,
) -> None:
    """Deliver one message; ``TransientError``/``PermanentError`` say what went wrong."""
    login = _credentials(model, env)
    mail = build(message, model, now)
    where = f"{model.smtp_host}:{model.smtp_port}"
    try:
        with smtplib.SMTP(model.smtp_host, model.smtp_port, timeout=TIMEOUT) as smtp:
            smtp.ehlo()
            if model.starttls:
                if not smtp.has_extn("starttls"):
                    raise PermanentError(
                        f"SMTP server {where} does not offer STARTTLS; nothing sent "
                        "(set starttls: false only for a server that cannot do TLS)"
                    )
                smtp.starttls(context=context or ssl.create_default_context())
                smtp.ehlo()
            if login is not None:
                smtp.login(*login)
            smtp.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        raise PermanentError(f"SMTP login to {where} refused ({exc.smtp_code})") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise PermanentError(f"SMTP server {where}: {exc}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError(f"SMTP server {where} refused every recipient") from exc
    except smtplib.SMTPResponseException as exc:
        error = f"SMTP server {where} replied {_code(exc)}"
        if 400 <= exc.smtp_code < 500:
            raise TransientError(error) from exc
        raise PermanentError(error) from exc
    except ssl.SSLError as exc:
        raise PermanentError(f"TLS with {where} failed: {exc.reason or exc}") from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise TransientError(f"SMTP server {where}: {type(exc).__name__}: {exc}") from exc
