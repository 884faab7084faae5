"""A plan's gaps behind one ``Sequence[Gap]``: listed gaps and compact runs of ordinals
(an imported history's exhausted failures are 10^5 scattered dates)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, compress, repeat
from operator import ne, sub
from typing import Protocol

from reconciler.core.lazy_listing import LazySequence
from reconciler.core.plan_records import Gap, GapGroup, GapReason


class GapSource(Protocol):
    """Gaps of one pipeline, compact or listed."""

    @property
    def gap_count(self) -> int: ...

    @property
    def date_count(self) -> int: ...

    def groups(self) -> Iterator[GapGroup]: ...


@dataclass(frozen=True, slots=True)
class ListedGaps:
    """Gaps kept as they are: each one its own group."""

    gaps: tuple[Gap, ...]

    @property
    def gap_count(self) -> int:
        return len(self.gaps)

    @property
    def date_count(self) -> int:
        return sum(len(gap.dates) for gap in self.gaps)

    def groups(self) -> Iterator[GapGroup]:
        return map(GapGroup.of, self.gaps)


@dataclass(frozen=True, slots=True)
class GroupedGaps:
    """Gaps kept as groups told by date ranges (a saved plan read back)."""

    grouped: tuple[GapGroup, ...]

    @property
    def gap_count(self) -> int:
        return sum(group.gap_count for group in self.grouped)

    @property
    def date_count(self) -> int:
        return sum(group.date_count for group in self.grouped)

    def groups(self) -> Iterator[GapGroup]:
        return iter(self.grouped)


@dataclass(frozen=True, slots=True, kw_only=True)
class GapRun:
    """One pipeline's gap dates of one reason in compact form: ascending ordinals of a
    progression with ``step``, a ``Gap`` per stretch of consecutive dates."""

    pipeline_id: str
    ordinals: Sequence[int]
    step: int
    reason: GapReason

    def _breaks(self) -> Iterator[int]:
        """Indexes where a new stretch starts (a step other than ``step``), found in C."""
        ords = self.ordinals
        steps = map(ne, map(sub, ords[1:], ords[:-1]), repeat(self.step))
        return compress(range(1, len(ords)), steps)

    @property
    def gap_count(self) -> int:
        return 1 + sum(1 for _ in self._breaks()) if self.ordinals else 0

    @property
    def date_count(self) -> int:
        return len(self.ordinals)

    def groups(self) -> Iterator[GapGroup]:
        ords, step = self.ordinals, self.step
        if not ords:
            return iter(())
        starts = (0, *self._breaks())
        ends = (*starts[1:], len(ords))
        spans = tuple(
            range(ords[a], ords[b - 1] + 1, step) for a, b in zip(starts, ends, strict=True)
        )
        group = GapGroup(
            pipeline_id=self.pipeline_id, reason=self.reason, spans=spans, date_count=len(ords)
        )
        return iter((group,))


class GapList(LazySequence[Gap]):
    """A plan's gaps, in order, kept as sources and listed on demand."""

    __slots__ = ("sources",)
    _noun = "gaps"

    def __init__(self, sources: Iterable[GapSource] = ()) -> None:
        self.sources = tuple(sources)
        super().__init__(sum(source.gap_count for source in self.sources))

    @classmethod
    def of(cls, gaps: Iterable[Gap]) -> GapList:
        """Gaps listed in their order."""
        return cls((ListedGaps(tuple(gaps)),))

    def _produce(self) -> Iterator[Gap]:
        return chain.from_iterable(group.gaps() for group in self.groups())

    def groups(self) -> Iterator[GapGroup]:
        """Every gap in a group, in order."""
        return chain.from_iterable(source.groups() for source in self.sources)

    def date_count(self) -> int:
        """Gap dates in all, without listing the compact sources."""
        return sum(source.date_count for source in self.sources)
