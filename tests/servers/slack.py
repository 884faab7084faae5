"""A Slack incoming-webhook test server: ``POST /services/T.../B.../<secret>``, plain-text replies.

200 ``ok``; 400 ``invalid_payload`` (not JSON), ``no_text`` (neither text nor blocks),
``invalid_blocks`` (over 50 blocks, or a section over 3,000 characters); 404
``no_service`` for an unknown webhook path; 410 ``channel_is_archived`` for a path in
``archived``. Faults reply as Slack does, in plain text (429 with ``Retry-After``).

Run by hand: ``python -m tests.servers.slack --port 8004`` (see README.md); the webhook
URL is ``http://127.0.0.1:8004/services/T000/B000/<token>``.
"""

from __future__ import annotations

from typing import Any

from tests.servers.base import ApiServer, Reply, Request, main

WEBHOOK = r"/services/(?P<team>[A-Z0-9]+)/(?P<bot>[A-Z0-9]+)/(?P<secret>[A-Za-z0-9_-]+)"


class SlackServer(ApiServer):
    name = "slack"

    def __init__(self, port: int = 0, token: str | None = "test-token", **kw: Any) -> None:
        self.archived: set[str] = set()  # webhook secrets whose channel is archived
        self.messages: list[dict[str, Any]] = []
        super().__init__(port, token, **kw)

    def webhook_url(self, secret: str | None = None) -> str:
        return f"{self.url}/services/T000/B000/{secret or self.token}"

    def routes(self) -> None:
        self.route("POST", WEBHOOK, "webhook", self.post)

    def error_body(self, status: int, message: str) -> Any:
        return {429: "rate_limited", 503: "service_unavailable"}.get(status, "rollup_error")

    def post(self, request: Request) -> Reply:
        secret = request.match["secret"]
        if self.token is not None and secret != self.token:
            return Reply(404, "no_service")
        if secret in self.archived:
            return Reply(410, "channel_is_archived")
        try:
            body = request.json()
        except ValueError:
            return Reply(400, "invalid_payload")
        if not isinstance(body, dict):
            return Reply(400, "invalid_payload")
        blocks = body.get("blocks") or []
        if not body.get("text") and not blocks:
            return Reply(400, "no_text")
        if not isinstance(blocks, list) or len(blocks) > 50:
            return Reply(400, "invalid_blocks")
        for block in blocks:
            text = ((block or {}).get("text") or {}).get("text", "")
            if block.get("type") == "section" and len(text) > 3000:
                return Reply(400, "invalid_blocks")
        with self.lock:
            self.messages.append(body)
            self.created.append({"text": body.get("text"), "blocks": len(blocks)})
        return Reply(200, "ok")


if __name__ == "__main__":
    main(SlackServer, "A Slack incoming-webhook test server on 127.0.0.1.")
