"""The executor's intake: intents read lazily from the plan's stream hand out the same
runs, in the same order, as the whole list would, with a bounded buffer; and the turns
of lazy sources keep their order however many items a round lists."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core import scheduling
from reconciler.core.intake import Intake
from reconciler.core.lazy_listing import interleave


@dataclass(frozen=True, slots=True)
class Item:
    pipeline_id: str
    batch_id: str


def items(pids: list[str]) -> list[Item]:
    return [Item(pid, f"b{n}") for n, pid in enumerate(pids)]


def drain(take: object, limit: int, ahead: int, rounds: int, start_every: int) -> list[str]:
    """Hand out intents round after round: each round takes up to ``ahead`` waiting,
    then starts the oldest ``start_every`` of them and ends what ran the round before
    (so pipelines at their limit free up again)."""
    order: list[str] = []
    pool: list[Item] = []
    running: list[Item] = []
    for _ in range(rounds):
        taken = take(pool, running, ahead, lambda pid: limit)  # type: ignore[operator]
        order += [t.batch_id for t in taken]
        pool += taken
        running = pool[:start_every]
        pool = pool[start_every:]
    return order


pipeline_ids = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=0, max_size=300)


@settings(max_examples=60, deadline=None)
@given(
    pids=pipeline_ids,
    limit=st.integers(1, 6),
    ahead=st.integers(1, 20),
    chunk=st.integers(1, 40),
    start_every=st.integers(1, 8),
)
def test_a_lazy_intake_hands_out_what_the_whole_list_would_in_the_same_order(
    pids: list[str], limit: int, ahead: int, chunk: int, start_every: int
) -> None:
    stream = items(pids)
    queues: dict[str, deque[tuple[int, Item]]] = {}
    for index, item in enumerate(stream):
        queues.setdefault(item.pipeline_id, deque()).append((index, item))

    def whole(pool: list[Item], running: list[Item], ahead: int, lim: object) -> list[Item]:
        return scheduling.take(queues, pool, running, ahead, lambda pid: limit)

    # (a capacity that can hold everything: then the buffer never holds a pipeline back)
    intake: Intake[Item] = Intake(iter(stream), chunk=chunk, capacity=len(stream) + chunk)
    rounds = len(stream) + 5
    expected = drain(whole, limit, ahead, rounds, start_every)
    assert drain(intake.take, limit, ahead, rounds, start_every) == expected
    assert intake.empty == (len(expected) == len(stream))


def test_the_intake_reads_an_endless_stream_a_chunk_at_a_time() -> None:
    endless = (Item(f"p{n % 2000}", f"b{n}") for n in count())
    intake: Intake[Item] = Intake(endless, chunk=256, capacity=4096)
    first = intake.take([], [], 64, lambda pid: 8)
    assert [i.batch_id for i in first] == [f"b{n}" for n in range(64)]
    assert intake.buffered == 256 - 64 and not intake.exhausted
    assert len(intake.drain_read()) == 256 and intake.drain_read() == []


def test_a_pipeline_at_its_limit_fills_the_buffer_only_up_to_its_capacity() -> None:
    # one pipeline with an endless backlog and room for 2: the buffer stops growing
    endless = (Item("only", f"b{n}") for n in count())
    intake: Intake[Item] = Intake(endless, chunk=100, capacity=1000)
    assert len(intake.take([], [], 64, lambda pid: 2)) == 2
    for _ in range(50):
        assert intake.take([], [Item("only", "x"), Item("only", "y")], 64, lambda pid: 2) == []
    assert intake.buffered < 1100


@given(st.lists(st.lists(st.integers(0, 9), max_size=200), max_size=12))
def test_turns_take_the_first_item_of_every_source_then_the_second(
    sources: list[list[int]],
) -> None:
    expected = [
        s[k] for k in range(max(map(len, sources), default=0)) for s in sources if k < len(s)
    ]
    assert list(interleave(sources)) == expected
