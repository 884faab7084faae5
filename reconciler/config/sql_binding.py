"""A check's SQL template as SQL with bound parameters: values never become SQL text.

``{date}``, ``{param.NAME}``... are not pasted into the SQL. Each becomes a parameter
of the engine (DuckDB ``$name``, Snowflake ``?`` with a positional binding), wherever it
stands:

- outside quotes, ``{x}`` is the parameter itself (a text value);
- inside a string literal, the literal becomes a concatenation:
  ``'{param.dir}/{date}.csv'`` is ``($param_dir || '/' || $date || '.csv')``;
- a typed literal such as ``date '{date}'`` becomes ``CAST($date AS date)``;
- in a comment, the placeholder is left as its name (a comment is not run).

A placeholder inside a double-quoted identifier cannot be a parameter and is refused.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Literal

Style = Literal["duckdb", "snowflake"]
# keywords that make a following string a typed literal (date '2026-01-01')
_TYPED = re.compile(r"(?i)\b(date|time|timestamp|timestamptz|interval)\s*$")


class TemplateError(ValueError):
    """The SQL template cannot be turned into SQL with parameters."""


@dataclass(frozen=True, slots=True)
class BoundSql:
    """SQL with parameters, and their values.

    For DuckDB ``named`` maps each ``$name`` to its value; for Snowflake ``positional``
    holds one value per ``?``, in order.
    """

    sql: str
    named: dict[str, str]
    positional: tuple[str, ...]

    def snowflake_bindings(self) -> dict[str, dict[str, str]]:
        """The SQL API's ``bindings``: ``{"1": {"type": "TEXT", "value": ...}, ...}``."""
        return {str(i + 1): {"type": "TEXT", "value": v} for i, v in enumerate(self.positional)}


def duckdb_name(placeholder: str) -> str:
    """``param.out_dir`` -> ``param_out_dir`` (DuckDB parameter names are identifiers)."""
    return re.sub(r"\W", "_", placeholder)


class _Binder:
    def __init__(self, values: dict[str, str], style: Style) -> None:
        self.values = values
        self.style = style
        self.out: list[str] = []
        self.named: dict[str, str] = {}
        self.positional: list[str] = []
        self.state = "code"  # code, quote, ident, line, block, dollar
        self.literal: list[str | tuple[str]] = []  # raw text, or (placeholder,)
        self.raw_literal: list[str] = []

    def param(self, name: str) -> str:
        value = self.values[name]
        if self.style == "snowflake":
            self.positional.append(value)
            return "?"
        key = duckdb_name(name)
        self.named[key] = value
        return f"${key}"

    def text(self, chunk: str) -> None:
        i = 0
        while i < len(chunk):
            ch, nxt = chunk[i], chunk[i + 1 : i + 2]
            if self.state == "code":
                if ch == "'":
                    self.state, self.literal, self.raw_literal = "quote", [], ["'"]
                    i += 1
                    continue
                opened = {'"': "ident"}.get(ch) or {
                    "--": "line",
                    "/*": "block",
                    "$$": "dollar",
                }.get(ch + nxt)
                step = 1 if opened in (None, "ident") else 2
                self.state = opened or "code"
                self.out.append(chunk[i : i + step])
                i += step
            elif self.state == "quote":
                escaped = self.style == "snowflake" and ch == "\\" and nxt
                if escaped or (ch == "'" and nxt == "'"):
                    self._literal_text(chunk[i : i + 2])
                    i += 2
                elif ch == "'":
                    self._close_literal()
                    i += 1
                else:
                    self._literal_text(ch)
                    i += 1
            else:
                ends = {"ident": '"', "line": "\n", "block": "*/", "dollar": "$$"}[self.state]
                if chunk.startswith(ends, i):
                    self.out.append(ends)
                    i += len(ends)
                    self.state = "code"
                else:
                    self.out.append(ch)
                    i += 1

    def _literal_text(self, raw: str) -> None:
        self.raw_literal.append(raw)
        if self.literal and isinstance(self.literal[-1], str):
            self.literal[-1] += raw
        else:
            self.literal.append(raw)

    def _close_literal(self) -> None:
        self.state = "code"
        if not any(isinstance(part, tuple) for part in self.literal):
            self.out.append("".join(self.raw_literal) + "'")
            return
        pieces = [self.param(p[0]) if isinstance(p, tuple) else f"'{p}'" for p in self.literal]
        expression = pieces[0] if len(pieces) == 1 else "(" + " || ".join(pieces) + ")"
        before = "".join(self.out)
        typed = _TYPED.search(before)
        if typed:
            self.out = [before[: typed.start()], f"CAST({expression} AS {typed.group(1)})"]
        else:
            self.out.append(expression)

    def placeholder(self, name: str) -> None:
        if self.state == "code":
            self.out.append(self.param(name))
        elif self.state == "quote":
            self.raw_literal.append("{" + name + "}")
            self.literal.append((name,))
        elif self.state == "ident":
            raise TemplateError(
                f"{{{name}}} is inside a double-quoted identifier; a placeholder can only "
                "stand for a value (a bound parameter), not for a name"
            )
        else:  # a comment: keep the name, never the value
            self.out.append(name)

    def finish(self) -> BoundSql:
        if self.state == "quote":
            self.out.append("".join(self.raw_literal))  # unterminated: the engine says so
        return BoundSql("".join(self.out), self.named, tuple(self.positional))


def bind(template: str, values: dict[str, str], style: Style) -> BoundSql:
    """``template`` as SQL whose placeholders are parameters of ``style``.

    Raises ``KeyError`` for an unknown placeholder, ``TemplateError`` for one that
    cannot be a parameter, ``ValueError`` for unbalanced braces.
    """
    binder = _Binder(values, style)
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        binder.text(literal)
        if name is not None:
            binder.placeholder(name)
    return binder.finish()
