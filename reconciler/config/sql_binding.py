"""A check's SQL template as SQL with bound parameters: values never become SQL text.

``{date}``, ``{param.NAME}``... are not pasted into the SQL. Each becomes a parameter
of the engine (DuckDB ``$name``, Snowflake ``?`` with a positional binding), wherever it
stands:

- outside quotes, ``{x}`` is the parameter itself (a text value);
- inside a string literal, the literal becomes a concatenation:
  ``'{param.dir}/{date}.csv'`` is ``($param_dir || '/' || $date || '.csv')``;
- a typed literal such as ``date '{date}'`` becomes ``CAST($date AS date)`` (only when
  the type word is code on the same run of code, never a word of a comment);
- in a comment, the placeholder is left as its name (a comment is not run).

``E'...'`` strings (backslash escapes) are literals like any other; ``$$...$$`` and
``$tag$...$tag$`` strings are read through. A placeholder inside a double-quoted
identifier or a dollar-quoted string cannot be a parameter and is refused, as is one with
a format spec or conversion (``{date:>10}``, ``{date!r}``).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Literal

Style = Literal["duckdb", "snowflake"]
# keywords that make a following string a typed literal (date '2026-01-01')
_TYPED = re.compile(r"(?i)\b(date|time|timestamp|timestamptz|interval)\s*$")
# a dollar quote opens with $$ or $tag$ (a tag is an identifier: $1 is a parameter)
_DOLLAR = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


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
        self.ends = ""  # what closes the current ident, comment or dollar quote
        self.estring = False  # the current literal is an E'...' string (backslash escapes)
        # where the current run of code began in the output: a type word before it (in a
        # comment, or before a comment) never makes a following string a typed literal
        self.code_start = 0
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

    def _back_to_code(self) -> None:
        self.state = "code"
        self.code_start = sum(len(part) for part in self.out)

    def text(self, chunk: str) -> None:
        i = 0
        while i < len(chunk):
            if self.state == "code":
                i = self._code(chunk, i)
            elif self.state == "quote":
                i = self._quoted(chunk, i)
            elif chunk.startswith(self.ends, i):
                self.out.append(self.ends)
                i += len(self.ends)
                self._back_to_code()
            else:
                self.out.append(chunk[i])
                i += 1

    def _code(self, chunk: str, i: int) -> int:
        """Copy code from ``chunk[i]`` until something opens; return where to go on."""
        ch, pair = chunk[i], chunk[i : i + 2]
        after_word = i > 0 and (chunk[i - 1].isalnum() or chunk[i - 1] in "_$")
        if ch == "'" or (self.style == "duckdb" and pair.lower() == "e'" and not after_word):
            self.estring = ch != "'"
            self.state, self.literal = "quote", []
            self.raw_literal = [chunk[i : i + 1 + self.estring]]
            return i + 1 + self.estring
        opened = {'"': ("ident", '"')}.get(ch) or {
            "--": ("line", "\n"),
            "/*": ("block", "*/"),
        }.get(pair)
        if opened is None and ch == "$" and not after_word:
            tag = _DOLLAR.match(chunk, i)
            if tag:
                opened = ("dollar", tag.group())
        if opened is None:
            self.out.append(ch)
            return i + 1
        self.state, self.ends = opened
        step = 1 if self.state == "ident" else len(self.ends) if self.state == "dollar" else 2
        self.out.append(chunk[i : i + step])
        return i + step

    def _quoted(self, chunk: str, i: int) -> int:
        ch, nxt = chunk[i], chunk[i + 1 : i + 2]
        backslash = self.style == "snowflake" or self.estring
        if (backslash and ch == "\\" and nxt) or (ch == "'" and nxt == "'"):
            self._literal_text(chunk[i : i + 2])
            return i + 2
        if ch == "'":
            self._close_literal()
            return i + 1
        self._literal_text(ch)
        return i + 1

    def _literal_text(self, raw: str) -> None:
        self.raw_literal.append(raw)
        if self.literal and isinstance(self.literal[-1], str):
            self.literal[-1] += raw
        else:
            self.literal.append(raw)

    def _close_literal(self) -> None:
        if not any(isinstance(part, tuple) for part in self.literal):
            self.out.append("".join(self.raw_literal) + "'")
            self._back_to_code()
            return
        prefix = "E" if self.estring else ""
        pieces = [
            self.param(p[0]) if isinstance(p, tuple) else f"{prefix}'{p}'" for p in self.literal
        ]
        expression = pieces[0] if len(pieces) == 1 else "(" + " || ".join(pieces) + ")"
        before = "".join(self.out)
        typed = _TYPED.search(before, self.code_start)
        if typed:
            self.out = [before[: typed.start()], f"CAST({expression} AS {typed.group(1)})"]
        else:
            self.out.append(expression)
        self._back_to_code()

    def placeholder(self, name: str) -> None:
        if self.state == "code":
            self.out.append(self.param(name))
        elif self.state == "quote":
            self.raw_literal.append("{" + name + "}")
            self.literal.append((name,))
        elif self.state in ("ident", "dollar"):
            where = {
                "ident": "a double-quoted identifier",
                "dollar": f"a dollar-quoted string ({self.ends}...{self.ends})",
            }[self.state]
            raise TemplateError(
                f"{{{name}}} is inside {where}; a placeholder can only stand for a value "
                "(a bound parameter) in code or in a single-quoted string"
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
    for literal, name, spec, conversion in string.Formatter().parse(template):
        binder.text(literal)
        if name is None:
            continue
        if spec or conversion:
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise TemplateError(
                f"{{{shown}}}: a placeholder in SQL takes no format spec or conversion "
                f"(it is a bound parameter); write {{{name}}}"
            )
        binder.placeholder(name)
    return binder.finish()
