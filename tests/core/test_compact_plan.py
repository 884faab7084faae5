"""The compact forms behind big plans: ``Coverage`` ordinals and lazy ``BackfillBlock``s
must say exactly what the plain per-date forms say."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.core.intervals import Coverage, complement, contains, from_dates
from reconciler.core.plan import Action, ActionList, BackfillBlock

BASE = date(2024, 1, 1).toordinal()
days = st.sets(st.integers(0, 80), max_size=60)


@given(days, st.integers(-5, 85), st.integers(-5, 85))
def test_coverage_counts_and_holes_match_the_days(covered: set[int], a: int, b: int) -> None:
    cov = Coverage.of(from_dates(date.fromordinal(BASE + d) for d in covered))
    lo, hi = BASE + a, BASE + b
    inside = {BASE + d for d in covered if a <= d <= b}
    assert cov.days_within(lo, hi) == len(inside)
    holes = [o for x, y in cov.holes(lo, hi) for o in range(x, y + 1)]
    assert holes == [o for o in range(lo, hi + 1) if o not in inside]
    assert cov.uncovered_within(lo, hi) == len(holes)
    window = list(range(lo, hi + 1))
    assert cov.any_of(window) == any(o - BASE in covered for o in window)
    for o in range(lo, hi + 1):
        assert cov.any_of([o]) == cov.covers(o) == (o - BASE in covered)
        assert contains(cov, date.fromordinal(o)) == (o - BASE in covered)
    plain = tuple(cov)
    first, last = date.fromordinal(min(lo, hi)), date.fromordinal(hi)
    assert list(complement(cov, first, last)) == list(complement(plain, first, last))
    assert Coverage.of(plain) == cov == plain


@given(
    days,
    st.integers(0, 40),
    st.integers(20, 90),
    st.integers(1, 7),
    st.integers(0, 6),
    st.integers(1, 4),
    st.booleans(),
    st.sets(st.integers(0, 90), max_size=8),
)
def test_block_lists_the_uncovered_scheduled_dates_in_batches(
    covered: set[int],
    first: int,
    last: int,
    step: int,
    phase: int,
    batch: int,
    newest_first: bool,
    excluded: set[int],
) -> None:
    cov = Coverage.of(from_dates(date.fromordinal(BASE + d) for d in covered))
    origin = BASE + phase
    scheduled = [
        o
        for o in range(BASE + first, BASE + last + 1)
        if (o - origin) % step == 0 and o - BASE not in covered
    ]
    # the planner's own excluded dates: scheduled, uncovered, inside the window
    exclude = sorted(
        BASE + e
        for e in excluded
        if (BASE + e - origin) % step == 0 and e not in covered and first <= e <= last
    )
    wanted = [o for o in scheduled if o not in exclude]
    block = BackfillBlock(
        "p", 3, cov, BASE + first, BASE + last, origin, step, batch, newest_first, tuple(exclude)
    )
    # runs: maximal stretches of consecutive scheduled dates (no covered/excluded between)
    runs: list[list[int]] = []
    for o in wanted:
        if (
            runs
            and o - runs[-1][-1] == step
            and all(m in wanted for m in range(runs[-1][-1], o + 1, step))
        ):
            runs[-1].append(o)
        else:
            runs.append([o])
    expected: list[tuple[int, ...]] = []
    for run in reversed(runs) if newest_first else runs:
        if newest_first:
            chunks = [run[max(i - batch, 0) : i] for i in range(len(run), 0, -batch)]
        else:
            chunks = [run[i : i + batch] for i in range(0, len(run), batch)]
        expected += [tuple(c) for c in chunks]
    listed = list(block)
    assert [tuple(d.toordinal() for d in a.dates) for a in listed] == expected
    assert all(a.kind == "backfill" and a.priority == 3 for a in listed)
    assert block.dates == len(wanted)
    assert block.actions == len(expected) == len(listed)


def test_action_list_takes_turns_and_counts_without_listing() -> None:
    cov = Coverage.of([(date(2024, 1, 2), date(2024, 1, 3))])
    o = date(2024, 1, 1).toordinal()
    a = BackfillBlock("a", 0, cov, o, o + 4, o, 1)
    b = (Action("b", "backfill", (date(2024, 2, 1),)),)
    head = (Action("c", "run", (date(2024, 3, 1),)),)
    listing = ActionList(head, [[a, b]], ())
    assert len(listing) == 5
    assert listing.dates_by_kind() == {"run": 1, "backfill": 4}
    assert [(x.pipeline_id, x.dates[0].day) for x in listing] == [
        ("c", 1),
        ("a", 1),
        ("b", 1),
        ("a", 4),
        ("a", 5),
    ]
    assert listing[1].pipeline_id == "a" and listing == tuple(listing)


@given(st.sets(st.integers(0, 200), max_size=40), st.integers(1, 3))
def test_gap_runs_list_consecutive_dates_as_gaps(days: set[int], step: int) -> None:
    from reconciler.core.plan import GapList, GapRun

    ordinals = sorted(BASE + d * step for d in days)
    run = GapRun("p", ordinals, step, "retries_exhausted")
    expected: list[list[int]] = []
    for o in ordinals:
        if expected and o - expected[-1][-1] == step:
            expected[-1].append(o)
        else:
            expected.append([o])
    listed = list(run)
    assert [[d.toordinal() for d in g.dates] for g in listed] == expected
    assert run.groups() == len(expected)
    gaps = GapList([run])
    assert len(gaps) == len(expected) and gaps.dates() == len(ordinals)
    assert gaps == tuple(listed)


def test_failed_dates_read_packed_ids_and_build_failed_on_demand() -> None:
    from datetime import UTC, datetime

    from reconciler.core.coverage import Failed, FailedDates, epoch_us

    ended = datetime(2024, 5, 1, 3, 4, 5, 123456, tzinfo=UTC)
    days = [date(2024, 1, 2), date(2024, 1, 5)]
    us = epoch_us(ended)
    packed = FailedDates.packed(
        [d.toordinal() for d in days], [1, 3], f"{us}\x1f\x1frun-a\x1e{us}\x1freq-7\x1frun-b"
    )
    assert list(packed) == days and date(2024, 1, 3) not in packed
    assert packed[days[0]] == Failed(1, ended, None, "run-a")
    assert packed[days[1]] == Failed(3, ended, "req-7", "run-b")
    assert packed == FailedDates.of(dict(packed.items()))
    assert packed.ended_us == [us, us] and packed.request_ids == [None, "req-7"]
    broken = FailedDates.packed([1, 2], [1, 1], "0\x1f\x1fonly-one")
    with pytest.raises(ValueError, match="packed details"):
        broken.at(0)
    short = FailedDates.packed([1], [1], "0\x1fno-run-id")
    with pytest.raises(ValueError, match="packed details"):
        short.at(0)
    with pytest.raises(ValueError, match="differ in length"):
        FailedDates.packed([1, 2], [1], "")
