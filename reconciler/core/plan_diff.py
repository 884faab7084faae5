"""What a config change does: two plans of the same state compared per pipeline and kind.

``compare_plans`` takes the plan of the base config and the plan of the changed config
(same state, same ``now``) and says which config fields changed, which backfill
requests were added, removed or changed, and which dates each pipeline gains or loses
per kind. Dates to *start* (run, retry, backfill, refresh, and the dates that will run
once their upstream dates have: waiting on upstream, previewed refreshes) that the base
plan did not have are the "new dates" the mass-backfill guard counts; those served by a
request that the change itself declares are counted apart, as deliberate. A request on
one pipeline thus counts the refreshes it will cause in its dependants: they are not
declared by it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from reconciler.core.config_diff import diff_configs
from reconciler.core.day_sets import DaySet, Interval, intervals_of
from reconciler.core.plan import ConfigChange, Plan, Waiting
from reconciler.core.spec import BackfillRequest

RequestChangeKind = Literal["added", "removed", "changed"]
STARTED_KINDS = ("run", "retry", "backfill", "refresh")
# dates a pass will start later, once their upstream dates are available
LATER_KINDS = ("waiting_upstream", "refresh_preview")
# what --max-new-dates counts: dates started now or once their upstream dates ran
NEW_KINDS = STARTED_KINDS + LATER_KINDS
# the order deltas are listed in, per pipeline: ``waiting`` waits for a retry,
# ``waiting_upstream`` for upstream dates, ``refresh_preview`` are covered dates to be
# refreshed once their upstream dates have re-run
KIND_ORDER = (
    "run",
    "retry",
    "backfill",
    "refresh",
    "poll",
    "notify",
    "waiting",
    "waiting_upstream",
    "refresh_preview",
    "gap",
)
DELTA_KINDS = KIND_ORDER
# fields shown as requests, not as one long list value
REQUESTS_FIELD = "backfill.requests"

DeltaKey = tuple[str, str, str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class DateDelta:
    """Dates of one pipeline and kind (and backfill request) that the change adds or removes.

    ``upstream``: the upstream pipelines the dates wait for (waiting kinds, upstream gaps);
    ``known``: how many of ``added`` the base plan already had to start under another
    kind (a backfill now waiting for its upstream is not a new date). ``added`` and
    ``removed`` are ascending dates (a ``DaySet`` from ``date_deltas``: ranges, listed
    only when read one by one).
    """

    pipeline_id: str
    kind: str
    request_id: str | None
    added: Sequence[date]
    removed: Sequence[date]
    upstream: tuple[str, ...] = ()
    known: int = 0

    @property
    def new(self) -> int:
        """Added dates the base plan did not have to start at all."""
        return len(self.added) - self.known if self.kind in NEW_KINDS else 0


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
        """Dates the change would start (now, or once their upstream dates ran) that the
        base config would not."""
        return sum(d.new for d in self.deltas)

    @property
    def declared_dates(self) -> int:
        """Of the new dates, those served by a backfill request this change adds or edits."""
        return sum(d.new for d in self.deltas if self.declared(d))

    @property
    def refresh_dates(self) -> int:
        """Of the new dates, the refreshes (run now, or previewed after their upstream)."""
        return sum(d.new for d in self.deltas if d.kind in ("refresh", "refresh_preview"))

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


def _waiting_kind(waiting: Waiting) -> str:
    if waiting.reason != "upstream":
        return "waiting"
    return "refresh_preview" if waiting.refresh else "waiting_upstream"


def plan_dates(plan: Plan) -> dict[tuple[str, str], dict[str | None, DaySet]]:
    """Every date of a plan by (pipeline, kind), by the backfill request that serves it
    (None for other kinds), read from the plan's groups: ranges, never one by one."""
    found: dict[tuple[str, str], dict[str | None, list[Interval]]] = {}
    for group in plan.action_groups():
        request = group.request_id if group.kind == "backfill" else None
        by_request = found.setdefault((group.pipeline_id, group.kind), {})
        by_request.setdefault(request, []).extend(intervals_of(group.spans))
    for waiting in plan.waiting:
        key = (waiting.pipeline_id, _waiting_kind(waiting))
        days = ((d.toordinal(), d.toordinal()) for d in waiting.dates)
        found.setdefault(key, {}).setdefault(None, []).extend(days)
    for gaps in plan.gap_groups():
        key = (gaps.pipeline_id, "gap")
        found.setdefault(key, {}).setdefault(None, []).extend(intervals_of(gaps.spans))
    return {
        key: {request: DaySet(days) for request, days in by_request.items()}
        for key, by_request in found.items()
    }


def plan_upstreams(plan: Plan) -> dict[tuple[str, str], set[str]]:
    """The upstream pipelines named by each (pipeline, kind) of a plan's waiting and gaps."""
    out: dict[tuple[str, str], set[str]] = {}
    for waiting in plan.waiting:
        if waiting.upstream:
            names = out.setdefault((waiting.pipeline_id, _waiting_kind(waiting)), set())
            names.update(u.pipeline_id for u in waiting.upstream)
    for group in plan.gap_groups():
        if group.upstream:
            names = out.setdefault((group.pipeline_id, "gap"), set())
            names.update(u.pipeline_id for u in group.upstream)
    return out


def _delta_order(key: DeltaKey) -> tuple[str, int, str]:
    pid, kind, request = key
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return pid, rank, request or ""


def date_deltas(base: Plan, head: Plan) -> tuple[DateDelta, ...]:
    """Per pipeline and kind: the dates only ``head`` has and those only ``base`` has.

    A date planned as a backfill on both sides is no change, even if a request now
    serves it; added dates are attributed to the request that serves them in ``head``,
    removed ones to the request that served them in ``base``. Worked out on ranges of
    dates: a new pipeline's ten years of backfills are one range.
    """
    old, new = plan_dates(base), plan_dates(head)
    ups = plan_upstreams(head)
    for key, names in plan_upstreams(base).items():
        ups.setdefault(key, set()).update(names)
    # per pipeline, the dates the base plan would start now or later, whatever the kind
    starting: dict[str, list[DaySet]] = {}
    for (pid, kind), planned in old.items():
        if kind in NEW_KINDS:
            starting.setdefault(pid, []).extend(planned.values())
    to_start = {pid: DaySet.union(sets) for pid, sets in starting.items()}
    added: dict[DeltaKey, DaySet] = {}
    removed: dict[DeltaKey, DaySet] = {}
    for pid, kind in set(old) | set(new):
        before, after = old.get((pid, kind), {}), new.get((pid, kind), {})
        had, has = DaySet.union(before.values()), DaySet.union(after.values())
        for request, days in after.items():
            gained = days.minus(had)
            if gained:
                added[(pid, kind, request)] = gained
        for request, days in before.items():
            lost = days.minus(has)
            if lost:
                removed[(pid, kind, request)] = lost
    deltas = []
    for delta_key in sorted(set(added) | set(removed), key=_delta_order):
        dates = added.get(delta_key, DaySet())
        known = 0
        if delta_key[1] in NEW_KINDS and dates:
            known = dates.common(to_start.get(delta_key[0], DaySet()))
        deltas.append(
            DateDelta(
                pipeline_id=delta_key[0],
                kind=delta_key[1],
                request_id=delta_key[2],
                added=dates,
                removed=removed.get(delta_key, DaySet()),
                upstream=tuple(sorted(ups.get(delta_key[:2], ()))),
                known=known,
            )
        )
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
