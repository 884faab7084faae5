"""Servers that echo secrets back in their errors, as real ones sometimes do.

- ``EchoServer``: any HTTP request is refused (401 for platform calls, 404 for a
  webhook POST) with a body that repeats the credential it got (verbatim, base64,
  cut short) and the request path (verbatim and percent-encoded): ``Cannot POST
  /services/T0/B0/secret``. The body carries Databricks', dbt Cloud's and
  Snowflake's error fields, so each adapter finds its message in it.
- ``EchoSmtp``: an SMTP server (no TLS) that accepts ``AUTH PLAIN`` and then refuses
  the sender with a temporary error repeating the base64 credentials it was given.
"""

from __future__ import annotations

import base64
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

from receivers import free_port


def _echo(request: BaseHTTPRequestHandler) -> tuple[int, str]:
    auth = request.headers.get("Authorization", "")
    token = auth.split(" ", 1)[1] if " " in auth else auth
    if token:
        b64 = base64.b64encode(token.encode()).decode()
        message = (
            f"invalid credentials {auth!r} (base64 {b64}, token starting {token[:12]}...) "
            f"for {request.path}"
        )
        body = {
            "error_code": "PERMISSION_DENIED",
            "message": message,
            "status": {"code": 401, "is_success": False, "user_message": message},
            "code": "390303",
            "sqlState": "08001",
        }
        return 401, json.dumps(body)
    return 404, f"Cannot {request.command} {request.path} ({quote(request.path, safe='')})"


class EchoServer:
    """Every request refused with the credential and path it came with."""

    def __init__(self) -> None:
        self.port = free_port()
        self.paths: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EchoServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                owner.paths.append(self.path)
                status, text = _echo(self)
                data = text.encode()
                self.send_response(status)
                kind = "application/json" if text.startswith("{") else "text/plain"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class EchoSmtp:
    """Takes ``AUTH PLAIN``, then refuses ``MAIL FROM`` repeating the credentials (451)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.auth: list[str] = []
        self._server: socketserver.ThreadingTCPServer | None = None

    def start(self) -> EchoSmtp:
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                credentials = ""
                self.wfile.write(b"220 echo ESMTP\r\n")
                for raw in self.rfile:
                    line = raw.decode(errors="replace").strip()
                    verb = line.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        self.wfile.write(b"250-echo\r\n250 AUTH PLAIN\r\n")
                    elif verb == "AUTH":
                        credentials = line.split(" ")[-1]
                        owner.auth.append(credentials)
                        self.wfile.write(b"235 2.7.0 accepted\r\n")
                    elif verb == "MAIL":
                        reply = f"451 4.3.0 session {credentials} is over quota\r\n"
                        self.wfile.write(reply.encode())
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
