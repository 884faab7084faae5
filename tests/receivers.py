"""Receivers for notification tests: webhook and Slack-like HTTP servers, and SMTP.

Everything listens on 127.0.0.1 in a thread of the test process, records what it got
and can be told to fail:

- ``HookReceiver("webhook")`` accepts any POST (200, empty body);
  ``HookReceiver("slack")`` checks payloads as Slack does (``text`` or ``blocks``, at
  most 50 blocks, sections of at most 3,000 characters) and answers ``ok``, or 400
  ``invalid_payload`` / ``no_text`` / ``invalid_blocks``.
  ``fail_next(status, body, retry_after=..., times=n)`` queues refusals (403
  ``invalid_token``, 500, 429 with ``Retry-After``); ``stop()`` closes the port
  (connections are refused) and ``start()`` listens on it again.
- ``SmtpReceiver`` is an aiosmtpd server: STARTTLS with a certificate of a throw-away
  CA (``ca_file`` for ``SSL_CERT_FILE``), optional login, or no STARTTLS at all.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

TOKEN = "T0SECRET/B0SECRET/xoxb-not-a-real-secret-4f9a"  # looks like a Slack webhook path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Refusal:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


def _slack_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return "invalid_payload"
    blocks = payload.get("blocks") or []
    if not payload.get("text") and not blocks:
        return "no_text"
    if not isinstance(blocks, list) or len(blocks) > 50:
        return "invalid_blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "") if isinstance(block, dict) else ""
        if block.get("type") == "section" and len(text) > 3000:
            return "invalid_blocks"
    return None


class HookReceiver:
    """A webhook (or Slack incoming-webhook) endpoint on 127.0.0.1."""

    def __init__(self, kind: Literal["webhook", "slack"] = "webhook") -> None:
        self.kind = kind
        self.port = free_port()
        self.received: list[Received] = []
        self.refused: list[Received] = []
        self._refusals: deque[_Refusal] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The webhook URL; its path is a secret, as Slack's are."""
        return f"http://127.0.0.1:{self.port}/services/{TOKEN}"

    def fail_next(
        self, status: int, body: str = "", *, retry_after: int | None = None, times: int = 1
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._refusals.extend(_Refusal(status, body, headers) for _ in range(times))

    @property
    def payloads(self) -> list[Any]:
        return [r.json() for r in self.received]

    def start(self) -> HookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                got = Received(
                    self.path, {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )  # fmt: skip
                status, body, headers = receiver._answer(got)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def _answer(self, got: Received) -> tuple[int, str, dict[str, str]]:
        with self._lock:
            refusal = self._refusals.popleft() if self._refusals else None
            if refusal is not None:
                self.refused.append(got)
                return refusal.status, refusal.body, refusal.headers
            if self.kind == "slack":
                try:
                    problem = _slack_problem(got.json())
                except ValueError:
                    problem = "invalid_payload"
                if problem:
                    self.refused.append(got)
                    return 400, problem, {}
            self.received.append(got)
            return 200, "ok" if self.kind == "slack" else "", {}

    def stop(self) -> None:
        """Close the port: connections are refused until ``start()``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> HookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SmtpReceiver:
    """An SMTP server (aiosmtpd) recording the messages it accepts."""

    def __init__(
        self,
        tmp: Path,
        *,
        starttls: bool = True,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[tuple[str, bool]] = []  # (user, accepted)
        self.login = login
        self.starttls = starttls
        tmp.mkdir(parents=True, exist_ok=True)
        self.ca_file = tmp / "smtp-ca.pem"
        self._tls: ssl.SSLContext | None = None
        if starttls:
            import trustme

            ca = trustme.CA()
            cert = ca.issue_cert("127.0.0.1", "localhost")
            ca.cert_pem.write_to_path(str(self.ca_file))
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(self._tls)
        self._controller: Any = None

    def start(self) -> SmtpReceiver:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                receiver.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                receiver.messages.append(message_from_bytes(envelope.content))
                return "250 Message accepted for delivery"

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and receiver.login is not None
                and (data.login.decode(), data.password.decode()) == receiver.login
            )
            user = data.login.decode() if isinstance(data, LoginPassword) else "?"
            receiver.logins.append((user, ok))
            return AuthResult(success=ok, handled=False)

        kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": self.port}
        if self._tls is not None:
            kwargs |= {"tls_context": self._tls, "require_starttls": True}
        if self.login is not None:
            kwargs |= {"authenticator": authenticate, "auth_require_tls": self.starttls}
        self._controller = Controller(Handler(), **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
