"""Terminal calendars: one cell per scheduled date, by week or by month, and a legend.

With colour, each state has its own glyph and colour; without (``NO_COLOR``, a pipe),
each has its own plain ASCII character, so the calendar reads the same in a log file.
Every line fits ``width`` columns (80 by default).
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from reconciler.core.date_states import (
    COVERED_STATES,
    LABELS,
    STATES,
    DateState,
    count_states,
)
from reconciler.render.calendar_grid import Block, PipelineCalendar, blocks_for

WIDTH = 80
PLAIN: dict[DateState, str] = {
    "covered": "#",
    "covered_late": "L",
    "outdated": "O",
    "in_flight": "~",
    "retrying": "R",
    "failed": "X",
    "canceled": "C",
    "blocked": "B",
    "gap": "!",
    "excluded": "-",
    "not_due": ".",
}
GLYPHS: dict[DateState, str] = {
    "covered": "■",
    "covered_late": "▣",
    "outdated": "◩",
    "in_flight": "◐",
    "retrying": "↻",
    "failed": "×",
    "canceled": "⊗",
    "blocked": "⊘",
    "gap": "□",
    "excluded": "–",
    "not_due": "·",
}
# glyphs differ by shape as well as colour, so red and green never carry meaning alone
COLOURS: dict[DateState, tuple[str, bool]] = {
    "covered": ("green", False),
    "covered_late": ("yellow", False),
    "outdated": ("blue", False),
    "in_flight": ("cyan", False),
    "retrying": ("magenta", False),
    "failed": ("red", True),
    "canceled": ("yellow", True),
    "blocked": ("bright_magenta", False),
    "gap": ("red", False),
    "excluded": ("white", False),
    "not_due": ("bright_black", False),
}
WEEK_LABEL = 4  # "Mon "
MONTH_LABEL = 6  # "2026  "


class _Cells:
    """Turns states into characters, styled in runs so a row is a few escape codes."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def char(self, state: DateState) -> str:
        return GLYPHS[state] if self.colour else PLAIN[state]

    def paint(self, text: str, state: DateState | None) -> str:
        if not self.colour or state is None or not text.strip():
            return text
        fg, bold = COLOURS[state]
        return click.style(text, fg=fg, bold=bold or None)

    def row(self, cells: Sequence[tuple[str, DateState | None]]) -> str:
        """Characters with their states: consecutive equal states share one style."""
        out: list[str] = []
        run, current = "", None
        for char, state in cells:
            if state != current and run:
                out.append(self.paint(run, current))
                run = ""
            run, current = run + char, state
        out.append(self.paint(run, current))
        return "".join(out).rstrip()


def _wrap_units(
    units: Sequence[str],
    sizes: Sequence[int],
    width: int,
    indent: str,
    first: str = "",
    sep: str = "  ",
) -> list[str]:
    """Join ``units`` (``sizes`` visible columns each) with ``sep`` into lines of at most
    ``width`` columns; the first line starts with ``first``, the others with ``indent``."""
    lines: list[str] = []
    line, used, empty = first or indent, len(first or indent), True
    for unit, size in zip(units, sizes, strict=True):
        gap = 0 if empty else len(sep)
        if used + gap + size > width and not empty:
            lines.append(line)
            line, used, gap = indent, len(indent), 0
        line += sep[:gap] + unit
        used += gap + size
        empty = False
    lines.append(line)
    return lines


def _label_line(block: Block, offset: int, column_width: int) -> str:
    chars = [" "] * (offset + block.columns * column_width + 4)
    for col, text in block.col_labels:
        start = offset + col * column_width
        chars[start : start + len(text)] = text
    return "".join(chars).rstrip()


def _week_lines(block: Block, cal: PipelineCalendar, cells: _Cells) -> list[str]:
    lines = [_label_line(block, WEEK_LABEL, 1)]
    for label, row in zip(block.row_labels, block.rows, strict=True):
        marks = [
            (cells.char(cal.states[d]), cal.states[d]) if d is not None else (" ", None)
            for d in row
        ]
        lines.append((f"{label:<{WEEK_LABEL}}" + cells.row(marks)).rstrip())
    return lines


