"""The ``stdout`` channel: one line per message in apply's output (``notify: ...``)."""

from __future__ import annotations

from reconciler.notify.messages import Message

LINE_LIMIT = 2000


def line(message: Message) -> str:
    text = message.one_line()
    return text if len(text) <= LINE_LIMIT else text[: LINE_LIMIT - 3] + "..."
