"""Date spans compressed into runs agree with compressing their dates one by one, also
when the adjacency is another schedule's (a compare whose change edits ``every``)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from reconciler.render.dates import compress, compress_spans

ORIGIN = date(2023, 1, 1).toordinal()


def every(n: int):  # type: ignore[no-untyped-def]
    """The next date of a daily schedule every ``n`` days from 2023-01-01."""

    def following(d: date) -> date:
        return d + timedelta(days=n - (d.toordinal() - ORIGIN) % n)

    return following


def test_consecutive_days_read_with_an_every_2_schedule_are_not_one_run() -> None:
    span = range(ORIGIN + 1, ORIGIN + 200)  # daily dates, adjacency every 2 days
    dates = [date.fromordinal(o) for o in span]
    assert compress_spans([span], every(2)) == compress(dates, every(2))
    assert len(compress_spans([span], every(2))) > 1


@given(
    st.integers(min_value=1, max_value=32),  # schedules repeating within the checked steps
    st.integers(min_value=1, max_value=5),
    st.integers(min_value=0, max_value=50),
    st.integers(min_value=1, max_value=300),
)
def test_spans_compress_as_their_dates_do(n: int, step: int, start: int, length: int) -> None:
    span = range(ORIGIN + start, ORIGIN + start + step * length, step)
    dates = [date.fromordinal(o) for o in span]
    assert compress_spans([span], every(n)) == compress(dates, every(n))
