"""``run --metrics-addr``: /metrics, /healthz and /readyz on a thread of the process.

Ready means: the last pass ended within three intervals and could reach the state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

READY_INTERVALS = 3  # a pass older than this many intervals makes the process unready


@dataclass(slots=True)
class Readiness:
    """What /readyz answers from: when the last pass ended, and whether it saw the state."""

    interval: float
    monotonic: Callable[[], float] = time.monotonic
    last_end: float | None = None
    reachable: bool = False
    reason: str = "no pass has ended yet"
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def pass_ended(self, reachable: bool, reason: str = "") -> None:
        with self._lock:
            self.last_end = self.monotonic()
            self.reachable = reachable
            self.reason = reason

    def check(self) -> tuple[bool, str]:
        """Whether the process is ready, and why not."""
        with self._lock:
            if self.last_end is None:
                return False, self.reason
            age = self.monotonic() - self.last_end
            if age > READY_INTERVALS * self.interval:
                return False, f"the last pass ended {age:.0f}s ago"
            if not self.reachable:
                return False, f"the state is unreachable: {self.reason}"
            return True, "ready"


def parse_address(text: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9108`` for IPv6); ValueError naming what is wrong."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected host:port such as 127.0.0.1:9108, found {text!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def _handler(registry: CollectorRegistry, readiness: Readiness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                from prometheus_client.exposition import choose_encoder

                encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
                self._send(200, encoder(registry), content_type)
            elif path == "/healthz":
                self._send(200, b"ok\n")
            elif path == "/readyz":
                ready, why = readiness.check()
                self._send(200 if ready else 503, f"{why}\n".encode())
            else:
                self._send(404, b"not found: try /metrics, /healthz or /readyz\n")

        def _send(self, code: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # scrapes are not events of the reconciler

    return Handler


class HealthServer:
    """The HTTP server on a daemon thread; ``close`` stops it."""

    def __init__(self, address: tuple[str, int], registry: CollectorRegistry, readiness: Readiness):
        self.server = ThreadingHTTPServer(address, _handler(registry, readiness))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> HealthServer:
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
