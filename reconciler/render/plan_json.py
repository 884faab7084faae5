"""A plan as JSON (``format_version`` 3, docs/plan-json.md), and back for saved plans.

Version 3 tells actions, waiting dates and gaps by date ranges: a pipeline's 3,652
single-date backfills of ten years are one entry naming its range and how it splits
into runs, so the document grows with ranges, not dates. The expanded form of version 2
(one object per run) is ``render.plan_json_v2``; ``render.plan_expand`` turns one into
the other. A version 2 file saved before is still read; a version 1 file is refused: its
plan says nothing of dependencies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from reconciler.core.compact_actions import ActionList, GroupedActions
from reconciler.core.compact_gaps import GapList, GroupedGaps
from reconciler.core.plan import (
    ActionGroup,
    ConfigChange,
    Excluded,
    GapGroup,
    Paused,
    Plan,
    SlaBreach,
    Waiting,
)
from reconciler.core.plan_records import UpstreamDates
from reconciler.render.plan_json_parts import iso as _iso
from reconciler.render.plan_json_parts import jsonable as _jsonable
from reconciler.render.plan_json_parts import plan_document
from reconciler.render.plan_ranges import (
    ORDERS,
    group_from_entry,
    ranges_of,
    spans_of,
    upstream_doc,
    upstream_of,
)

FORMAT_VERSION = 3


def action_entries(plan: Plan) -> Iterator[dict[str, Any]]:
    """The plan's actions as version 3 entries, in start order (docs/plan-json.md)."""
    actions = plan.actions
    for group in actions.head.groups():
        yield _action_entry(group, None)
    for turn, sources in enumerate(actions.backfills):
        for source in sources:
            for group in source.groups():
                yield _action_entry(group, turn)
    for group in actions.tail.groups():
        yield _action_entry(group, None)


def _action_entry(group: ActionGroup, turn: int | None) -> dict[str, Any]:
    every, ranges = ranges_of(group.spans)
    out: dict[str, Any] = {
        "pipeline_id": group.pipeline_id,
        "kind": group.kind,
        "priority": group.priority,
        "attempt": group.attempt,
        "request_id": group.request_id,
        "reason": group.reason,
    }
    if group.run_id is not None:
        out["run_id"] = group.run_id
    if group.event is not None:
        out["event"] = group.event
    out.update(
        ranges=ranges,
        every=every,
        batch=group.batch,
        order=ORDERS[group.newest_first],
        turn=turn,
        run_count=group.run_count,
        date_count=group.date_count,
    )
    return out


def _gap_entry(group: GapGroup) -> dict[str, Any]:
    every, ranges = ranges_of(group.spans)
    out: dict[str, Any] = {"pipeline_id": group.pipeline_id, "reason": group.reason}
    if group.upstream:
        out["upstream"] = upstream_doc(group.upstream)
    out.update(ranges=ranges, every=every, date_count=group.date_count)
    return out


