"""The plan: a frozen value saying what a reconcile pass will do, and why.

Every consumer reads it through one interface. ``plan.actions`` and ``plan.gaps`` are
sequences of ``Action`` and ``Gap`` (listed lazily: a plan may hold 10^5 backfills
kept in compact form); ``plan.action_groups()`` and ``plan.gap_groups()`` describe
the same entries by date ranges, for writers that need not build one object per
date; counts come from the plan's own properties, without listing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from reconciler.core.compact_actions import ActionList
from reconciler.core.compact_gaps import GapList
from reconciler.core.plan_records import (
    ACTION_ORDER,
    Action,
    ActionGroup,
    ActionKind,
    ChangeKind,
    ConfigChange,
    Excluded,
    Gap,
    GapGroup,
    GapReason,
    Paused,
    SlaBreach,
    Waiting,
)

__all__ = [
    "ACTION_ORDER",
    "Action",
    "ActionGroup",
    "ActionKind",
    "ActionList",
    "ChangeKind",
    "ConfigChange",
    "Excluded",
    "Gap",
    "GapGroup",
    "GapList",
    "GapReason",
    "Paused",
    "Plan",
    "SlaBreach",
    "Waiting",
]

_T = TypeVar("_T")
SUMMARY_KINDS = ("run", "retry", "backfill", "refresh", "poll")


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Everything a pass would do at ``now``; rendered, saved and compared as data.

    ``actions`` and ``gaps`` are built by the planner from compact sources, or from
    plain records with ``ActionList.of(...)`` and ``GapList.of(...)``.
    """

    now: datetime
    pipelines: int
    config_changes: tuple[ConfigChange, ...] = ()
    actions: ActionList = field(default_factory=ActionList)
    waiting: tuple[Waiting, ...] = ()
    gaps: GapList = field(default_factory=GapList)
    sla_breaches: tuple[SlaBreach, ...] = ()
    paused: tuple[Paused, ...] = ()
    excluded: tuple[Excluded, ...] = ()

    def action_groups(self) -> Iterator[ActionGroup]:
        """Every action, in groups told by date ranges (a lone action is a group of one).

        Groups of different pipelines interleave in ``actions``: read that for start order.
        """
        return self.actions.groups()

    def gap_groups(self) -> Iterator[GapGroup]:
        """Every gap, in groups told by date ranges (each span is one gap), in order."""
        return self.gaps.groups()

    def each_action(self, render: Callable[[ActionGroup], Iterable[_T]]) -> Iterator[_T]:
        """One item per action in start order; ``render`` makes a whole group's items
        (one per action of the group, in its order) without the actions being built."""
        return self.actions.each(render)

    @property
    def action_count(self) -> int:
        return len(self.actions)

    def dates_by_kind(self) -> dict[str, int]:
        """Dates per action kind (a date run twice counts twice), without listing actions."""
        return self.actions.dates_by_kind()

    @property
    def gap_dates(self) -> int:
        return self.gaps.date_count()

    @property
    def summary(self) -> dict[str, int]:
        """Dates per kind, plus the number of pipelines (docs/plan-json.md); ``waiting``
        counts every waiting date, for a retry or for its upstream."""
        dates = self.dates_by_kind()
        counts = {"pipelines": self.pipelines}
        counts.update((kind, dates.get(kind, 0)) for kind in SUMMARY_KINDS)
        counts["waiting"] = sum(len(w.dates) for w in self.waiting)
        counts["gap"] = self.gap_dates
        return counts

    def paused_ids(self) -> frozenset[str]:
        """The pipelines whose runs ``apply`` will not start."""
        return frozenset(p.pipeline_id for p in self.paused)

    @property
    def has_changes(self) -> bool:
        """Whether applying would do anything (``--detailed-exitcode`` 2): a paused
        pipeline's runs do not count, its polls do."""
        if self.config_changes:
            return True
        if not self.paused:
            return bool(self.actions)
        paused = self.paused_ids()
        return any(g.pipeline_id not in paused or g.kind == "poll" for g in self.action_groups())
