"""What a config change does: two plans of the same state compared per pipeline and kind.

``compare_plans`` takes the plan of the base config and the plan of the changed config
(same state, same ``now``) and says which config fields changed, which backfill
requests were added, removed or changed, and which dates each pipeline gains or loses
per kind. Dates to *start* (run, retry, backfill) that the base plan did not have are
the "new dates" the mass-backfill guard counts; those served by a request that the
change itself declares are counted apart, as deliberate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from reconciler.core.config_diff import diff_configs
from reconciler.core.plan import ConfigChange, Plan
from reconciler.core.spec import BackfillRequest

RequestChangeKind = Literal["added", "removed", "changed"]
STARTED_KINDS = ("run", "retry", "backfill")
# the order deltas are listed in, per pipeline
KIND_ORDER = ("run", "retry", "backfill", "poll", "notify", "waiting", "gap")
# fields shown as requests, not as one long list value
REQUESTS_FIELD = "backfill.requests"

DeltaKey = tuple[str, str, str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class DateDelta:
    """Dates of one pipeline and kind (and backfill request) that the change adds or removes."""

    pipeline_id: str
    kind: str
    request_id: str | None
    added: tuple[date, ...]
    removed: tuple[date, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestChange:
    """A declared backfill request that the change adds, removes or edits."""

    pipeline_id: str
    request_id: str
    change: RequestChangeKind
    old: BackfillRequest | None
    new: BackfillRequest | None


@dataclass(frozen=True, slots=True)
class PlanComparison:
    """The difference a config change makes to the plan (head minus base)."""

    config_changes: tuple[ConfigChange, ...]
    deltas: tuple[DateDelta, ...]
    requests: tuple[RequestChange, ...]

    @property
    def added(self) -> int:
        return sum(len(d.added) for d in self.deltas)

    @property
    def removed(self) -> int:
        return sum(len(d.removed) for d in self.deltas)

    @property
    def new_dates(self) -> int:
        """Dates the change would start that the base config would not."""
        return sum(len(d.added) for d in self.deltas if d.kind in STARTED_KINDS)

    @property
    def declared_dates(self) -> int:
        """Of the new dates, those served by a backfill request this change adds or edits."""
        return sum(len(d.added) for d in self.deltas if self.declared(d))

    @property
    def undeclared_dates(self) -> int:
        """What ``--max-new-dates`` counts."""
        return self.new_dates - self.declared_dates

    def declared(self, delta: DateDelta) -> bool:
        """Whether ``delta`` is a backfill of a request declared by this change."""
        if delta.kind != "backfill" or delta.request_id is None:
            return False
        return any(
            r.pipeline_id == delta.pipeline_id
            and r.request_id == delta.request_id
            and r.change != "removed"
            for r in self.requests
        )

    def changed_fields(self, pipeline_id: str) -> Mapping[str, tuple[Any, Any]]:
        for change in self.config_changes:
            if change.pipeline_id == pipeline_id:
                return change.fields
        return {}

    def change_of(self, pipeline_id: str) -> str | None:
        for change in self.config_changes:
            if change.pipeline_id == pipeline_id:
                return change.change
        return None

    @property
    def is_empty(self) -> bool:
        return not (self.config_changes or self.deltas or self.requests)


def plan_dates(plan: Plan) -> dict[tuple[str, str], dict[date, str | None]]:
    """Every date of a plan by (pipeline, kind), with the backfill request that serves it."""
    out: dict[tuple[str, str], dict[date, str | None]] = {}
    for action in plan.actions:
        request = action.request_id if action.kind == "backfill" else None
        dates = out.setdefault((action.pipeline_id, action.kind), {})
        for d in action.dates:
            dates[d] = request
    for waiting in plan.waiting:
        out.setdefault((waiting.pipeline_id, "waiting"), {}).update(dict.fromkeys(waiting.dates))
    for gap in plan.gaps:
        out.setdefault((gap.pipeline_id, "gap"), {}).update(dict.fromkeys(gap.dates))
    return out


def _delta_order(key: DeltaKey) -> tuple[str, int, str]:
    pid, kind, request = key
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return pid, rank, request or ""


def date_deltas(base: Plan, head: Plan) -> tuple[DateDelta, ...]:
    """Per pipeline and kind: the dates only ``head`` has and those only ``base`` has.

    A date planned as a backfill on both sides is no change, even if a request now
    serves it; added dates are attributed to the request that serves them in ``head``,
    removed ones to the request that served them in ``base``.
    """
    old, new = plan_dates(base), plan_dates(head)
    added: dict[DeltaKey, list[date]] = {}
    removed: dict[DeltaKey, list[date]] = {}
    for pid, kind in set(old) | set(new):
        before, after = old.get((pid, kind), {}), new.get((pid, kind), {})
        for d in after.keys() - before.keys():
            added.setdefault((pid, kind, after[d]), []).append(d)
        for d in before.keys() - after.keys():
            removed.setdefault((pid, kind, before[d]), []).append(d)
    deltas = [
        DateDelta(
            pipeline_id=key[0],
            kind=key[1],
            request_id=key[2],
            added=tuple(sorted(added.get(key, ()))),
            removed=tuple(sorted(removed.get(key, ()))),
        )
        for key in sorted(set(added) | set(removed), key=_delta_order)
    ]
    return tuple(deltas)


def request_changes(
    base: Mapping[str, Sequence[BackfillRequest]], head: Mapping[str, Sequence[BackfillRequest]]
) -> tuple[RequestChange, ...]:
    """Requests by (pipeline, id) that exist on one side only, or differ."""
    changes = []
    for pid in sorted(set(base) | set(head)):
        old = {r.id: r for r in base.get(pid, ())}
        new = {r.id: r for r in head.get(pid, ())}
        for rid in sorted(set(old) | set(new)):
            before, after = old.get(rid), new.get(rid)
            if before is None:
                changes.append(
                    RequestChange(
                        pipeline_id=pid, request_id=rid, change="added", old=None, new=after
                    )
                )
            elif after is None:
                changes.append(
                    RequestChange(
                        pipeline_id=pid, request_id=rid, change="removed", old=before, new=None
                    )
                )
            elif before != after:
                changes.append(
                    RequestChange(
                        pipeline_id=pid, request_id=rid, change="changed", old=before, new=after
                    )
                )
    return tuple(changes)


def _without_requests(changes: tuple[ConfigChange, ...]) -> tuple[ConfigChange, ...]:
    """Config changes with the requests list left out (requests are compared one by one)."""
    out = []
    for change in changes:
        if change.change != "update":
            out.append(change)
            continue
        fields = {k: v for k, v in change.fields.items() if k != REQUESTS_FIELD}
        if fields:
            out.append(ConfigChange(change.pipeline_id, "update", fields))
    return tuple(out)


def compare_plans(
    base: Plan,
    head: Plan,
    base_config: Mapping[str, Mapping[str, Any]],
    head_config: Mapping[str, Mapping[str, Any]],
    base_requests: Mapping[str, Sequence[BackfillRequest]],
    head_requests: Mapping[str, Sequence[BackfillRequest]],
) -> PlanComparison:
    """What changing ``base_config`` into ``head_config`` does to the plan.

    Both plans must be made from the same state at the same instant; the configs are
    flat ``{"schedule.start": ...}`` mappings per pipeline id, and the requests are
    the declared ones per pipeline id.
    """
    if base.now != head.now:
        raise ValueError("compare plans made at the same instant")
    config = _without_requests(diff_configs(head_config, base_config))
    return PlanComparison(
        config_changes=config,
        deltas=date_deltas(base, head),
        requests=request_changes(base_requests, head_requests),
    )
