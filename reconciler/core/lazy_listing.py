"""Sequences kept in a compact form and listed on demand, and the turn-taking of lazy sources."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from itertools import chain, islice, zip_longest
from operator import is_not
from typing import TypeVar, overload

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


def interleave(sources: Sequence[Iterable[_T]]) -> Iterator[_T]:
    """Take turns: the first item of each source (in order), then the second, ..."""
    if len(sources) == 1:
        return iter(sources[0])
    return chain.from_iterable(_turns(sources))


def _turns(sources: Sequence[Iterable[_T]], size: int = 64) -> Iterator[Iterator[_T]]:
    """Up to ``size`` turns at a time: each source lists its next items in one go.

    Stepping 10^4 lazy sources one item each per turn thrashes the CPU caches (three
    times slower than listing them one after another); a list per source per round
    keeps that locality and still bounds memory. The first round takes one turn and
    each next one twice as many, up to ``size``: the first items come without listing
    ``size`` items of every source (``apply`` starts its first runs from them). Items
    are never ``None``, so ``zip_longest``'s padding is dropped by identity.
    """
    live = [iter(source) for source in sources]
    step = 1
    while live:
        batches = [list(islice(it, step)) for it in live]
        yield _without_padding(chain.from_iterable(zip_longest(*batches)))
        live = [it for it, batch in zip(live, batches, strict=True) if len(batch) == step]
        step = min(step * 2, size)


def _without_padding(items: Iterator[_T | None]) -> Iterator[_T]:
    # ``filter(None, ...)`` would also drop falsy items (an empty string); padding is None
    return filter(_IS_ITEM, items)  # type: ignore[arg-type]


_IS_ITEM = partial(is_not, None)
