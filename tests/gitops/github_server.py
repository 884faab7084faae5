"""A local stand-in for GitHub's issue-comments REST API, on 127.0.0.1.

Speaks the shapes the sticky-comment script uses: ``GET
/repos/{owner}/{repo}/issues/{n}/comments`` (paginated with ``per_page``/``page`` and a
``Link`` header), ``POST`` to the same path (201 with the comment), and ``PATCH
/repos/{owner}/{repo}/issues/comments/{id}`` (200). Refuses bodies over 65,536
characters with 422, as GitHub does; with ``read_only`` every write answers 403
("Resource not accessible by integration"), as for a fork's pull request.

Comments carry ``user.login``: a comment the script posts is the token's user's
(``login``), and editing anyone else's answers 403, as GitHub does. ``GET /user`` answers
``{"login": ...}`` for a personal token (``user_endpoint``) and 403 otherwise, as it does
for a workflow's ``GITHUB_TOKEN`` (whose comments are ``github-actions[bot]``'s).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LIST = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
ONE = re.compile(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")
MAX_BODY = 65_536


@dataclass
class Fake:
    token: str = "t0ken"
    read_only: bool = False
    login: str = "github-actions[bot]"  # the token's user
    user_endpoint: bool = False  # GET /user answers (a personal token), else 403
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> comment
    requests: list[tuple[str, str]] = field(default_factory=list)
    next_id: int = 1000
    base: str = ""

    def add(self, repo: str, issue: int, body: str, login: str = "octocat") -> dict[str, Any]:
        self.next_id += 1
        comment = {
            "id": self.next_id,
            "body": body,
            "issue": (repo, issue),
            "html_url": f"https://github.example/{repo}/pull/{issue}#issuecomment-{self.next_id}",
            "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
        }
        self.comments[self.next_id] = comment
        return comment

    def of(self, repo: str, issue: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["issue"] == (repo, issue)]


def _public(comment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in comment.items() if k != "issue"}


class Handler(BaseHTTPRequestHandler):
    fake: Fake

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {self.fake.token}":
            self._send(401, {"message": "Bad credentials"})
            return False
        return True

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def _write_refused(self, body: Any) -> bool:
        if self.fake.read_only:
            self._send(403, {"message": "Resource not accessible by integration"})
            return True
        if not isinstance(body, dict) or not isinstance(body.get("body"), str):
            self._send(422, {"message": "Validation Failed"})
            return True
        if len(body["body"]) > MAX_BODY:
            self._send(422, {"message": "Validation Failed", "errors": ["body is too long"]})
            return True
        return False

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.fake.requests.append(("GET", self.path))
        match = LIST.match(url.path)
        if not self._authorized():
            return
        if url.path == "/user":
            if self.fake.user_endpoint:
                self._send(200, {"login": self.fake.login})
            else:
                self._send(403, {"message": "Resource not accessible by integration"})
            return
        if not match:
            self._send(404, {"message": "Not Found"})
            return
        query = parse_qs(url.query)
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        comments = self.fake.of(match.group(1), int(match.group(2)))
        chunk = comments[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(comments):
            nxt = f"{self.fake.base}{url.path}?per_page={per_page}&page={page + 1}"
            headers["Link"] = f'<{nxt}>; rel="next"'
        self._send(200, [_public(c) for c in chunk], headers)

    def do_POST(self) -> None:
        self.fake.requests.append(("POST", self.path))
        match = LIST.match(urlsplit(self.path).path)
        if not self._authorized():
            return
        body = self._body()
        if not match:
            self._send(404, {"message": "Not Found"})
            return
        if self._write_refused(body):
            return
        added = self.fake.add(match.group(1), int(match.group(2)), body["body"], self.fake.login)
        self._send(201, _public(added))

    def do_PATCH(self) -> None:
        self.fake.requests.append(("PATCH", self.path))
        match = ONE.match(urlsplit(self.path).path)
        if not self._authorized():
            return
        body = self._body()
        comment = self.fake.comments.get(int(match.group(2))) if match else None
        if comment is None:
            self._send(404, {"message": "Not Found"})
            return
        if self._write_refused(body):
            return
        if comment["user"]["login"] != self.fake.login:  # somebody else's comment
            self._send(403, {"message": "Resource not accessible by integration"})
            return
        comment["body"] = body["body"]
        self._send(200, _public(comment))


@contextmanager
def github(fake: Fake) -> Iterator[str]:
    """Serve ``fake`` on 127.0.0.1; yields the API base URL."""
    handler = type("BoundHandler", (Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake.base
    finally:
        server.shutdown()
        server.server_close()
