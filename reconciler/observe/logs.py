"""``--log-format json``: every line on stderr one JSON object, every value masked.

Library code logs events through the stdlib ``logging`` (``reconciler.observe.events``);
in JSON mode a handler on the ``reconciler`` logger writes one object per event, and
whatever else a command writes to stderr (warnings, the one-line error) is wrapped into
an object of its own, so that a log shipper never meets a bare line. The text mode,
the default, leaves stderr as it was. The stdlib is enough here: a formatter is twenty
lines, and every value must pass ``masking.mask_data`` before it is encoded anyway.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from datetime import UTC, date, datetime
from typing import Any, TextIO

from reconciler.log_events import FIELDS
from reconciler.masking import mask_data

LOG_FORMATS = ("text", "json")
ROOT_LOGGER = "reconciler"
# the keys every JSON line has; an event adds the FIELDS it knows
BASE_KEYS = ("ts", "level", "logger", "event", "message")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def json_line(record: logging.LogRecord) -> str:
    """The record as one masked JSON object (no newline)."""
    data: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "event": getattr(record, "event", None) or "log",
        "message": record.getMessage(),
    }
    for key in FIELDS:
        if key in record.__dict__:
            data[key] = _plain(record.__dict__[key])
    if record.exc_info and record.exc_info[1] is not None:
        data["error"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
    # masked before encoding: JSON escapes a secret's quotes and accents
    return json.dumps(mask_data(data), ensure_ascii=False, default=str)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json_line(record)


class JsonLinesStream(io.TextIOBase):
    """Wraps stderr: each line written to it becomes ``{"event": "stderr", ...}``."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text.replace("\r", "\n")
            *lines, self._pending = self._pending.split("\n")
            for line in lines:
                if line.strip():
                    self._line(line)
        return len(text)

    def _line(self, line: str) -> None:
        level = "error" if line.startswith("Error:") else "warning"
        record = logging.LogRecord("reconciler.cli", logging.WARNING, "", 0, line, None, None)
        record.levelname = level.upper()
        record.event = "stderr"
        self.inner.write(json_line(record) + "\n")

    def flush(self) -> None:
        with self._lock:
            if self._pending.strip():
                self._line(self._pending)
            self._pending = ""
        self.inner.flush()

    def isatty(self) -> bool:
        return False  # a terminal's live progress line is not a log event

    def writable(self) -> bool:
        return True


class LogSetup:
    """What ``configure`` changed, to undo at the command's end (tests run many in one
    process)."""

    def __init__(self, handler: logging.Handler | None, level: int, propagate: bool) -> None:
        self.handler = handler
        self.level = level
        self.propagate = propagate

    def undo(self) -> None:
        logger = logging.getLogger(ROOT_LOGGER)
        if self.handler is not None:
            logger.removeHandler(self.handler)
        logger.setLevel(self.level)
        logger.propagate = self.propagate


def configure(fmt: str, stream: TextIO) -> LogSetup:
    """In JSON mode, events at INFO and above go to ``stream`` as JSON lines."""
    logger = logging.getLogger(ROOT_LOGGER)
    setup = LogSetup(None, logger.level, logger.propagate)
    if fmt == "json":
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter())
        handler.setLevel(logging.INFO)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        setup.handler = handler
    return setup
