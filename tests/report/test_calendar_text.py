"""Terminal calendars: snapshots (plain and coloured), 80 columns, layouts, characters.

Snapshots live in ``snapshots/``; after an intended change, rewrite them with
``UPDATE_SNAPSHOTS=1 python -m pytest tests/report/test_calendar_text.py`` and review
the diff.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest
from report_support import DAILY, DAILY_OBS, MONTHLY, MONTHLY_OBS, NOW, calendar, fixed_calendars

from reconciler.core.date_states import STATES
from reconciler.core.spec import PipelineSpec, Schedule
from reconciler.render.calendar_grid import calendar_window, layout_for
from reconciler.render.calendar_text import GLYPHS, PLAIN, legend, render_calendars

SNAPSHOTS = Path(__file__).parent / "snapshots"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
STAMP = NOW.isoformat(timespec="seconds")


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}; run with UPDATE_SNAPSHOTS=1 to create it"
    assert text == path.read_text(encoding="utf-8")


def widest(text: str) -> int:
    return max(len(ANSI.sub("", line)) for line in text.splitlines())


@pytest.mark.parametrize(("colour", "name"), [(False, "plain"), (True, "colour")])
def test_snapshot(colour: bool, name: str) -> None:
    text = render_calendars(fixed_calendars(), STAMP, colour)
    check_snapshot(f"calendar_{name}.txt", text)
    assert widest(text) <= 80
    assert bool(ANSI.search(text)) is colour


def test_plain_and_coloured_show_the_same_grid() -> None:
    plain = render_calendars(fixed_calendars(), STAMP, False)
    coloured = ANSI.sub("", render_calendars(fixed_calendars(), STAMP, True))
    for state in STATES:
        coloured = coloured.replace(GLYPHS[state], PLAIN[state])
    assert coloured == plain


def test_every_state_has_its_own_character_in_both_modes() -> None:
    assert len(set(PLAIN.values())) == len(STATES) == len(set(GLYPHS.values()))
    assert all(c.isascii() and c.strip() for c in PLAIN.values())
    assert " " not in GLYPHS.values()


def test_the_fixture_shows_every_state() -> None:
    seen = {s for cal in fixed_calendars() for s in cal.states.values()}
    assert seen == set(STATES)


@pytest.mark.parametrize("colour", [False, True])
def test_a_long_window_wraps_into_blocks_within_80_columns(colour: bool) -> None:
    name = "A pipeline with a rather long descriptive name that goes on and on and on"
    cal = calendar(DAILY, DAILY_OBS, name=name, date_from=date(2023, 1, 1))
    text = render_calendars([cal], STAMP, colour)
    assert widest(text) <= 80
    # 2026-01-01 (start) .. 2026-03-22: the window is clipped to the schedule's start
    assert cal.first == date(2026, 1, 1)
    long = calendar(
        PipelineSpec(id=DAILY.id, schedule=Schedule(type="daily", start=date(2023, 1, 2))),
        DAILY_OBS,
        date_from=date(2023, 1, 2),
    )
    text = render_calendars([long], STAMP, colour)
    assert widest(text) <= 80
    assert ANSI.sub("", text).count("\nMon ") == 3  # 169 weeks in blocks of at most 76


def test_weekly_calendar_drops_weekdays_without_dates() -> None:
    text = render_calendars(fixed_calendars()[1:2], STAMP, False)
    rows = [line[:3] for line in text.splitlines() if line[:3] in ("Mon", "Tue", "Wed", "Fri")]
    assert rows == ["Mon", "Wed", "Fri"]


def test_monthly_schedules_are_drawn_by_month() -> None:
    assert layout_for(MONTHLY.schedule) == "month"
    assert calendar_window(MONTHLY.schedule, NOW, "month") == (
        date(2025, 1, 31),
        date(2026, 12, 31),
    )
    text = render_calendars([calendar(MONTHLY, MONTHLY_OBS)], STAMP, False)
    assert "      Jan Feb Mar" in text
    assert "\n2025  " in text and "\n2026  " in text


def test_from_to_select_the_window() -> None:
    cal = calendar(DAILY, DAILY_OBS, date_from=date(2026, 2, 1), date_to=date(2026, 2, 14))
    assert (cal.first, cal.last) == (date(2026, 2, 1), date(2026, 2, 14))
    assert len(cal.states) == 14


def test_empty_window_says_so() -> None:
    cal = calendar(DAILY, DAILY_OBS, date_from=date(2025, 1, 1), date_to=date(2025, 2, 1))
    assert "no scheduled dates between" in render_calendars([cal], STAMP, False)


def test_legend_wraps_under_the_label() -> None:
    lines = legend(False, 40).splitlines()
    assert lines[0].startswith("Legend: ")
    assert all(line.startswith(" " * 8) for line in lines[1:])
    assert max(len(line) for line in lines) <= 40
