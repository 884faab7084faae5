"""What every test server shares: a threaded HTTP/1.1 server on 127.0.0.1, routes, a
ledger of what was really created, switchable faults and timed runs.

A request goes through, in order: the control routes (``/_control/...``, no auth, no
faults), the fault plan, the platform's auth check, the route's handler (which may
create something: the side effect), and the post-reply faults. Faults:

==============  ====================================================================
``429``         429 with ``Retry-After`` (``retry_after`` seconds), nothing done
``503``         503 with ``Retry-After``, nothing done
``empty500``    500 with an empty body, nothing done
``html502``     502 with an HTML page (a proxy's), nothing done
``drop``        the handler runs (a run may be created), then the connection is closed
                without a reply
``slow``        the handler runs, then the reply waits ``slow_seconds`` (past the
                client's timeout)
==============  ====================================================================

Faults come from a queue (``fail_next``) or at random (``fail_rate``, ``fault_kinds``).
Runs end after ``run_seconds`` with the outcome set for their run date (``outcomes``)
or the default: ``success``, ``fail``, ``skip``, ``cancel``, ``timeout`` or ``hang``
(never ends). A cancel request ends a running run at once as ``cancel``; one that has
ended stays as it ended.

Control routes (JSON): ``GET /_control/ledger``, ``POST /_control/faults`` (keys
``fail_rate``, ``fault_kinds``, ``retry_after``, ``slow_seconds``, ``fail_next``),
``POST /_control/runs`` (``run_seconds``, ``default_outcome``, ``outcomes``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PRE_FAULTS = ("429", "503", "empty500", "html502")
POST_FAULTS = ("drop", "slow")
FAULTS = PRE_FAULTS + POST_FAULTS
OUTCOMES = ("success", "fail", "skip", "cancel", "timeout", "hang")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HTML_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    raw: bytes
    match: re.Match[str]

    def json(self) -> Any:
        return json.loads(self.raw or b"null")


@dataclass
class Reply:
    status: int
    body: Any = None  # dict/list -> JSON; str -> text; None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = ""  # "": JSON for dicts and lists, plain text for strings


Handler = Callable[[Request], Reply]


@dataclass
class Run:
    """A run the server made: when it ends and how."""

    run_id: str
    created: float
    outcome: str
    seconds: float
    date: str | None
    info: dict[str, Any] = field(default_factory=dict)
    cancelled: bool = False
    cancelled_at: float | None = None

    def cancel(self) -> bool:
        """Stop the run if it is running (a cancel request); whether it is cancelled now."""
        if self.phase() == "running":
            self.cancelled, self.cancelled_at = True, time.time()
        return self.cancelled

    def phase(self, now: float | None = None) -> str:
        """'running' or the outcome once ``seconds`` have passed (a hang never ends)."""
        if self.cancelled:
            return "cancel"
        now = time.time() if now is None else now
        if self.outcome == "hang" or now - self.created < self.seconds:
            return "running"
        return self.outcome

    def ended_at(self) -> float:
        if self.cancelled_at is not None:
            return self.cancelled_at
        return self.created + self.seconds


class ApiServer:
    """Base of the platform servers; subclasses add routes in ``routes()`` and ``authorize``."""

    name = "api"

    def __init__(
        self, port: int = 0, token: str | None = "test-token", *, seed: int | None = None
    ) -> None:
        self.token = token
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        # faults
        self.fail_rate = 0.0
        self.fault_kinds: list[str] = list(FAULTS)
        self.fail_next: list[tuple[str | None, str]] = []  # (route name or None, fault)
        self.retry_after = 1
        self.slow_seconds = 2.0
        # runs
        self.run_seconds = 0.5
        self.default_outcome = "success"
        self.outcomes: dict[str, str] = {}
        self.runs: dict[str, Run] = {}
        # the ledger
        self.created: list[dict[str, Any]] = []
        self.requests: Counter[str] = Counter()
        self.faults_served: Counter[str] = Counter()
        self.seen_headers: list[dict[str, str]] = []
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        self.routes()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- set-up -------------------------------------------------------------------

    def routes(self) -> None:
        raise NotImplementedError

    def route(self, method: str, pattern: str, name: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern + r"$"), name, handler))

    def authorize(self, request: Request) -> Reply | None:
        """None when the request may go on; else the platform's refusal."""
        return None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> ApiServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- runs -----------------------------------------------------------------------

    def new_run(self, run_id: str, date: str | None, **info: Any) -> Run:
        """Record a created run in the ledger; its outcome is the one set for its date."""
        with self.lock:
            outcome = self.outcomes.get(date or "", self.default_outcome)
            run = Run(run_id, time.time(), outcome, self.run_seconds, date, dict(info))
            self.runs[run_id] = run
            self.created.append({"run_id": run_id, "date": date, "at": run.created, **info})
            return run

    def created_by(self, key: str) -> Counter[Any]:
        """How many runs were created per value of ledger field ``key``."""
        with self.lock:
            return Counter(entry.get(key) for entry in self.created)

    def ledger(self) -> dict[str, Any]:
        with self.lock:
            return {
                "created": list(self.created),
                "requests": dict(self.requests),
                "faults": dict(self.faults_served),
            }

    # --- faults ---------------------------------------------------------------------

    def fail(self, fault: str, route: str | None = None, times: int = 1) -> None:
        """Queue ``fault`` for the next ``times`` requests (of ``route``, if named)."""
        assert fault in FAULTS, fault
        with self.lock:
            self.fail_next += [(route, fault)] * times

    def _take_fault(self, route: str) -> str | None:
        with self.lock:
            for index, (name, fault) in enumerate(self.fail_next):
                if name is None or name == route:
                    del self.fail_next[index]
                    return fault
            if self.fail_rate and self.rng.random() < self.fail_rate:
                return self.rng.choice(self.fault_kinds)
        return None

    def fault_reply(self, fault: str) -> Reply:
        if fault == "429":
            return Reply(
                429, self.error_body(429, "rate limited"), {"Retry-After": str(self.retry_after)}
            )
        if fault == "503":
            return Reply(
                503,
                self.error_body(503, "temporarily unavailable"),
                {"Retry-After": str(self.retry_after)},
            )
        if fault == "empty500":
            return Reply(500, None)
        return Reply(502, HTML_PAGE, content_type="text/html")

    def error_body(self, status: int, message: str) -> Any:
        """The platform's error envelope; subclasses override."""
        return {"message": message}

    # --- control --------------------------------------------------------------------

    def _control(self, method: str, path: str, body: Any) -> Reply:
        with self.lock:
            if method == "GET" and path == "/_control/ledger":
                return Reply(200, self.ledger())
            if method == "POST" and path == "/_control/faults":
                self.fail_rate = float(body.get("fail_rate", self.fail_rate))
                self.fault_kinds = list(body.get("fault_kinds", self.fault_kinds))
                self.retry_after = int(body.get("retry_after", self.retry_after))
                self.slow_seconds = float(body.get("slow_seconds", self.slow_seconds))
                for item in body.get("fail_next", []):
                    self.fail(item["fault"], item.get("route"), int(item.get("times", 1)))
                return Reply(200, {"ok": True})
            if method == "POST" and path == "/_control/runs":
                self.run_seconds = float(body.get("run_seconds", self.run_seconds))
                self.default_outcome = body.get("default_outcome", self.default_outcome)
                self.outcomes.update(body.get("outcomes", {}))
                return Reply(200, {"ok": True})
        return Reply(404, {"message": f"no control route {method} {path}"})

    # --- the request cycle ------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                server._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        return _Handler

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        if parts.path.startswith("/_control/"):
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            self._send(h, self._control(h.command, parts.path, body))
            return
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in h.headers.items()}
        for method, pattern, name, handler in self._routes:
            match = pattern.match(parts.path)
            if match is None or method != h.command:
                continue
            with self.lock:
                self.requests[name] += 1
                self.seen_headers.append(headers)
                del self.seen_headers[:-50]
            fault = self._take_fault(name)
            if fault in PRE_FAULTS:
                with self.lock:
                    self.faults_served[fault] += 1
                self._send(h, self.fault_reply(fault))
                return
            request = Request(h.command, parts.path, query, headers, raw, match)
            reply = self.authorize(request) or self._call(handler, request)
            if fault == "drop":
                with self.lock:
                    self.faults_served[fault] += 1
                h.close_connection = True
                with contextlib.suppress(OSError):
                    h.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault == "slow":
                with self.lock:
                    self.faults_served[fault] += 1
                time.sleep(self.slow_seconds)
            self._send(h, reply)
            return
        self._send(h, self.not_found(h.command, parts.path))

    def _call(self, handler: Handler, request: Request) -> Reply:
        try:
            return handler(request)
        except (ValueError, KeyError, TypeError) as exc:
            return Reply(400, self.error_body(400, f"malformed request: {exc}"))

    def not_found(self, method: str, path: str) -> Reply:
        return Reply(404, self.error_body(404, f"no route {method} {path}"))

    def _send(self, h: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.body is None:
            data = b""
        elif isinstance(reply.body, str):
            data = reply.body.encode()
        else:
            data = json.dumps(reply.body).encode()
        try:
            h.send_response(reply.status)
            if data:
                plain = "text/plain; charset=utf-8" if isinstance(reply.body, str) else ""
                h.send_header("Content-Type", reply.content_type or plain or "application/json")
            h.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                h.send_header(name, value)
            h.end_headers()
            h.wfile.write(data)
            h.wfile.flush()
        except OSError:  # the client gave up (it timed out): nothing to do
            h.close_connection = True


def bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token if scheme.lower() in ("bearer", "token") and token else None


def main(server_class: type[ApiServer], description: str) -> None:
    """``python -m tests.servers.<name> --port N``: serve until interrupted."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default="test-token", help="the token clients must send")
    parser.add_argument("--run-seconds", type=float, default=5.0, help="how long runs take")
    parser.add_argument("--outcome", choices=OUTCOMES, default="success")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of calls that fail")
    parser.add_argument("--faults", default=",".join(FAULTS), help="fault kinds to draw from")
    args = parser.parse_args()
    server = server_class(args.port, args.token)
    server.run_seconds = args.run_seconds
    server.default_outcome = args.outcome
    server.fail_rate = args.fail_rate
    server.fault_kinds = [f for f in args.faults.split(",") if f]
    print(f"{server.name} test server on {server.url} (token {args.token!r}); ^C stops", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()
        print(json.dumps(server.ledger()["requests"]))
