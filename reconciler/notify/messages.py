"""Grouping recorded notifications into messages, and the words of each event.

Rows of one pipeline, event and channel claimed together become one message (40
failed dates make one message, not 40); a ``backfill_complete`` digest is one message
per request. The text is plain; each channel dresses it (Slack blocks, HTML, JSON).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reconciler.state.notification_rows import NotificationRow

NextDate = Callable[[date], date | None]
RANGES_SHOWN = 8  # date ranges written out in one line before "+N more"
GROUPS_SHOWN = 5  # lines of distinct errors (or check results) in one message


def next_day(d: date) -> date | None:
    return d + timedelta(days=1)


def ranges(dates: Iterable[date], following: NextDate = next_day) -> str:
    """``2026-03-01..2026-03-31 (31 dates), 2026-04-02`` for consecutive scheduled dates."""
    runs: list[list[date]] = []
    for d in sorted(set(dates)):
        if runs and following(runs[-1][-1]) == d:
            runs[-1].append(d)
        else:
            runs.append([d])

    def one(run: list[date]) -> str:
        if len(run) == 1:
            return run[0].isoformat()
        return f"{run[0].isoformat()}..{run[-1].isoformat()} ({len(run)} dates)"

    text = ", ".join(one(r) for r in runs[:RANGES_SHOWN])
    if len(runs) > RANGES_SHOWN:
        rest = sum(len(r) for r in runs[RANGES_SHOWN:])
        text += f", +{rest} more dates"
    return text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _when(text: str | None, zone: str | None = None) -> str:
    """``2026-12-01 09:00 America/New_York (14:00 UTC)``, or just UTC."""
    if not text:
        return "?"
    try:
        instant = datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        return text
    utc_text = instant.strftime("%Y-%m-%d %H:%M UTC")
    if not zone or zone == "UTC":
        return utc_text
    try:
        local = instant.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return utc_text
    return f"{local:%Y-%m-%d %H:%M} {zone} ({instant:%H:%M} UTC)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """One message to one channel, standing for one or more recorded notifications."""

    pipeline_id: str
    pipeline_name: str
    event: str
    channel: str
    title: str
    lines: tuple[str, ...]
    rows: tuple[NotificationRow, ...]

    @property
    def ids(self) -> list[str]:
        return [r.notification_id for r in self.rows]

    @property
    def dates(self) -> list[date]:
        return sorted({r.run_date for r in self.rows if r.run_date is not None})

    @property
    def delivery_id(self) -> str:
        """Stable for the same notifications, so a receiver can spot a repeat."""
        joined = ",".join(sorted(self.ids))
        return hashlib.sha256(joined.encode()).hexdigest()[:32]

    def one_line(self) -> str:
        return f"[{self.event}] {self.title}" + (
            f" - {'; '.join(self.lines)}" if self.lines else ""
        )


def _grouped(
    groups: Mapping[tuple[Any, ...], list[date]],
    line: Callable[[tuple[Any, ...], str], str],
    following: NextDate,
    what: str,
) -> tuple[str, ...]:
    """A line per group, the largest first; past ``GROUPS_SHOWN``, one line for the rest."""
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), min(kv[1], default=date.min)))
    lines = [line(k, ranges(v, following)) for k, v in ordered[:GROUPS_SHOWN]]
    rest = [d for _, v in ordered[GROUPS_SHOWN:] for d in v]
    if rest:
        lines.append(f"and {_plural(len(rest), 'more date')} with other {what}: "
                     f"{ranges(rest, following)}")  # fmt: skip
    return tuple(lines)


def _group_lines(
    rows: Sequence[NotificationRow],
    key: Callable[[NotificationRow], tuple[Any, ...]],
    line: Callable[[tuple[Any, ...], str], str],
    following: NextDate,
) -> tuple[str, ...]:
    groups: dict[tuple[Any, ...], list[date]] = {}
    for r in rows:
        groups.setdefault(key(r), []).extend([r.run_date] if r.run_date else [])
    return _grouped(groups, line, following, "errors")


def _failure(rows: Sequence[NotificationRow], following: NextDate) -> tuple[str, tuple[str, ...]]:
    title = f"{_plural(len(rows), 'date')} failed and will not be retried"

    def key(r: NotificationRow) -> tuple[Any, ...]:
        return (r.details.get("error") or "no error message", r.details.get("attempts"))

    def line(k: tuple[Any, ...], dates: str) -> str:
        tries = f" after {_plural(k[1], 'attempt')}" if k[1] else ""
        return f"{dates}{tries}: {k[0]}"

    return title, _group_lines(rows, key, line, following)


def _breach(rows: Sequence[NotificationRow], following: NextDate) -> tuple[str, tuple[str, ...]]:
    title = f"SLA missed for {_plural(len(rows), 'date')}"
    if len(rows) <= 5:
        lines = tuple(
            f"{r.run_date}: deadline {_when(r.details.get('deadline'), r.details.get('timezone'))}"
            " passed without a "
            "successful run"
            for r in rows
        )
        return title, lines
    deadlines = sorted(str(r.details.get("deadline")) for r in rows)
    dates = ranges([r.run_date for r in rows if r.run_date], following)
    line = (
        f"{dates}: deadlines passed without a successful run (from {_when(deadlines[0])} "
        f"to {_when(deadlines[-1])})"
    )
    return title, (line,)


def _quality(rows: Sequence[NotificationRow], following: NextDate) -> tuple[str, tuple[str, ...]]:
    title = f"quality checks failed for {_plural(len(rows), 'date')}"
    groups: dict[tuple[Any, ...], list[date]] = {}
    for r in rows:
        for check in r.details.get("checks", []):
            key = (check.get("summary"), check.get("on_fail"))
            groups.setdefault(key, []).extend([r.run_date] if r.run_date else [])

    def line(key: tuple[Any, ...], dates: str) -> str:
        summary, on_fail = key
        effect = (
            "the run counts as failed and is retried by policy"
            if on_fail == "fail"
            else "a warning; the dates count as covered"
        )
        return f"{dates}: {summary} ({effect})"

    return title, _grouped(groups, line, following, "check results")


def _success(rows: Sequence[NotificationRow], following: NextDate) -> tuple[str, tuple[str, ...]]:
    dates = [r.run_date for r in rows if r.run_date]
    return f"{_plural(len(rows), 'date')} succeeded", (ranges(dates, following),)


def _complete(rows: Sequence[NotificationRow], following: NextDate) -> tuple[str, tuple[str, ...]]:
    d = rows[0].details
    title = (
        f"backfill {d.get('request_id')} complete: {_plural(int(d.get('dates', 0)), 'date')}, "
        f"{d.get('succeeded', 0)} succeeded, {d.get('failed', 0)} failed"
    )
    lines = [f"requested {d.get('from')}..{d.get('to')}"]
    if d.get("reason"):
        lines.append(f"reason: {d['reason']}")
    failed = [date.fromisoformat(x) for x in d.get("failed_dates", [])]
    if failed:
        lines.append(f"failed: {ranges(failed, following)}")
    return title, tuple(lines)


_WORDS = {
    "failure": _failure,
    "sla_breach": _breach,
    "quality_failure": _quality,
    "success": _success,
    "backfill_complete": _complete,
}


def build_messages(
    rows: Sequence[NotificationRow],
    names: Mapping[str, str],
    following: Mapping[str, NextDate],
) -> list[Message]:
    """Claimed rows grouped by (pipeline, event, channel), digests by request."""
    groups: dict[tuple[str, str, str, str], list[NotificationRow]] = {}
    for r in rows:
        request = str(r.details.get("request_id", "")) if r.event == "backfill_complete" else ""
        groups.setdefault((r.pipeline_id, r.event, r.channel, request), []).append(r)
    out: list[Message] = []
    for (pid, event, channel, _), members in groups.items():
        members.sort(key=lambda r: (r.run_date or date.min, r.notification_id))
        words = _WORDS.get(event)
        title, lines = words(members, following.get(pid, next_day)) if words else (event, ())
        name = names.get(pid, pid)
        out.append(
            Message(
                pipeline_id=pid,
                pipeline_name=name,
                event=event,
                channel=channel,
                title=f"{pid}: {title}",
                lines=lines,
                rows=tuple(members),
            )
        )
    return out
