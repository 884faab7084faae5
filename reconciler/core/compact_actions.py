"""A plan's actions behind one ``Sequence[Action]``: listed actions and compact backfill
blocks, each able to say its counts and its grouped view without building actions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from itertools import chain, repeat
from operator import floordiv, neg
from typing import Any, Protocol, TypeVar

from reconciler.core.intervals import DayRanges
from reconciler.core.lazy_listing import LazySequence, interleave
from reconciler.core.plan_records import Action, ActionGroup

_T = TypeVar("_T")


class ActionSource(Protocol):
    """One pipeline's actions of one turn (or a plan's listed head and tail)."""

    @property
    def action_count(self) -> int: ...

    def __iter__(self) -> Iterator[Action]: ...

    def groups(self) -> Iterator[ActionGroup]:
        """The actions as groups, in listing order (a group's actions follow each other)."""
        ...

    def dates_by_kind(self) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class ListedActions:
    """Actions kept as they are: each one its own group."""

    actions: tuple[Action, ...] = ()

    @property
    def action_count(self) -> int:
        return len(self.actions)

    def __iter__(self) -> Iterator[Action]:
        return iter(self.actions)

    def groups(self) -> Iterator[ActionGroup]:
        return map(ActionGroup.of, self.actions)

    def dates_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for action in self.actions:
            counts[action.kind] = counts.get(action.kind, 0) + len(action.dates)
        return counts


@dataclass(frozen=True, slots=True)
class GroupedActions:
    """Actions kept as groups told by date ranges (a saved plan read back), listed on demand."""

    grouped: tuple[ActionGroup, ...] = ()

    @property
    def action_count(self) -> int:
        return sum(group.run_count for group in self.grouped)

    def __iter__(self) -> Iterator[Action]:
        return chain.from_iterable(group.actions() for group in self.grouped)

    def groups(self) -> Iterator[ActionGroup]:
        return iter(self.grouped)

    def dates_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for group in self.grouped:
            counts[group.kind] = counts.get(group.kind, 0) + group.date_count
        return counts


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
    coverage: DayRanges
    first: int
    last: int
    origin: int
    step: int
    batch: int = 1
    newest_first: bool = False
    exclude: tuple[int, ...] = ()
    date_count: int = field(init=False)
    action_count: int = field(init=False)

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
        object.__setattr__(self, "date_count", dates)
        object.__setattr__(self, "action_count", actions)

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

    def day_ranges(self) -> Iterator[range]:
        """The runs as ``range``s of day ordinals (with the schedule's step), ascending."""
        if self.step == 1 and not self.exclude:
            return self.coverage.hole_days(self.first, self.last)
        return (range(a, b + 1, self.step) for a, b in self.runs())

    def __iter__(self) -> Iterator[Action]:
        """The actions, in the pipeline's ``backfill.order``.

        Oldest first, they are built by C iterators alone (a plan may list 10^5 of
        them); newest first takes the group's plain Python path.
        """
        if self.newest_first or self.batch != 1:
            return self.group().actions()
        days = zip(map(date.fromordinal, chain.from_iterable(self.day_ranges())))
        pid, priority = repeat(self.pipeline_id), repeat(self.priority)
        return map(_NEW_ACTION, zip(pid, repeat("backfill"), days, priority, *_PLAIN_TAIL))

    def group(self) -> ActionGroup:
        """The block as one group: its spans are the runs, as ranges."""
        return ActionGroup(
            pipeline_id=self.pipeline_id,
            kind="backfill",
            priority=self.priority,
            spans=tuple(self.day_ranges()),
            batch=self.batch,
            newest_first=self.newest_first,
            run_count=self.action_count,
            date_count=self.date_count,
        )

    def groups(self) -> Iterator[ActionGroup]:
        return iter((self.group(),) if self.action_count else ())

    def dates_by_kind(self) -> dict[str, int]:
        return {"backfill": self.date_count} if self.date_count else {}


# An Action built by tuple.__new__ from all nine fields: no Python frame per action.
_NEW_ACTION: Callable[[tuple[Any, ...]], Action] = partial(tuple.__new__, Action)
# attempt 1, no request, reason, run or event: what a plain backfill carries
_PLAIN_TAIL = (repeat(1), repeat(None), repeat(None), repeat(None), repeat(None))


class ActionList(LazySequence[Action]):
    """A plan's actions in start order, kept as sources and listed on demand.

    ``head``: polls, retries and runs; ``backfills``: per priority (highest first), each
    pipeline's backfills, the pipelines taking turns; ``tail``: notifications. Plain
    actions in order (a saved plan read back) are ``ActionList.of(actions)``.
    """

    __slots__ = ("backfills", "head", "tail")
    _noun = "actions"

    def __init__(
        self,
        head: Iterable[Action] = (),
        backfills: Sequence[Sequence[ActionSource]] = (),
        tail: Iterable[Action] = (),
    ) -> None:
        self.head = ListedActions(tuple(head))
        self.backfills = tuple(tuple(turn) for turn in backfills)
        self.tail = ListedActions(tuple(tail))
        counted = sum(source.action_count for turn in self.backfills for source in turn)
        super().__init__(self.head.action_count + counted + self.tail.action_count)

    @classmethod
    def of(cls, actions: Iterable[Action]) -> ActionList:
        """Actions listed in their order."""
        return cls(head=actions)

    def _produce(self) -> Iterator[Action]:
        return chain(self.head, *map(interleave, self.backfills), self.tail)

    def each(self, render: Callable[[ActionGroup], Iterable[_T]]) -> Iterator[_T]:
        """One item per action, in start order, ``render`` making each group's items at once
        (so a writer can turn a compact group into text without building its actions)."""

        def source_items(source: ActionSource) -> Iterator[_T]:
            return chain.from_iterable(map(render, source.groups()))

        turns = (interleave([source_items(s) for s in turn]) for turn in self.backfills)
        return chain(source_items(self.head), *turns, source_items(self.tail))

    def groups(self) -> Iterator[ActionGroup]:
        """Every action in a group: the head's, each turn's by pipeline, then the tail's.

        Groups of different pipelines interleave in ``self``: read it for start order.
        """
        sources = chain((self.head,), chain.from_iterable(self.backfills), (self.tail,))
        return chain.from_iterable(source.groups() for source in sources)

    def dates_by_kind(self) -> dict[str, int]:
        """Dates per action kind, without listing the compact sources."""
        counts: dict[str, int] = {}
        sources = chain((self.head,), chain.from_iterable(self.backfills), (self.tail,))
        for source in sources:
            for kind, dates in source.dates_by_kind().items():
                counts[kind] = counts.get(kind, 0) + dates
        return counts
