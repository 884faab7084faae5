"""A version 3 JSON plan expanded into the version 2 document: one object per run and per
gap, every date listed. The rule a consumer follows to expand ranges, written once
(docs/plan-json.md); tests check it gives what ``plan --format json-v2`` writes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from itertools import chain, zip_longest
from typing import Any

from reconciler.render.plan_ranges import group_from_entry, spans_of


def _iso_dates(days: Sequence[int]) -> list[str]:
    return [date.fromordinal(o).isoformat() for o in days]


def _runs(entry: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """An action entry's runs, each as its version 2 object, in the entry's order."""
    group = group_from_entry(entry)
    fields = {k: entry[k] for k in ("pipeline_id", "kind")}
    rest = {k: entry[k] for k in ("priority", "attempt", "request_id", "reason")}
    tail = {k: entry[k] for k in ("run_id", "event") if k in entry}
    for run in group.runs():
        yield {**fields, "dates": _iso_dates(run), **rest, **tail}


def expand_actions(entries: Sequence[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every run in start order: entries without a turn as listed; the entries of one turn
    make a queue per pipeline (in the order the pipelines first appear), and the queues
    give one run each in turn until all are empty."""
    queues: dict[str, list[Iterator[dict[str, Any]]]] = {}
    current: object = None
    for entry in chain(entries, ({"turn": None, "_end": True},)):
        if entry["turn"] != current and queues:
            yield from _take_turns([chain.from_iterable(q) for q in queues.values()])
            queues = {}
        current = entry["turn"]
        if "_end" in entry:
            break
        if current is None:
            yield from _runs(entry)
        else:
            queues.setdefault(entry["pipeline_id"], []).append(_runs(entry))


def _take_turns(queues: list[Iterator[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    done = object()
    for round_ in zip_longest(*queues, fillvalue=done):
        yield from (item for item in round_ if item is not done)


def _gaps(entry: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for span in spans_of(entry["ranges"], entry["every"]):
        out: dict[str, Any] = {
            "pipeline_id": entry["pipeline_id"],
            "dates": _iso_dates(span),
            "reason": entry["reason"],
        }
        if "upstream" in entry:
            out["upstream"] = entry["upstream"]
        yield out


def _waiting(entry: Mapping[str, Any]) -> dict[str, Any]:
    spans = spans_of(entry["ranges"], entry["every"])
    return {
        "pipeline_id": entry["pipeline_id"],
        "dates": _iso_dates([o for span in spans for o in span]),
        **{k: entry[k] for k in ("reason", "next_retry_at", "attempt", "upstream", "refresh")},
    }


def expand_plan(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The version 2 document a version 3 ``doc`` tells (its other keys kept as they are)."""
    if doc.get("format_version") != 3:
        raise ValueError(f"expected a format_version 3 plan, got {doc.get('format_version')!r}")
    out = dict(doc)
    out["format_version"] = 2
    out["actions"] = list(expand_actions(doc["actions"]))
    out["waiting"] = [_waiting(w) for w in doc["waiting"]]
    out["gaps"] = [gap for entry in doc["gaps"] for gap in _gaps(entry)]
    return out