def _waiting_entry(w: Waiting) -> dict[str, Any]:
    every, ranges = ranges_of((tuple(d.toordinal() for d in w.dates),))
    return {
        "pipeline_id": w.pipeline_id,
        "ranges": ranges,
        "every": every,
        "reason": w.reason,
        "next_retry_at": _iso(w.next_retry_at) if w.next_retry_at else None,
        "attempt": w.attempt,
        "upstream": upstream_doc(w.upstream),
        "refresh": w.refresh,
        "date_count": len(w.dates),
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The JSON document of a plan, as plain data; ``paused`` and ``excluded`` only when
    some pipeline is paused or has excluded dates."""
    return plan_document(
        plan,
        FORMAT_VERSION,
        list(action_entries(plan)),
        [_waiting_entry(w) for w in plan.waiting],
        [_gap_entry(g) for g in plan.gap_groups()],
    )


def plan_to_json(plan: Plan, extra: Mapping[str, Any] | None = None) -> str:
    """Stable JSON text: one top-level key per line, one list item per line (readable and
    diffable like ``indent=2``). ``extra``: more top-level keys after the versioned ones
    (``compare``, a saved plan's ``fingerprint``)."""
    doc = plan_to_dict(plan)
    doc.update(extra or {})
    lines = ["{"]
    last = len(doc) - 1
    for index, (key, value) in enumerate(doc.items()):
        comma = "," if index < last else ""
        if isinstance(value, list) and value:
            items = ",\n    ".join(json.dumps(v, default=_jsonable) for v in value)
            lines.append(f"  {json.dumps(key)}: [\n    {items}\n  ]{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, default=_jsonable)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def plan_from_dict(data: dict[str, Any]) -> Plan:
    """Read a saved plan back (version 3, or 2 saved before); ``ValueError`` when it is
    not one this version can read."""
    version = data.get("format_version")
    if version == 1:
        raise ValueError(
            "it was saved in plan format_version 1, before dependencies were planned; "
            "re-run `reconciler plan --out FILE` and review the new plan"
        )
    if version == 2:
        from reconciler.render.plan_json_v2 import plan_from_v2_dict

        return plan_from_v2_dict(data)
    if version != FORMAT_VERSION:
        raise ValueError(f"unsupported plan format_version {version!r}")
    return Plan(
        now=datetime.fromisoformat(data["now"]),
        pipelines=int(data["summary"]["pipelines"]),
        config_changes=tuple(
            ConfigChange(
                c["pipeline_id"], c["change"], {k: (v[0], v[1]) for k, v in c["fields"].items()}
            )
            for c in data["config_changes"]
        ),
        actions=_actions(data["actions"]),
        waiting=tuple(_waiting(w) for w in data["waiting"]),
        gaps=GapList((GroupedGaps(tuple(_gap(g) for g in data["gaps"])),)),
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


def _actions(entries: Sequence[dict[str, Any]]) -> ActionList:
    """Entries back in start order: those before the first turn are the head, those after
    the last the tail; in between, each turn's pipelines take turns (docs/plan-json.md)."""
    head: list[ActionGroup] = []
    tail: list[ActionGroup] = []
    turns: dict[int, dict[str, list[ActionGroup]]] = {}
    for entry in entries:
        group = group_from_entry(entry)
        turn = entry["turn"]
        if turn is None:
            (tail if turns else head).append(group)
            continue
        if tail or (turns and turn < max(turns)):
            raise ValueError("actions: the turns are not in order")
        turns.setdefault(int(turn), {}).setdefault(group.pipeline_id, []).append(group)
    backfills = [
        [GroupedActions(tuple(groups)) for groups in turns[t].values()] for t in sorted(turns)
    ]
    listed = (a for g in head for a in g.actions())
    return ActionList(listed, backfills, (a for g in tail for a in g.actions()))


def _waiting(entry: dict[str, Any]) -> Waiting:
    dates = tuple(
        date.fromordinal(o) for span in spans_of(entry["ranges"], entry["every"]) for o in span
    )
    return Waiting(
        pipeline_id=entry["pipeline_id"],
        dates=dates,
        next_retry_at=None
        if entry["next_retry_at"] is None
        else datetime.fromisoformat(entry["next_retry_at"]),
        attempt=int(entry["attempt"]),
        reason=entry["reason"],
        upstream=upstream_of(entry["upstream"]),
        refresh=bool(entry["refresh"]),
    )


def _gap(entry: dict[str, Any]) -> GapGroup:
    spans = spans_of(entry["ranges"], entry["every"])
    upstream: tuple[UpstreamDates, ...] = upstream_of(entry.get("upstream", []))
    return GapGroup(
        pipeline_id=entry["pipeline_id"],
        reason=entry["reason"],
        spans=spans,
        date_count=sum(map(len, spans)),
        upstream=upstream,
    )
