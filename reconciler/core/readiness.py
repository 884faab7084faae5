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

from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain, pairwise

from reconciler.core.calendar import adjacency, scheduled_between
from reconciler.core.compact_actions import BackfillBlock
from reconciler.core.compact_gaps import ListedGaps
from reconciler.core.coverage import PipelineObserved
from reconciler.core.dependencies import blocked, needed
from reconciler.core.intervals import DayRanges
from reconciler.core.pipeline_decisions import Pieces
from reconciler.core.plan_records import Action, Gap, UpstreamDates, Waiting
from reconciler.core.spec import Dependency, PipelineSpec

STARTS = frozenset({"run", "retry", "backfill", "refresh"})
Follows = Callable[[date, date], bool]
# (will never run, the upstream dates, attempt, a refresh): dates with one story
Upstreams = tuple[UpstreamDates, ...]
Story = tuple[bool, Upstreams, int, bool]
# held dates: the action they leave, their ordinals (consecutive dates), what they wait
# for, what of it will never run
Held = tuple[Action, Sequence[int], Upstreams, Upstreams]
# candidate dates closer than this share one look at the upstream (fewer, wider looks)
JOIN_DAYS = 31
MAX_DAY = date.max.toordinal()


class Availability:
    """What the dependants of a pipeline can rely on, worked out when first asked (a
    pipeline whose dependants start nothing is never asked).

    ``rerun``: covered dates that are about to change (outdated, in flight, planned
    again, or waiting for a refresh); ``gone``: dates that will not run (its gaps).
    Available = covered and not in ``rerun``.
    """

    __slots__ = ("_gone", "_rerun", "obs", "pieces", "spec")

    def __init__(self, spec: PipelineSpec, obs: PipelineObserved, pieces: Pieces) -> None:
        self.spec, self.obs, self.pieces = spec, obs, pieces
        self._rerun: DayRanges | None = None
        self._gone: DayRanges | None = None

    @property
    def rerun(self) -> DayRanges:
        if self._rerun is None:
            coverage = self.obs.coverage
            found: list[tuple[int, int]] = []
            for a, b in self.obs.outdated_marks.within(1, MAX_DAY):
                found += coverage.within(a, b)
            # re-runs only: a date running for the first time is a hole already, and
            # the refresh preview is for covered dates that run again ...
            found += ((o, o) for o in _rerun_days(self.obs, self.pieces) if coverage.covers(o))
            # ... or that a request runs (a retry of a failed re-run, say): its success
            # marks the dates that read it, as the pass ledger does
            found += ((o, o) for o in _request_days(self.obs, self.pieces))
            self._rerun = _ranges(found)
        return self._rerun

    @property
    def gone(self) -> DayRanges:
        if self._gone is None:
            found: list[tuple[int, int]] = []
            for source in self.pieces.gaps:
                for group in source.groups():
                    found += ((span[0], span[-1]) for span in group.spans if span)
            self._gone = _ranges(found)
        return self._gone

    def unavailable(self, first: int, last: int) -> list[tuple[int, int]]:
        """Ordinal ranges of ``[first, last]`` that are not available, ascending."""
        pieces = list(self.obs.coverage.holes(first, last))
        pieces += self.rerun.within(first, last)
        return _merged(pieces)


def _ranges(pieces: list[tuple[int, int]]) -> DayRanges:
    merged = _merged(pieces)
    return DayRanges([a for a, _ in merged], [b for _, b in merged])


@dataclass(frozen=True, slots=True)
class _Hold:
    """Downstream ordinals ``[first, last]`` cannot start: they need ``upstream``."""

    first: int
    last: int
    upstream: UpstreamDates
    gone: bool


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
    holds: list[_Hold] = []
    held_gaps: set[int] = set()
    if spec.depends_on:
        spans = _candidate_spans(pieces)
        for dep in spec.depends_on:
            up = upstreams.get(dep.pipeline)
            for first, last in spans:
                holds += _holds(spec, dep, up, first, last)
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


def _shift(ordinal: int, days: int) -> int | None:
    moved = ordinal + days
    return moved if 1 <= moved <= date.max.toordinal() else None


def _needed_hull(
    spec: PipelineSpec, dep: Dependency, up: PipelineSpec, first: int, last: int
) -> tuple[int, int] | None:
    """Ordinals holding every upstream date some downstream date of ``[first, last]`` needs."""
    hi = _shift(last, dep.offset)
    if hi is None:
        return None
    at_first = needed(spec.schedule, dep, up.schedule, date.fromordinal(first))
    lo = at_first[0].toordinal() if at_first else _shift(first, dep.offset)
    if lo is None or lo > hi:
        return None
    return lo, hi


def _holds(
    spec: PipelineSpec,
    dep: Dependency,
    up: Availability | None,
    first: int,
    last: int,
) -> list[_Hold]:
    """The dates of ``[first, last]`` that need an unavailable date of ``dep``'s upstream."""
    if up is None:  # not in this plan: wait for it rather than run on unknown inputs
        lo, hi = _shift(first, dep.offset), _shift(last, dep.offset)
        upstream = UpstreamDates(
            dep.pipeline, date.fromordinal(lo or first), date.fromordinal(hi or last)
        )
        return [_Hold(first, last, upstream, gone=False)]
    hull = _needed_hull(spec, dep, up.spec, first, last)
    if hull is None:
        return []
    out: list[_Hold] = []
    for a, b in up.unavailable(*hull):
        for lo, hi, gone in _split(a, b, up.gone):
            piece = [(date.fromordinal(lo), date.fromordinal(hi))]
            for block in blocked(spec.schedule, dep, up.spec.schedule, piece):
                s = max(block.blocked[0].toordinal(), first)
                e = min(block.blocked[1].toordinal(), last)
                if s > e:
                    continue
                waits = _waits_for(spec, dep, up.spec, s, e, block.waits_for)
                out.append(_Hold(s, e, waits, gone))
    return out


