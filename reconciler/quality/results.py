"""A check's verdict, and how a query's answer becomes one (docs/planning.md, data-quality checks).

A check query answers either one boolean (true passes) or rows that are failures (no
rows passes). Anything else is read as failing rows, with a hint when it looks like a
count, since ``select count(*) ...`` returning 0 is a row, not a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SHOWN_ROWS = 3  # failing rows quoted in the details
DETAILS_LIMIT = 1000  # characters of details kept per check
TRUE_TEXT = frozenset({"true", "t", "1", "yes"})
FALSE_TEXT = frozenset({"false", "f", "0", "no"})


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryAnswer:
    """What an engine's query returned: column names and types, the first rows, the count.

    ``types`` are the engine's type names (``BOOLEAN``, ``boolean``...), lower-cased or
    not; ``row_count`` may exceed ``len(rows)`` when an engine stopped fetching early.
    """

    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    row_count: int


def _as_bool(value: object, type_name: str) -> bool | None:
    """A boolean cell (a Python bool, or the text of a boolean-typed column)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and type_name.lower() == "boolean":
        text = value.strip().lower()
        if text in TRUE_TEXT:
            return True
        if text in FALSE_TEXT:
            return False
    return None


def _cell(value: object) -> str:
    text = "NULL" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def clip(text: str, limit: int = DETAILS_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def verdict(answer: QueryAnswer) -> tuple[bool, str | None]:
    """(passed, details): one boolean decides; otherwise every row is a failure."""
    single = len(answer.columns) == 1 and answer.row_count == 1 and len(answer.rows) == 1
    if single:
        value = answer.rows[0][0]
        flag = _as_bool(value, answer.types[0] if answer.types else "")
        if flag is True:
            return True, None
        if flag is False:
            return False, "returned false"
        if value is None:
            return False, "returned NULL (expected true or false)"
    if answer.row_count == 0:
        return True, None
    shown = "; ".join(
        ", ".join(f"{c}={_cell(v)}" for c, v in zip(answer.columns, row, strict=False))
        for row in answer.rows[:SHOWN_ROWS]
    )
    noun = "row" if answer.row_count == 1 else "rows"
    details = f"{answer.row_count} failing {noun}; first: {shown}"
    if single:
        details += (
            " (a check returns one boolean, or the rows that fail: a count is one failing row;"
            " write `select count(*) = 0 ...`)"
        )
    return False, clip(details)


def column_types(description: Sequence[Sequence[object]] | None) -> tuple[str, ...]:
    """Type names from a DB-API ``description``."""
    return tuple(str(d[1]) for d in description or ())
