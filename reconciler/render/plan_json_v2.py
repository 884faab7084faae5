"""The expanded JSON plan (``format_version`` 2, ``plan --format json-v2``), streamed, and
back for plans saved in that format (docs/plan-json.md).

One object per run with every date listed: what consumers written for version 2 read.
It is written to the output group by group, never held whole (a fleet that has not run
yet lists 3,652 backfills per pipeline over ten years).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from functools import partial
from itertools import islice, repeat
from json.encoder import encode_basestring_ascii
from typing import Any

import msgspec

from reconciler.core.plan import (
    Action,
    ActionGroup,
    ActionList,
    ConfigChange,
    Excluded,
    Gap,
    GapGroup,
    GapList,
    Paused,
    Plan,
    SlaBreach,
    Waiting,
)
from reconciler.core.plan_records import UpstreamDates
from reconciler.render.plan_json_parts import iso as _iso
from reconciler.render.plan_json_parts import jsonable as _jsonable
from reconciler.render.plan_json_parts import plan_document

EXPANDED_VERSION = 2
WRITE_LINES = 4096  # list items written to the output at once
GROUP_LINES = 128  # a group's lines encoded at once
_SEPARATOR = ",\n    "


def _action(action: Action) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pipeline_id": action.pipeline_id,
        "kind": action.kind,
        "dates": [d.isoformat() for d in action.dates],
        "priority": action.priority,
        "attempt": action.attempt,
        "request_id": action.request_id,
        "reason": action.reason,
    }
    if action.run_id is not None:
        out["run_id"] = action.run_id
    if action.event is not None:
        out["event"] = action.event
    return out


class _ActionDoc(msgspec.Struct, omit_defaults=True):
    """An action's JSON object, keys in the documented order; ``run_id`` and ``event``
    only when set (docs/plan-json.md)."""

    pipeline_id: str
    kind: str
    dates: tuple[date, ...]
    priority: int
    attempt: int
    request_id: str | None
    reason: str | None
    run_id: str | msgspec.UnsetType = msgspec.UNSET
    event: str | msgspec.UnsetType = msgspec.UNSET


class _UpstreamDoc(msgspec.Struct):
    pipeline_id: str
    first: date
    last: date


class _GapDoc(msgspec.Struct, omit_defaults=True):
    """A gap's JSON object; ``upstream`` only for an ``upstream_gap``."""

    pipeline_id: str
    dates: tuple[date, ...]
    reason: str
    upstream: tuple[_UpstreamDoc, ...] | msgspec.UnsetType = msgspec.UNSET


_ENCODER = msgspec.json.Encoder()
# json.dumps's spacing (", " and ": ") on msgspec's compact text
_SPACED = partial(msgspec.json.format, indent=0)
# msgspec writes non-ASCII characters as they are, json.dumps as \u escapes; outside
# strings JSON text is ASCII, so escaping each such character gives json.dumps's text
_NON_ASCII = re.compile("[\x7f-\U0010ffff]")


def _escape(match: re.Match[str]) -> str:
    return encode_basestring_ascii(match.group())[1:-1]


def _lines(docs: list[_ActionDoc] | list[_GapDoc]) -> Iterable[str]:
    """Each record as one line of JSON text, encoded by msgspec in one call per group."""
    try:
        encoded = _ENCODER.encode_lines(docs).decode()
    except UnicodeEncodeError:  # a lone surrogate (from a hand-made saved plan)
        return [json.dumps(msgspec.to_builtins(doc)) for doc in docs]
    return map(_SPACED, encoded.split("\n")[:-1])


def _unset(value: str | None) -> str | msgspec.UnsetType:
    return msgspec.UNSET if value is None else value


def _action_lines(group: ActionGroup) -> Iterator[str]:
    """A group's actions as JSON lines, in its order, built from its ranges and encoded
    ``GROUP_LINES`` at a time: while pipelines take turns every group is open at once,
    and a fleet that has not run yet has 3,652 lines in each."""
    if group.batch == 1:
        dates: Iterator[tuple[date, ...]] = zip(map(date.fromordinal, group.days()))
    else:
        dates = map(tuple, map(partial(map, date.fromordinal), group.runs()))
    docs = map(
        _ActionDoc,
        repeat(group.pipeline_id),
        repeat(group.kind),
        dates,
        repeat(group.priority),
        repeat(group.attempt),
        repeat(group.request_id),
        repeat(group.reason),
        repeat(_unset(group.run_id)),
        repeat(_unset(group.event)),
    )
    while chunk := list(islice(docs, GROUP_LINES)):
        yield from _lines(chunk)


def _upstream(upstream: tuple[UpstreamDates, ...]) -> list[dict[str, str]]:
    return [
        {"pipeline_id": u.pipeline_id, "first": u.first.isoformat(), "last": u.last.isoformat()}
        for u in upstream
    ]


def _gap(gap: Gap) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pipeline_id": gap.pipeline_id,
        "dates": [d.isoformat() for d in gap.dates],
        "reason": gap.reason,
    }
    if gap.upstream:
        out["upstream"] = _upstream(gap.upstream)
    return out


def _gap_lines(group: GapGroup) -> Iterable[str]:
    """A group's gaps (one per span) as JSON lines."""
    dates = map(tuple, map(partial(map, date.fromordinal), group.spans))
    upstream: tuple[_UpstreamDoc, ...] | msgspec.UnsetType = msgspec.UNSET
    if group.upstream:
        upstream = tuple(_UpstreamDoc(*u) for u in group.upstream)
    docs = list(
        map(_GapDoc, repeat(group.pipeline_id), dates, repeat(group.reason), repeat(upstream))
    )
    return _lines(docs)


