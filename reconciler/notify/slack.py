"""Slack incoming webhooks: ``text`` (the fallback) plus blocks, within Slack's limits.

A message is a header, sections of ``mrkdwn`` lines (each at most 3,000 characters,
lines packed together) and a context line; at most 50 blocks, so a long message ends
with a section saying how many lines were left out. Slack answers ``ok``; 429 and 5xx
are retried later, other 4xx (``invalid_token``, ``channel_not_found``...) are final.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from reconciler.notify import http
from reconciler.notify.messages import Message

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
TEXT_LIMIT = 3000


def escape(text: str) -> str:
    """Slack's three control characters in ``mrkdwn`` and ``text``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sections(lines: list[str], room: int) -> list[str]:
    """Lines packed into at most ``room`` section texts of at most ``SECTION_LIMIT``."""
    texts: list[str] = []
    for i, raw in enumerate(lines):
        line = _clip(escape(f"• {raw}"), SECTION_LIMIT)
        if texts and len(texts[-1]) + 1 + len(line) <= SECTION_LIMIT:
            texts[-1] += "\n" + line
        elif len(texts) < room - 1 or (len(texts) == room - 1 and i == len(lines) - 1):
            texts.append(line)
        else:
            texts.append(f"… and {len(lines) - i} more line(s)")
            break
    return texts


def payload(message: Message) -> dict[str, Any]:
    """The JSON body for one message."""
    header = {
        "type": "header",
        "text": {"type": "plain_text", "text": _clip(message.title, HEADER_LIMIT)},
    }
    context = {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": escape(f"{message.event} · {message.pipeline_name} · backfill-reconciler"),
            }
        ],
    }
    sections = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        for text in _sections(list(message.lines), MAX_BLOCKS - 2)
    ]
    text = escape(f"[{message.event}] {message.title}\n" + "\n".join(message.lines))
    return {"text": _clip(text, TEXT_LIMIT), "blocks": [header, *sections, context]}


def send(client: httpx.Client, url: str, message: Message) -> None:
    body = json.dumps(payload(message)).encode()
    http.post(client, url, body, {"Content-Type": "application/json"})