def _month_lines(block: Block, cal: PipelineCalendar, cells: _Cells) -> list[str]:
    group = max(block.group, 3) + 1
    header = " " * MONTH_LABEL + "".join(f"{text:<{group}}" for _, text in block.col_labels)
    lines = [header.rstrip()]
    for label, row in zip(block.row_labels, block.rows, strict=True):
        marks: list[tuple[str, DateState | None]] = []
        for month in range(12):
            slots = row[month * block.group : (month + 1) * block.group]
            for d in slots:
                marks.append(
                    (cells.char(cal.states[d]), cal.states[d]) if d is not None else (" ", None)
                )
            marks += [(" ", None)] * (group - len(slots))
        lines.append((f"{label:<{MONTH_LABEL}}" + cells.row(marks)).rstrip())
    return lines


def _heading(cal: PipelineCalendar, cells: _Cells, width: int) -> list[str]:
    """``id — name``, then schedule, window and coverage of the due dates in view."""
    counts = count_states(cal.states)
    due = sum(n for s, n in counts.items() if s not in ("not_due", "excluded"))
    done = sum(counts[s] for s in COVERED_STATES)
    title = cal.pipeline_id if cal.name == cal.pipeline_id else f"{cal.pipeline_id} — {cal.name}"
    if len(title) > width:
        title = title[: width - 1] + "…"
    coverage = f"{100.0 * done / due:.1f}% of {due} due dates covered" if due else "nothing due"
    parts = [cal.schedule_type, f"{cal.first}..{cal.last}", coverage]
    lines = [click.style(title, bold=True) if cells.colour else title]
    units = [f"{p}," for p in parts[:-1]] + parts[-1:]
    lines += _wrap_units(units, [len(u) for u in units], width, "    ", "    ", " ")
    return lines


def _counts(cal: PipelineCalendar, cells: _Cells, width: int) -> list[str]:
    units, sizes = [], []
    for state, n in count_states(cal.states).items():
        if n:
            text = f"{n} {LABELS[state]}"
            units.append(cells.paint(cells.char(state), state) + " " + text)
            sizes.append(2 + len(text))
    return _wrap_units(units, sizes, width, "    ") if units else []


def render_calendar(cal: PipelineCalendar, colour: bool = False, width: int = WIDTH) -> str:
    """One pipeline: a heading, its calendar block(s), and its counts per state."""
    cells = _Cells(colour)
    lines = _heading(cal, cells, width)
    blocks = blocks_for(cal, max(width - WEEK_LABEL, 1))
    if not blocks:
        lines.append(f"    no scheduled dates between {cal.first} and {cal.last}")
    for block in blocks:
        if cal.layout == "month":
            lines += _month_lines(block, cal, cells)
        else:
            lines += _week_lines(block, cal, cells)
    lines += _counts(cal, cells, width)
    return "\n".join(lines) + "\n"


def legend(colour: bool = False, width: int = WIDTH) -> str:
    """Every state with its character, wrapped to ``width``."""
    cells = _Cells(colour)
    units = [cells.paint(cells.char(s), s) + " " + LABELS[s] for s in STATES]
    sizes = [2 + len(LABELS[s]) for s in STATES]
    return "\n".join(_wrap_units(units, sizes, width, " " * 8, "Legend: ")) + "\n"


def render_calendars(
    cals: Sequence[PipelineCalendar], now_text: str, colour: bool = False, width: int = WIDTH
) -> str:
    """Every pipeline's calendar, a blank line apart, then the legend."""
    out = [f"Coverage calendar at {now_text}\n"]
    out += [render_calendar(cal, colour, width) for cal in cals]
    out.append(legend(colour, width))
    return "\n".join(out)
