"""The ``exclude`` entries of a pipeline file: dates never planned, never a gap, never an
SLA breach (docs/configuration.md)."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from reconciler.config.strict_model import Strict
from reconciler.config.value_types import BoundedDate, OneLine

PAUSE_HELP = "plan and show the pipeline, but start nothing new for it"
EXCLUDE_HELP = "dates never planned, never a gap, never an SLA breach"


class ExclusionModel(Strict):
    """Dates never planned, never a gap, never an SLA breach: one ``date``, or ``from``
    and ``to`` (both included)."""

    date_: BoundedDate | None = Field(None, alias="date", description="one date")
    from_: BoundedDate | None = Field(None, alias="from", description="first date of a range")
    to: BoundedDate | None = Field(None, description="last date of a range (included)")
    reason: OneLine = Field("", description="why (recommended): shown in plan and status")

    @model_validator(mode="after")
    def _one_shape(self) -> ExclusionModel:
        # errors name the field so the loader points at it
        if self.date_ is not None:
            if self.from_ is not None or self.to is not None:
                raise ValueError("date: give either date or from and to, not both")
        elif self.from_ is None or self.to is None:
            if self.to is None and self.from_ is None:
                raise ValueError("give date, or from and to")
            missing = "to" if self.from_ is not None else "from"
            raise ValueError(f"a range needs both from and to ({missing} is missing)")
        elif self.to < self.from_:
            raise ValueError(f"to: {self.to} is before from ({self.from_})")
        return self

    @property
    def first(self) -> date:
        day = self.date_ if self.date_ is not None else self.from_
        assert day is not None
        return day

    @property
    def last(self) -> date:
        day = self.date_ if self.date_ is not None else self.to
        assert day is not None
        return day
