"""Date ranges as the JSON plan (version 3) writes them, and back (docs/plan-json.md).

A span is a stretch of a pipeline's consecutive scheduled dates. Where every span of an
entry steps by the same number of days (``every``: 1 for a daily schedule), each is
written ``[first, last]``; otherwise (several weekdays, monthly) each lists its dates.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from reconciler.core.plan_records import ActionGroup, UpstreamDates

ORDERS = {False: "oldest_first", True: "newest_first"}


def _step(span: Sequence[int]) -> int | None:
    """The days between the dates of a span of two or more, None when they differ."""
    if isinstance(span, range):
        return span.step
    steps = {b - a for a, b in itertools.pairwise(span)}
    return steps.pop() if len(steps) == 1 else None


def ranges_of(spans: Iterable[Sequence[int]]) -> tuple[int | None, list[list[str]]]:
    """``(every, ranges)`` of spans of ascending day ordinals."""
    spans = [s for s in spans if len(s)]
    steps = {_step(s) for s in spans if len(s) > 1}
    iso = date.isoformat
    day = date.fromordinal
    if len(steps) <= 1 and None not in steps:
        every = steps.pop() if steps else 1
        return every, [[iso(day(s[0])), iso(day(s[-1]))] for s in spans]
    return None, [[iso(day(o)) for o in s] for s in spans]


def spans_of(ranges: Sequence[Sequence[str]], every: int | None) -> tuple[Sequence[int], ...]:
    """The spans ``ranges`` (with ``every``) hold; ``ValueError`` for a malformed one."""
    out: list[Sequence[int]] = []
    for item in ranges:
        days = [date.fromisoformat(text).toordinal() for text in item]
        if not days:
            raise ValueError("an empty date range")
        if every is None:
            if any(b <= a for a, b in itertools.pairwise(days)):
                raise ValueError(f"dates out of order in {list(item)}")
            out.append(tuple(days))
            continue
        if len(days) != 2 or every < 1 or days[1] < days[0] or (days[1] - days[0]) % every:
            raise ValueError(f"range {list(item)} does not step by {every} day(s)")
        out.append(range(days[0], days[1] + 1, every))
    return tuple(out)


def run_count(spans: Iterable[Sequence[int]], batch: int) -> int:
    """How many runs spans cut into runs of at most ``batch`` dates make."""
    return sum(-(-len(span) // batch) for span in spans)


def group_from_entry(entry: Mapping[str, Any]) -> ActionGroup:
    """A version 3 action entry as the group it tells; ``ValueError`` when its counts
    disagree with its ranges."""
    spans = spans_of(entry["ranges"], entry["every"])
    batch = int(entry["batch"])
    if batch < 1:
        raise ValueError(f"batch {batch} is not a number of dates")
    group = ActionGroup(
        pipeline_id=entry["pipeline_id"],
        kind=entry["kind"],
        priority=int(entry["priority"]),
        attempt=int(entry["attempt"]),
        request_id=entry.get("request_id"),
        reason=entry.get("reason"),
        run_id=entry.get("run_id"),
        event=entry.get("event"),
        spans=spans,
        batch=batch,
        newest_first=entry["order"] == "newest_first",
        run_count=run_count(spans, batch),
        date_count=sum(map(len, spans)),
    )
    if (group.run_count, group.date_count) != (entry["run_count"], entry["date_count"]):
        raise ValueError(
            f"an action of {group.pipeline_id} counts {entry['run_count']} run(s) of "
            f"{entry['date_count']} date(s), its ranges hold {group.run_count} of "
            f"{group.date_count}"
        )
    return group


def upstream_doc(upstream: Iterable[UpstreamDates]) -> list[dict[str, str]]:
    return [
        {"pipeline_id": u.pipeline_id, "first": u.first.isoformat(), "last": u.last.isoformat()}
        for u in upstream
    ]


def upstream_of(values: Iterable[Mapping[str, str]]) -> tuple[UpstreamDates, ...]:
    return tuple(
        UpstreamDates(
            u["pipeline_id"], date.fromisoformat(u["first"]), date.fromisoformat(u["last"])
        )
        for u in values
    )
