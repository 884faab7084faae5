"""Python's cyclic garbage collector, paused while a command builds many long-lived objects.

Configs, state and plans of 10^4 pipelines are about 10^6 small acyclic objects: the
cyclic collector would only rescan them (a third of planning time), and the first young
collection after they are built would scan them all again (0.2 s). Both helpers leave
the collector as they found it, so a library call never changes process-global state
for its caller.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block; the collector's on/off state is restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class LongLived:
    """What one pass builds to keep until its end: built with the collector paused, then
    frozen out of its sight; ``thaw`` undoes exactly the freezing this object did.

    Where something else has already frozen objects, nothing is frozen (``gc.unfreeze``
    cannot tell whose objects are whose): the pass is a little slower, never wrong.
    """

    def __init__(self) -> None:
        self._froze = False

    @contextmanager
    def building(self) -> Iterator[None]:
        with paused():
            try:
                yield
            finally:
                if self._froze or gc.get_freeze_count() == 0:
                    gc.freeze()
                    self._froze = True

    def thaw(self) -> None:
        if self._froze:
            gc.unfreeze()
            self._froze = False