def _waits_for(
    spec: PipelineSpec,
    dep: Dependency,
    up: PipelineSpec,
    first: int,
    last: int,
    unavailable: tuple[date, date],
) -> UpstreamDates:
    """The unavailable upstream dates that ``[first, last]`` needs, narrowed from the
    upstream range to what those downstream dates read."""
    lo, hi = unavailable
    hull = _needed_hull(spec, dep, up, first, last)
    if hull is not None:
        lo = max(lo, date.fromordinal(hull[0]))
        hi = min(hi, date.fromordinal(hull[1]))
    if lo > hi:
        lo, hi = unavailable
    return UpstreamDates(up.id, lo, hi)


def _split(first: int, last: int, gone: DayRanges) -> Iterator[tuple[int, int, bool]]:
    """``[first, last]`` cut into pieces that are gaps of the upstream or not."""
    cursor = first
    for a, b in gone.within(first, last):
        if a > cursor:
            yield cursor, a - 1, False
        yield a, b, True
        cursor = b + 1
    if cursor <= last:
        yield cursor, last, False


def _merged(pieces: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(pieces):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


class _Holds:
    """The holds of one pipeline as segments: stretches of days over which the same holds
    apply, so a stretch of held days is looked up once, not day by day."""

    def __init__(self, holds: Sequence[_Hold]) -> None:
        self.ranges = DayRanges.of(
            (date.fromordinal(h.first), date.fromordinal(h.last)) for h in holds
        )
        self.segments = _segments(holds)
        self.starts = [seg[0] for seg in self.segments]

    def touches(self, first: int, last: int) -> bool:
        return self.ranges.days_within(first, last) > 0

    def of(self, days: range) -> Iterator[tuple[range, Upstreams, Upstreams]]:
        """``(held days, upstream dates they wait for, those that will never run)`` for
        the held stretches of ``days`` (ascending ordinals with one step), in order."""
        if not days:
            return
        step, first, last = days.step, days[0], days[-1]
        i = max(bisect_right(self.starts, first) - 1, 0)
        for lo, hi, upstream, lost in self.segments[i:]:
            if lo > last:
                break
            if hi < first:
                continue
            a = max(0, -(-(lo - first) // step))
            b = min(len(days) - 1, (hi - first) // step)
            if a <= b:
                yield days[a : b + 1], upstream, lost


def _segments(holds: Sequence[_Hold]) -> list[tuple[int, int, Upstreams, Upstreams]]:
    """``(first, last, upstream, lost)`` for each stretch over which one set of holds
    applies, ascending (a sweep over where holds begin and end)."""
    bounds = sorted({h.first for h in holds} | {h.last + 1 for h in holds})
    by_first = sorted(range(len(holds)), key=lambda k: holds[k].first)
    by_last = sorted(range(len(holds)), key=lambda k: holds[k].last)
    active: dict[int, _Hold] = {}
    out: list[tuple[int, int, Upstreams, Upstreams]] = []
    i = j = 0
    for here, after in pairwise(bounds):
        while i < len(by_first) and holds[by_first[i]].first <= here:
            active[by_first[i]] = holds[by_first[i]]
            i += 1
        while j < len(by_last) and holds[by_last[j]].last < here:
            active.pop(by_last[j], None)
            j += 1
        if active:
            found = active.values()
            lost = _hulls(h.upstream for h in found if h.gone)
            out.append((here, after - 1, _hulls(h.upstream for h in found), lost))
    return out


def _hulls(items: Iterable[UpstreamDates]) -> tuple[UpstreamDates, ...]:
    """One ``UpstreamDates`` per upstream pipeline, spanning what was given for it."""
    found: dict[str, UpstreamDates] = {}
    for u in items:
        had = found.get(u.pipeline_id)
        found[u.pipeline_id] = (
            u
            if had is None
            else UpstreamDates(u.pipeline_id, min(had.first, u.first), max(had.last, u.last))
        )
    return tuple(found[k] for k in sorted(found))


def _take_out(spec: PipelineSpec, pieces: Pieces, holds: Sequence[_Hold]) -> set[int]:
    """Held dates leave their actions (and the backfill block) for waiting and gaps;
    returns the ordinals that became gaps."""
    index = _Holds(holds)
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
    own = _rerun_days(obs, pieces) | decided
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
                    found.append((o, _waits_for(spec, dep, up.spec, o, o, block.waits_for)))
    if not found:
        return
    by_day: dict[int, list[UpstreamDates]] = {}
    for o, u in found:
        by_day.setdefault(o, []).append(u)
    plain = Action(spec.id, "refresh", (), spec.priority, 1)
    held: list[Held] = [(plain, (o,), _hulls(us), ()) for o, us in sorted(by_day.items())]
    _record(spec, pieces, held, adjacency(spec.schedule))


def _rerun_days(obs: PipelineObserved, pieces: Pieces) -> set[int]:
    """Ordinals of this pipeline's dates that already run again or wait to."""
    days = {d.toordinal() for d in obs.in_flight}
    for action in pieces.actions:
        if action.kind in STARTS:
            days.update(d.toordinal() for d in action.dates)
    for waiting in pieces.waiting:
        days.update(d.toordinal() for d in waiting.dates)
    return days


def _request_days(obs: PipelineObserved, pieces: Pieces) -> set[int]:
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
