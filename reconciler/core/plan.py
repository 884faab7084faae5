"""The plan: a frozen value saying what a reconcile pass will do, and why."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from itertools import chain, islice, repeat, zip_longest
from operator import floordiv, ne, neg, sub
from typing import Any, Literal, NamedTuple, TypeVar, overload

from reconciler.core.intervals import Coverage

ActionKind = Literal["run", "retry", "backfill", "poll", "notify"]
GapReason = Literal["retries_exhausted", "auto_backfill_disabled"]
ChangeKind = Literal["create", "update", "delete"]
ACTION_ORDER: dict[str, int] = {"poll": 0, "retry": 1, "run": 2, "backfill": 3, "notify": 4}


class Action(NamedTuple):
    """One unit of work: a run of one or more dates, a poll, or a notification.

    ``attempt`` is the attempt number the run will be (1 for a first run);
    ``run_id`` names the run a ``poll`` follows; ``event`` the kind of a ``notify``.
    A NamedTuple rather than a frozen dataclass: equally immutable, and four times
    cheaper to build, which matters when a plan holds 10^5 single-date backfills.
    """

    pipeline_id: str
    kind: ActionKind
    dates: tuple[date, ...]
    priority: int = 0
    attempt: int = 1
    request_id: str | None = None
    reason: str | None = None
    run_id: str | None = None
    event: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillBlock:
    """One pipeline's plain backfills (no request) in compact form, listed on demand.

    The dates are the scheduled dates of the progression ``origin + k * step`` in
    ``[first, last]`` that ``coverage`` does not cover and ``exclude`` (dates that are
    something else: failed, in flight, claimed by a request) does not hold. Ten years of
    history with 1% holes is 3.7 * 10^5 single-date backfills for 10k pipelines;
    counting them takes a sum over the coverage, and an ``Action`` is built only when
    somebody reads it. ``exclude`` must be ascending ordinals of scheduled, uncovered
    dates inside ``[first, last]`` (the planner's own dates), so counts need no walk.
    """

    pipeline_id: str
    priority: int
    coverage: Coverage
    first: int
    last: int
    origin: int
    step: int
    batch: int = 1
    newest_first: bool = False
    exclude: tuple[int, ...] = ()
    dates: int = field(init=False)
    actions: int = field(init=False)

    def __post_init__(self) -> None:
        step, batch, first, last = self.step, self.batch, self.first, self.last
        if step == 1 and (batch == 1 or not self.exclude):
            # the runs are the coverage's holes: count them with sums done in C
            # (excluded dates lie in the holes, inside [first, last], by construction)
            dates = self.coverage.uncovered_within(first, last) - len(self.exclude)
            actions = dates
            if batch > 1:  # ceil(n / batch) summed as -sum(-n // batch)
                lengths = self.coverage.hole_lengths(first, last)
                actions = -sum(map(floordiv, map(neg, lengths), repeat(batch)))
        else:
            dates = actions = 0
            for a, b in self.runs():
                n = (b - a) // step + 1
                dates += n
                actions += -(-n // batch)
        object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "actions", actions)

    def runs(self) -> Iterator[tuple[int, int]]:
        """Runs of consecutive scheduled dates to backfill: (first, last) ordinals, ascending."""
        if self.step == 1 and not self.exclude:
            return self.coverage.holes(self.first, self.last)
        return self._merged_runs()

    def _merged_runs(self) -> Iterator[tuple[int, int]]:
        # covered days that are not scheduled do not part scheduled neighbours
        pending: tuple[int, int] | None = None
        for a, b in self._pieces():
            if pending is not None and a == pending[1] + self.step:
                pending = (pending[0], b)
                continue
            if pending is not None:
                yield pending
            pending = (a, b)
        if pending is not None:
            yield pending

    def _pieces(self) -> Iterator[tuple[int, int]]:
        """Scheduled dates of each hole of the coverage, split at the excluded dates."""
        origin, step = self.origin, self.step
        excluded = iter(self.exclude)
        skip = next(excluded, None)
        for a, b in self.coverage.holes(self.first, self.last):
            if step != 1:
                a += (origin - a) % step
                b -= (b - origin) % step
                if a > b:
                    continue
            while skip is not None and skip <= b:
                if skip >= a:
                    if skip > a:
                        yield a, skip - step
                    a = skip + step
                skip = next(excluded, None)
            if a <= b:
                yield a, b

    def __iter__(self) -> Iterator[Action]:
        """The actions, in the pipeline's ``backfill.order``.

        Oldest first, they are built by C iterators alone (a plan may list 10^5 of
        them); newest first takes the plain Python path.
        """
        if self.newest_first:
            return self._newest_first()
        fields = zip(
            repeat(self.pipeline_id),
            repeat("backfill"),
            self.date_groups(),
            repeat(self.priority),
            *_PLAIN_TAIL,
        )
        return map(_NEW_ACTION, fields)

    def date_groups(self) -> Iterator[tuple[date, ...]]:
        """The dates of each action, in order (for writers that need nothing else)."""
        if self.newest_first:
            return (action.dates for action in self._newest_first())
        if self.batch == 1:
            return zip(map(date.fromordinal, self.single_days()))
        chunks = chain.from_iterable(map(partial(_chunks, self.batch), self._day_ranges()))
        return map(tuple, map(partial(map, date.fromordinal), chunks))

    def single_days(self) -> Iterator[int]:
        """Day ordinals of single-date actions oldest first (``batch`` 1, ``oldest_first``)."""
        if self.batch != 1 or self.newest_first:
            raise ValueError("single_days: the block holds batches or lists newest first")
        return chain.from_iterable(self._day_ranges())

    def _day_ranges(self) -> Iterator[range]:
        if self.step == 1 and not self.exclude:
            return self.coverage.hole_days(self.first, self.last)
        return (range(a, b + 1, self.step) for a, b in self.runs())

    def _newest_first(self) -> Iterator[Action]:
        pid, priority, step, size = self.pipeline_id, self.priority, self.step, self.batch
        for a, b in reversed(list(self.runs())):
            days = [date.fromordinal(o) for o in range(b, a - 1, -step)]
            for i in range(0, len(days), size):
                yield Action(pid, "backfill", tuple(reversed(days[i : i + size])), priority)


def _chunks(size: int, days: range) -> Sequence[range]:
    """A run of dates in batches of at most ``size``."""
    if len(days) <= size:
        return (days,)
    return [days[i : i + size] for i in range(0, len(days), size)]


# An Action built by tuple.__new__ from all nine fields: no Python frame per action.
_NEW_ACTION: Callable[[tuple[Any, ...]], Action] = partial(tuple.__new__, Action)
# attempt 1, no request, reason, run or event: what a plain backfill carries
_PLAIN_TAIL = (repeat(1), repeat(None), repeat(None), repeat(None), repeat(None))


ActionSource = tuple[Action, ...] | BackfillBlock
_T = TypeVar("_T")


class LazySequence(Sequence[_T]):
    """A sequence kept in a compact form and listed on demand: iterating builds items
    one by one; indexing lists them all once. Subclasses set ``_length`` and give
    ``_produce``."""

    __slots__ = ("_length", "_listed")
    _noun = "items"

    def __init__(self, length: int) -> None:
        self._length = length
        self._listed: tuple[_T, ...] | None = None

    def _produce(self) -> Iterator[_T]:
        raise NotImplementedError

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[_T]:
        return iter(self._listed) if self._listed is not None else self._produce()

    @overload
    def __getitem__(self, index: int) -> _T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[_T]: ...

    def __getitem__(self, index: int | slice) -> _T | Sequence[_T]:
        if self._listed is None:
            self._listed = tuple(self._produce())
        return self._listed[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} {self._noun})"


class ActionList(LazySequence[Action]):
    """A plan's actions in start order, kept as compact sources and listed on demand.

    ``head``: polls, retries and runs; ``backfills``: per priority (highest first), each
    pipeline's backfills, the pipelines taking turns; ``tail``: notifications.
    """

    __slots__ = ("backfills", "head", "tail")
    _noun = "actions"

    def __init__(
        self,
        head: Sequence[Action] = (),
        backfills: Sequence[Sequence[ActionSource]] = (),
        tail: Sequence[Action] = (),
    ) -> None:
        self.head = tuple(head)
        self.backfills = tuple(tuple(group) for group in backfills)
        self.tail = tuple(tail)
        counted = sum(_count(source) for group in self.backfills for source in group)
        super().__init__(len(self.head) + counted + len(self.tail))

    def _produce(self) -> Iterator[Action]:
        return chain(self.head, *map(_interleave, self.backfills), self.tail)

    def rendered(
        self,
        action: Callable[[Action], str],
        block: Callable[[BackfillBlock], Iterator[str]],
    ) -> Iterator[str]:
        """Each action as text, in start order; ``block`` renders a compact source whole,
        so a writer can skip building its ``Action`` objects."""

        def source(item: ActionSource) -> Iterable[str]:
            return block(item) if isinstance(item, BackfillBlock) else map(action, item)

        turns = (_interleave([source(item) for item in group]) for group in self.backfills)
        return chain(map(action, self.head), *turns, map(action, self.tail))

    def dates_by_kind(self) -> dict[str, int]:
        """Dates per action kind, without listing the compact sources."""
        counts: dict[str, int] = {}
        for action in chain(self.head, self.tail):
            counts[action.kind] = counts.get(action.kind, 0) + len(action.dates)
        for group in self.backfills:
            for source in group:
                if isinstance(source, BackfillBlock):
                    counts["backfill"] = counts.get("backfill", 0) + source.dates
                else:
                    for action in source:
                        counts[action.kind] = counts.get(action.kind, 0) + len(action.dates)
        return counts


def _count(source: ActionSource) -> int:
    return source.actions if isinstance(source, BackfillBlock) else len(source)


def _interleave(sources: Sequence[Iterable[_T]]) -> Iterator[_T]:
    """Take turns: the first action of each source (in order), then the second, ..."""
    if len(sources) == 1:
        return iter(sources[0])
    return chain.from_iterable(_turns(sources))


def _turns(sources: Sequence[Iterable[_T]], size: int = 64) -> Iterator[Iterator[_T]]:
    """``size`` turns at a time: each source lists its next ``size`` actions in one go.

    Stepping 10^4 lazy sources one action each per turn thrashes the CPU caches (three
    times slower than listing them one after another); a list per source per round
    keeps that locality and still bounds memory. ``filter(None, ...)`` drops only the
    padding: an action is a non-empty tuple.
    """
    live = [iter(source) for source in sources]
    while live:
        batches = [list(islice(it, size)) for it in live]
        yield filter(None, chain.from_iterable(zip_longest(*batches)))
        live = [it for it, batch in zip(live, batches, strict=True) if len(batch) == size]


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiting:
    """Failed dates whose next retry is not due yet."""

    pipeline_id: str
    dates: tuple[date, ...]
    next_retry_at: datetime
    attempt: int


@dataclass(frozen=True, slots=True)
class Gap:
    """Due dates that nothing will run, and why."""

    pipeline_id: str
    dates: tuple[date, ...]
    reason: GapReason


@dataclass(frozen=True, slots=True, kw_only=True)
class GapRun:
    """One pipeline's gap dates of one reason in compact form: ascending ordinals of a
    progression with ``step``, listed as ``Gap``s of consecutive dates on demand."""

    pipeline_id: str
    ordinals: Sequence[int]
    step: int
    reason: GapReason

    def groups(self) -> int:
        """How many ``Gap``s the dates make (a break is a step other than ``step``)."""
        ords = self.ordinals
        if not ords:
            return 0
        breaks: int = sum(map(ne, map(sub, ords[1:], ords[:-1]), repeat(self.step)))
        return 1 + breaks

    def __iter__(self) -> Iterator[Gap]:
        if not self.ordinals:
            return
        fromordinal, step = date.fromordinal, self.step
        run = [self.ordinals[0]]
        for o in self.ordinals[1:]:
            if o - run[-1] == step:
                run.append(o)
            else:
                yield Gap(self.pipeline_id, tuple(map(fromordinal, run)), self.reason)
                run = [o]
        yield Gap(self.pipeline_id, tuple(map(fromordinal, run)), self.reason)


class GapList(LazySequence[Gap]):
    """A plan's gaps, in order, with compact ``GapRun``s listed on demand (an imported
    history's exhausted failures are 10^5 scattered dates)."""

    __slots__ = ("sources",)
    _noun = "gaps"

    def __init__(self, sources: Sequence[Gap | GapRun] = ()) -> None:
        self.sources = tuple(sources)
        super().__init__(sum(s.groups() if isinstance(s, GapRun) else 1 for s in self.sources))

    def _produce(self) -> Iterator[Gap]:
        return chain.from_iterable(s if isinstance(s, GapRun) else (s,) for s in self.sources)

    def dates(self) -> int:
        """Gap dates in all, without listing the compact sources."""
        return sum(len(s.ordinals) if isinstance(s, GapRun) else len(s.dates) for s in self.sources)


@dataclass(frozen=True, slots=True)
class SlaBreach:
    """A date whose SLA deadline passed without a successful run."""

    pipeline_id: str
    date: date
    deadline: datetime


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """A pipeline whose YAML differs from the applied config; ``fields``: name -> (old, new)."""

    pipeline_id: str
    change: ChangeKind
    fields: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Everything a pass would do at ``now``; rendered, saved and compared as data."""

    now: datetime
    pipelines: int
    config_changes: tuple[ConfigChange, ...] = ()
    actions: Sequence[Action] = ()
    waiting: tuple[Waiting, ...] = ()
    gaps: Sequence[Gap] = ()
    sla_breaches: tuple[SlaBreach, ...] = ()

    @property
    def summary(self) -> dict[str, int]:
        """Dates per kind, plus the number of pipelines (docs/plan-json.md)."""
        counts = {
            "pipelines": self.pipelines,
            "run": 0,
            "retry": 0,
            "backfill": 0,
            "poll": 0,
            "gap": 0,
        }
        if isinstance(self.actions, ActionList):
            for kind, dates in self.actions.dates_by_kind().items():
                if kind in counts:
                    counts[kind] += dates
        else:
            for action in self.actions:
                if action.kind in counts:
                    counts[action.kind] += len(action.dates)
        if isinstance(self.gaps, GapList):
            counts["gap"] = self.gaps.dates()
        else:
            counts["gap"] = sum(len(g.dates) for g in self.gaps)
        return counts

    @property
    def has_changes(self) -> bool:
        """Whether applying would do anything (``--detailed-exitcode`` 2)."""
        return bool(self.actions or self.config_changes)
