"""Readiness across pipelines: a date starts only once the upstream dates it needs are
available (docs/dependencies.md).

The fleet is planned in dependency order. Each pipeline's own decisions come first
(``core.pipeline_decisions``); then the dates it would start are checked against what
its upstreams make available, and those that need an unavailable date are taken out:

- when an upstream date they need will not run (a gap of the upstream), they are gaps
  with reason ``upstream_gap``;
- otherwise they wait (reason ``upstream``) for the upstream dates named.

An upstream date is available when it is covered, not outdated and not about to run
again (in flight, or planned: a refresh or a backfill request over it). Covered dates
whose upstream dates are about to run again are listed as waiting for a refresh: the plan
shows the cascade a request will cause before it runs. What a pipeline makes available
is then told to its own dependants, so all of it is transitive.

Work is done on ranges: each stretch of candidate dates asks only for the upstream's
unavailable ranges within what it needs (``core.dependencies.blocked``), so a pipeline
with ten years of history costs what its open dates cost.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from itertools import chain

from reconciler.core.availability import MAX_DAY, STARTS, Availability, rerun_days
from reconciler.core.calendar import adjacency, scheduled_between
from reconciler.core.compact_actions import BackfillBlock
from reconciler.core.compact_gaps import ListedGaps
from reconciler.core.coverage import PipelineObserved
from reconciler.core.dependencies import blocked
from reconciler.core.intervals import DayRanges
from reconciler.core.pipeline_decisions import Pieces
from reconciler.core.plan_records import Action, Gap, UpstreamDates, Waiting
from reconciler.core.spec import PipelineSpec
from reconciler.core.upstream_holds import Hold, Holds, Upstreams, holds_for, hulls, waits_for

Follows = Callable[[date, date], bool]
# (will never run, the upstream dates, attempt, a refresh): dates with one story
Story = tuple[bool, Upstreams, int, bool]
# held dates: the action they leave, their ordinals (consecutive dates), what they wait
# for, what of it will never run
Held = tuple[Action, Sequence[int], Upstreams, Upstreams]
# candidate dates closer than this share one look at the upstream (fewer, wider looks)
JOIN_DAYS = 31


def in_dependency_order(specs: Sequence[PipelineSpec]) -> list[PipelineSpec]:
    """Upstreams before their dependants (Kahn), otherwise in the given order; pipelines
    on a circle (validation refuses them) come last, in the given order."""
    by_id = {s.id: s for s in specs}
    waiting_on = {s.id: {d.pipeline for d in s.depends_on if d.pipeline in by_id} for s in specs}
    users: dict[str, list[str]] = {}
    for s in specs:
        for up in waiting_on[s.id]:
            users.setdefault(up, []).append(s.id)
    ready = deque(s.id for s in specs if not waiting_on[s.id])
    out: list[PipelineSpec] = []
    seen: set[str] = set()
    while ready:
        pid = ready.popleft()
        out.append(by_id[pid])
        seen.add(pid)
        for user in users.get(pid, ()):
            waiting_on[user].discard(pid)
            if not waiting_on[user] and user not in seen:
                ready.append(user)
    out += [s for s in specs if s.id not in seen]
    return out


def settle(
    spec: PipelineSpec,
    obs: PipelineObserved,
    pieces: Pieces,
    upstreams: Mapping[str, Availability],
) -> Availability:
    """Take out of ``pieces`` the dates whose inputs are not available (they become
    waiting or gaps), add the covered dates a re-running upstream will make outdated,
    and return what this pipeline makes available to its own dependants."""
    holds: list[Hold] = []
    held_gaps: set[int] = set()
    if spec.depends_on:
        spans = _candidate_spans(pieces)
        for dep in spec.depends_on:
            up = upstreams.get(dep.pipeline)
            for first, last in spans:
                holds += holds_for(spec, dep, up, first, last)
    if holds:
        held_gaps = _take_out(spec, pieces, holds)
    if spec.depends_on and spec.refresh_on_upstream_change:
        _preview_refreshes(spec, obs, pieces, upstreams, held_gaps)
    return Availability(spec, obs, pieces)


def _candidate_spans(pieces: Pieces) -> list[tuple[int, int]]:
    """The ordinal stretches holding every date ``pieces`` would start."""
    # an action's whole stretch: a batch of monthly dates spans months
    spans: list[tuple[int, int]] = [
        (action.dates[0].toordinal(), action.dates[-1].toordinal())
        for action in pieces.actions
        if action.kind in STARTS
    ]
    if pieces.block is not None and pieces.block.date_count:
        spans += ((r[0], r[-1]) for r in pieces.block.day_ranges() if r)
    spans.sort()
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and a <= out[-1][1] + JOIN_DAYS:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _take_out(spec: PipelineSpec, pieces: Pieces, holds: Sequence[Hold]) -> set[int]:
    """Held dates leave their actions (and the backfill block) for waiting and gaps;
    returns the ordinals that became gaps."""
    index = Holds(holds)
    follows = adjacency(spec.schedule)
    waiting: list[Held] = []
    kept: list[Action] = []
    for action in pieces.actions:
        ords = [d.toordinal() for d in action.dates]
        if action.kind not in STARTS or not index.touches(ords[0], ords[-1]):
            kept.append(action)
            continue
        held: dict[int, tuple[Upstreams, Upstreams]] = {}
        for o in ords:
            for days, up, lost in index.of(range(o, o + 1)):
                held[days[0]] = (up, lost)
        if not held:
            kept.append(action)
            continue
        rest = [d for d, o in zip(action.dates, ords, strict=True) if o not in held]
        for run in _consecutive(rest, follows):
            kept.append(action._replace(dates=run))
        waiting += ((action, (o,), *held[o]) for o in ords if o in held)
    pieces.actions = kept
    block = pieces.block
    if block is not None and index.touches(block.first, block.last):
        plain = Action(spec.id, "backfill", (), block.priority, 1)
        taken = [
            (plain, days, up, lost) for r in block.day_ranges() for days, up, lost in index.of(r)
        ]
        if taken:
            waiting += taken
            pieces.block = _without(block, index.ranges)
    return _record(spec, pieces, waiting, follows)


def _without(block: BackfillBlock, held: DayRanges) -> BackfillBlock:
    """The block less the held days: they count as covered for it (and leave
    ``exclude``, which must hold only dates the block would otherwise list)."""
    coverage = DayRanges.of([*block.coverage, *held])
    exclude = tuple(o for o in block.exclude if not held.covers(o))
    return BackfillBlock(
        pipeline_id=block.pipeline_id,
        priority=block.priority,
        coverage=coverage,
        first=block.first,
        last=block.last,
        origin=block.origin,
        step=block.step,
        batch=block.batch,
        newest_first=block.newest_first,
        exclude=exclude,
    )


def _consecutive(dates: Sequence[date], follows: Follows) -> list[tuple[date, ...]]:
    runs: list[list[date]] = []
    for d in dates:
        if runs and follows(runs[-1][-1], d):
            runs[-1].append(d)
        else:
            runs.append([d])
    return [tuple(r) for r in runs]


def _record(
    spec: PipelineSpec,
    pieces: Pieces,
    held: Sequence[Held],
    follows: Follows,
) -> set[int]:
    """Held dates as ``Waiting`` (reason ``upstream``) and ``Gap`` (``upstream_gap``)
    entries, consecutive dates with the same story in one entry; returns the ordinals
    listed as gaps.

    A date some of whose upstream dates will never run is a gap naming those, a refresh
    too (its date stays covered, but outdated for good until the upstream is mended):
    waiting would never end, and its own dependants would wait on it for ever."""
    groups: list[tuple[Story, list[Sequence[int]]]] = []
    for action, days, upstream, lost in sorted(held, key=lambda item: item[1][0]):
        refresh = action.kind == "refresh"
        gone = bool(lost)
        key: Story = (gone, lost if gone else upstream, action.attempt, refresh)
        day = date.fromordinal
        if groups and groups[-1][0] == key and follows(day(groups[-1][1][-1][-1]), day(days[0])):
            groups[-1][1].append(days)
        else:
            groups.append((key, [days]))
    gaps: list[Gap] = []
    for (gone, upstream, attempt, refresh), parts in groups:
        dates = tuple(map(date.fromordinal, chain.from_iterable(parts)))
        if gone:
            gaps.append(Gap(spec.id, dates, "upstream_gap", upstream))
        else:
            pieces.waiting.append(
                Waiting(
                    pipeline_id=spec.id,
                    dates=dates,
                    attempt=attempt,
                    reason="upstream",
                    upstream=upstream,
                    refresh=refresh,
                )
            )
    if not gaps:
        return set()
    pieces.gaps.append(ListedGaps(tuple(gaps)))
    return {d.toordinal() for gap in gaps for d in gap.dates}


def _preview_refreshes(
    spec: PipelineSpec,
    obs: PipelineObserved,
    pieces: Pieces,
    upstreams: Mapping[str, Availability],
    decided: set[int],
) -> None:
    """Covered dates that read upstream dates about to run again: they will be outdated
    once those have re-run, and are listed as waiting for a refresh; except those that
    already run again or wait to, and the ``decided`` ones (covered dates a request
    would re-run, now gaps ``upstream_gap``)."""
    own = rerun_days(obs, pieces) | decided
    coverage = obs.coverage
    found: list[tuple[int, UpstreamDates]] = []
    for dep in spec.depends_on:
        up = upstreams.get(dep.pipeline)
        if up is None or not up.rerun:
            continue
        ranges = [
            (date.fromordinal(a), date.fromordinal(b)) for a, b in up.rerun.within(1, MAX_DAY)
        ]
        for block in blocked(spec.schedule, dep, up.spec.schedule, ranges):
            s, e = block.blocked[0].toordinal(), block.blocked[1].toordinal()
            for a, b in coverage.within(s, e):
                for d in scheduled_between(spec.schedule, date.fromordinal(a), date.fromordinal(b)):
                    o = d.toordinal()
                    if o in own:
                        continue
                    found.append((o, waits_for(spec, dep, up.spec, o, o, block.waits_for)))
    if not found:
        return
    by_day: dict[int, list[UpstreamDates]] = {}
    for o, u in found:
        by_day.setdefault(o, []).append(u)
    plain = Action(spec.id, "refresh", (), spec.priority, 1)
    held: list[Held] = [(plain, (o,), hulls(us), ()) for o, us in sorted(by_day.items())]
    _record(spec, pieces, held, adjacency(spec.schedule))


def request_days(obs: PipelineObserved, pieces: Pieces) -> set[int]:
    """Ordinals of this pipeline's dates that run, or wait to run, for a request (a
    backfill request or a refresh): in flight, planned, or waiting for a retry."""
    days = {d.toordinal() for d, flight in obs.in_flight.items() if flight.request_id}
    for action in pieces.actions:
        if action.kind in STARTS and action.request_id is not None:
            days.update(d.toordinal() for d in action.dates)
    failed = obs.failed
    for waiting in pieces.waiting:
        if waiting.reason == "retry":
            days.update(
                d.toordinal() for d in waiting.dates if d in failed and failed[d].request_id
            )
    return days
