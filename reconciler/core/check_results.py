"""A data-quality check's verdict on one run, as plain data (docs/planning.md, data-quality
checks): the pass records it and decides the run's outcome from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OnFail = Literal["fail", "warn"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """One check of one run: passed or not, and why not.

    ``could_run`` is false when the check did not produce an answer (bad SQL, a missing
    file, an engine that is not available); such a check has failed, with the engine's
    message in ``details``.
    """

    name: str
    engine: str
    on_fail: OnFail
    passed: bool
    details: str | None = None
    could_run: bool = True

    @property
    def fails_run(self) -> bool:
        """Whether this result makes the run count as failed."""
        return not self.passed and self.on_fail == "fail"

    def summary(self) -> str:
        """``rows_present failed: returned false`` (for error messages and notifications)."""
        if self.passed:
            return f"{self.name} passed"
        verb = "could not run" if not self.could_run else "failed"
        return f"{self.name} {verb}: {self.details}" if self.details else f"{self.name} {verb}"
