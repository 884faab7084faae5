"""GitHub Actions workflow commands (``::error file=...::``), escaped as Actions requires."""

from __future__ import annotations

from reconciler.errors import Problem


def escape_data(text: str) -> str:
    """Escape a command's message: ``%``, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: the message escapes plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def error_annotation(
    problem: Problem, title: str = "reconciler validate", level: str = "error"
) -> str:
    """One ``::error`` (or, ``level="warning"``, ``::warning``) line for a located problem."""
    props = ",".join(
        [
            f"file={escape_property(problem.file)}",
            f"line={problem.line}",
            f"col={problem.col}",
            f"title={escape_property(title)}",
        ]
    )
    message = f"{problem.field}: {problem.message}" if problem.field else problem.message
    return f"::{level} {props}::{escape_data(message)}"
