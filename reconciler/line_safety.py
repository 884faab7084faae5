"""Output lines that GitHub Actions cannot mistake for workflow commands.

The Actions runner reads every line a step prints, stdout and stderr alike: a line
that starts with ``::`` (after blanks) is a command, and so is ``##[command]``
anywhere in a line. A file name or a value with a newline in it would start a line of
its own, so ``x\n::warning file=INJECTED::pwned.yaml`` prints an annotation nobody
wrote. ``safe_line`` is for every line that carries user-derived text (file names,
values from pipeline files); the workflow commands we mean to print are escaped by
their own rules in ``annotations``.
"""

from __future__ import annotations

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators, as escapes
_ESCAPES = {
    code: {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(chr(code), f"\\x{code:02x}")
    for code in (*range(0x20), *range(0x7F, 0xA0))
} | {0x2028: "\\u2028", 0x2029: "\\u2029"}


def printable(text: str) -> str:
    """``text`` on one line: control characters shown as escapes (``\\n``, ``\\x1b``),
    and ``##[`` broken so it cannot open a legacy command."""
    if not text.isprintable():  # rare: a quick test first
        text = text.translate(_ESCAPES)
    return text.replace("##[", "##\\[")


def safe_line(line: str) -> str:
    """One output line that the runner reads as text, never as a command."""
    line = printable(line)
    return "\\" + line if line.lstrip().startswith("::") else line
