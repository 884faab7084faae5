"""Which intents a pass takes and starts next: plan order within per-pipeline limits."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar


class Slotted(Protocol):
    """Anything that takes a pipeline's slot: an intent, a batch, a batch's state."""

    @property
    def pipeline_id(self) -> str: ...

    @property
    def batch_id(self) -> str: ...


Queued = TypeVar("Queued")
Waiting = TypeVar("Waiting", bound=Slotted)


def _count(items: Iterable[Slotted], into: dict[str, int] | None = None) -> dict[str, int]:
    counts = into if into is not None else {}
    for item in items:
        counts[item.pipeline_id] = counts.get(item.pipeline_id, 0) + 1
    return counts


def take(
    queues: dict[str, deque[tuple[int, Queued]]],
    pool: list[Waiting],
    running: Iterable[Slotted],
    ahead: int,
    limit: Callable[[str], int],
) -> list[Queued]:
    """The next intents in plan order, up to ``ahead`` waiting to start; they are taken
    off the front of their pipeline's queue (the queues are the caller's to-do list).

    A pipeline holds at most ``limit(pid)`` intents (running and waiting), so that one
    pipeline's long backfill does not fill the pool for everyone.
    """
    held = _count(pool, _count(running))

    def room(pid: str) -> bool:
        return held.get(pid, 0) < limit(pid)

    heads = [(q[0][0], pid) for pid, q in queues.items() if q and room(pid)]
    heapq.heapify(heads)
    taken: list[Queued] = []
    while heads and len(pool) + len(taken) < ahead:
        _, pid = heapq.heappop(heads)
        queue = queues[pid]
        taken.append(queue.popleft()[1])
        held[pid] = held.get(pid, 0) + 1
        if queue and room(pid):
            heapq.heappush(heads, (queue[0][0], pid))
    return taken


def fit(
    pool: list[Waiting],
    running: Sequence[Slotted],
    max_parallel: int,
    max_active: Callable[[str], int],
) -> list[Waiting]:
    """The written intents, in order, that fit the free slots."""
    in_use = _count(running)
    free = max_parallel - len(running)
    chosen: list[Waiting] = []
    for intent in pool:
        if free <= 0:
            break
        pid = intent.pipeline_id
        if in_use.get(pid, 0) < max_active(pid):
            chosen.append(intent)
            in_use[pid] = in_use.get(pid, 0) + 1
            free -= 1
    return chosen
