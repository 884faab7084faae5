"""The executor's look-ahead over a pass's intents: read from the plan's lazy stream in
start order, a chunk at a time, as the free slots ask for them.

A fleet that has never run plans millions of backfills; the pass must start its first
run without listing them, and keep its memory flat while it works through them. The
intake keeps a bounded buffer, one queue per pipeline, and hands out the next intents
in plan order among the pipelines that have room (``scheduling.take``): a pipeline at
its limit keeps its intents in the buffer while the others go on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Generic, TypeVar

from reconciler.core import scheduling
from reconciler.core.scheduling import Slotted

Item = TypeVar("Item", bound=Slotted)

CHUNK = 256  # intents read from the stream at a time
CAPACITY = 4096  # the most intents the buffer holds (per pass, whatever the backlog)


class Intake(Generic[Item]):
    """A stream of intents in start order, read as they are needed.

    ``drain_read`` gives the intents read from the stream since it was last called (to
    be queued in the state, in the same write as the next intents recorded).
    """

    def __init__(
        self, stream: Iterable[Item], chunk: int = CHUNK, capacity: int = CAPACITY
    ) -> None:
        self._stream: Iterator[Item] = iter(stream)
        self._chunk = chunk
        self._capacity = max(capacity, chunk)
        self._queues: dict[str, deque[tuple[int, Item]]] = {}
        self._read = 0  # intents read so far (each one's place in start order)
        self._buffered = 0
        self._fresh: list[Item] = []
        self.exhausted = False

    @property
    def empty(self) -> bool:
        """Nothing left to hand out: the stream is read to its end, the buffer empty."""
        return self.exhausted and not self._buffered

    @property
    def buffered(self) -> int:
        return self._buffered

    def take(
        self,
        pool: list[Slotted],
        running: Iterable[Slotted],
        ahead: int,
        limit: Callable[[str], int],
    ) -> list[Item]:
        """The next intents in start order, so that at most ``ahead`` wait to start, a
        pipeline holding at most ``limit(pid)`` (running and waiting); more of the stream
        is read while the buffer cannot fill the free places and is not full."""
        running = list(running)
        taken: list[Item] = []
        while True:
            waiting: list[Slotted] = [*pool, *taken]
            more = scheduling.take(self._queues, waiting, running, ahead, limit)
            self._buffered -= len(more)
            taken += more
            if len(pool) + len(taken) >= ahead or self.exhausted:
                break
            if self._buffered >= self._capacity:
                break
            self._pull()
        for pid in [pid for pid, queue in self._queues.items() if not queue]:
            del self._queues[pid]
        return taken

    def drain_read(self) -> list[Item]:
        fresh, self._fresh = self._fresh, []
        return fresh

    def _pull(self) -> None:
        count = 0
        for item in islice(self._stream, self._chunk):
            self._queues.setdefault(item.pipeline_id, deque()).append((self._read, item))
            self._fresh.append(item)
            self._read += 1
            count += 1
        self._buffered += count
        if count < self._chunk:
            self.exhausted = True
