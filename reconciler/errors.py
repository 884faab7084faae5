"""The reconciler's error tree; every error a user sees derives from ``ReconcilerError``.

::

    ReconcilerError                  one-line message, exit code 1 at the CLI boundary
    ├── ConfigError                  one or more problems in pipeline files
    │     .problems: list[Problem]   each with file, line, col, field path, message
    ├── StateError                   the state store is missing, corrupt, foreign or locked
    │   ├── LockedError             another apply holds the lock (names the holder)
    │   └── StateUnavailable        the PostgreSQL server stayed unreachable past the deadline
    ├── PlanError                    a plan cannot be made or a saved plan is stale
    └── PlatformError                a platform call failed
        ├── TransientError(delay)    worth retrying: timeouts, 429, 5xx
        └── PermanentError           not worth retrying: other 4xx, bad replies

The CLI catches ``ReconcilerError`` once, prints its message and exits 1; ``--debug``
re-raises so the traceback is visible.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.line_safety import safe_line


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong in one file, located as precisely as the input allows."""

    file: str
    line: int
    col: int
    message: str
    field: str = ""

    def __str__(self) -> str:
        # the file name and the message come from the user: one line, never a command
        where = f"{self.file}:{self.line}:{self.col}"
        text = (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )
        return safe_line(text)


class ReconcilerError(Exception):
    """Base of every error meant for the user rather than for a debugger."""


class ConfigError(ReconcilerError):
    """Pipeline files that cannot be loaded; carries every problem found, not just one."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        first = str(problems[0]) if problems else "invalid configuration"
        more = f" (and {count - 1} more)" if count > 1 else ""
        super().__init__(first + more)


class StateError(ReconcilerError):
    """The state store cannot be used as it is."""


class LockedError(StateError):
    """Another writer holds the state lock."""


class StateUnavailable(StateError):
    """The state's server was unreachable (or the connection broke mid-transaction)."""


class PlanError(ReconcilerError):
    """A plan cannot be made, or a saved plan no longer matches config and state."""


class PlatformError(ReconcilerError):
    """A platform call failed."""


class TransientError(PlatformError):
    """Worth retrying after ``delay`` seconds (timeouts, 429, 5xx)."""

    def __init__(self, message: str, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentError(PlatformError):
    """Not worth retrying: the platform refused the request."""