def _waiting(w: Waiting) -> dict[str, Any]:
    return {
        "pipeline_id": w.pipeline_id,
        "dates": [d.isoformat() for d in w.dates],
        "reason": w.reason,
        "next_retry_at": _iso(w.next_retry_at) if w.next_retry_at else None,
        "attempt": w.attempt,
        "upstream": _upstream(w.upstream),
        "refresh": w.refresh,
    }


def plan_to_v2_dict(plan: Plan, listed: bool = True) -> dict[str, Any]:
    """The expanded document of a plan, as plain data (``listed=False``: empty lists in
    place of the actions and gaps, for a writer that encodes them itself); ``paused`` and
    ``excluded`` only when some pipeline is paused or has excluded dates."""
    return plan_document(
        plan,
        EXPANDED_VERSION,
        [_action(a) for a in plan.actions] if listed else [],
        [_waiting(w) for w in plan.waiting],
        [_gap(g) for g in plan.gaps] if listed else [],
    )


def write_plan_v2(
    plan: Plan, write: Callable[[str], object], extra: Mapping[str, Any] | None = None
) -> None:
    """Write the expanded document to ``write``, a piece at a time: one top-level key per
    line, one list item per line, each item's text exactly what ``json.dumps`` writes.

    Actions and gaps, the bulk (10^7 objects for a fleet that has not run yet), are
    encoded by msgspec a group at a time, in start order, without building ``Action``
    objects; the rest (free-form config values, whose number and date texts are part of
    the contract) by ``json.dumps``. ``extra``: more top-level keys after the versioned
    ones (``compare``, a saved plan's ``fingerprint``).
    """
    doc = plan_to_v2_dict(plan, listed=False)
    doc.update(extra or {})
    bulk: dict[str, Iterable[Iterable[str]]] = {
        "actions": batched(plan.each_action(_action_lines), WRITE_LINES),
        "gaps": map(_gap_lines, plan.gap_groups()),
    }
    write("{\n")
    last = len(doc) - 1
    for index, (key, value) in enumerate(doc.items()):
        comma = "," if index < last else ""
        chunks = bulk.get(key)
        if chunks is None and isinstance(value, list):
            chunks = ((json.dumps(v, default=_jsonable),) for v in value)
        if chunks is None or not _write_items(f"  {json.dumps(key)}: [\n    ", chunks, write):
            write(f"  {json.dumps(key)}: {_ascii(json.dumps(value, default=_jsonable))}{comma}\n")
        else:
            write(f"\n  ]{comma}\n")
    write("}\n")


def _write_items(
    head: str, chunks: Iterable[Iterable[str]], write: Callable[[str], object]
) -> bool:
    """Write a list's items after ``head``, comma-separated; False (nothing written) if empty."""
    started = False
    for chunk in chunks:
        items = list(chunk)
        if not items:
            continue
        write(_ascii((_SEPARATOR if started else head) + _SEPARATOR.join(items)))
        started = True
    return started


def batched(items: Iterable[str], size: int) -> Iterator[list[str]]:
    """Lists of ``size`` items (the last one shorter)."""
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _ascii(text: str) -> str:
    return text if text.isascii() else _NON_ASCII.sub(_escape, text)


def plan_to_json_v2(plan: Plan, extra: Mapping[str, Any] | None = None) -> str:
    """The expanded document as one string (small plans, tests)."""
    parts: list[str] = []
    write_plan_v2(plan, parts.append, extra)
    return "".join(parts)


def _dates(values: list[str]) -> tuple[date, ...]:
    return tuple(date.fromisoformat(v) for v in values)


def _upstream_dates(values: list[dict[str, str]]) -> tuple[UpstreamDates, ...]:
    return tuple(
        UpstreamDates(
            u["pipeline_id"], date.fromisoformat(u["first"]), date.fromisoformat(u["last"])
        )
        for u in values
    )


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def plan_from_v2_dict(data: dict[str, Any]) -> Plan:
    """Read an expanded (version 2) plan back."""
    return Plan(
        now=datetime.fromisoformat(data["now"]),
        pipelines=int(data["summary"]["pipelines"]),
        config_changes=tuple(
            ConfigChange(
                c["pipeline_id"], c["change"], {k: (v[0], v[1]) for k, v in c["fields"].items()}
            )
            for c in data["config_changes"]
        ),
        actions=ActionList.of(
            Action(
                a["pipeline_id"],
                a["kind"],
                _dates(a["dates"]),
                a["priority"],
                a["attempt"],
                a.get("request_id"),
                a.get("reason"),
                a.get("run_id"),
                a.get("event"),
            )
            for a in data["actions"]
        ),
        waiting=tuple(
            Waiting(
                pipeline_id=w["pipeline_id"],
                dates=_dates(w["dates"]),
                next_retry_at=_instant(w["next_retry_at"]),
                attempt=int(w["attempt"]),
                reason=w["reason"],
                upstream=_upstream_dates(w["upstream"]),
                refresh=bool(w["refresh"]),
            )
            for w in data["waiting"]
        ),
        gaps=GapList.of(
            Gap(
                g["pipeline_id"],
                _dates(g["dates"]),
                g["reason"],
                _upstream_dates(g.get("upstream", [])),
            )
            for g in data["gaps"]
        ),
        sla_breaches=tuple(
            SlaBreach(
                b["pipeline_id"],
                date.fromisoformat(b["date"]),
                datetime.fromisoformat(b["deadline"]),
            )
            for b in data["sla_breaches"]
        ),
        paused=tuple(Paused(p["pipeline_id"], p.get("reason")) for p in data.get("paused", [])),
        excluded=tuple(
            Excluded(e["pipeline_id"], int(e["dates"])) for e in data.get("excluded", [])
        ),
    )
