"""Read-only access to the state for planning: what the planner is allowed to see."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from reconciler.core.coverage import Observed, Retried
from reconciler.core.spec import BackfillRequest
from reconciler.state.records import HistoryRow


class StateReader(Protocol):
    """What ``plan`` needs from a store; it cannot write through this interface."""

    def observe(self, pipeline_ids: Iterable[str], retried: Retried = None) -> Observed: ...

    def plan_inputs(
        self, pipeline_ids: Iterable[str], retried: Retried = None
    ) -> tuple[Observed, dict[str, tuple[BackfillRequest, ...]]]:
        """``observe`` and the ad-hoc backfill requests, read at one moment."""
        ...

    def history(self, pipeline_id: str, limit: int) -> list[HistoryRow]: ...

    def close(self) -> None: ...


class EmptyState:
    """A state file that does not exist yet: nothing has run."""

    def observe(self, pipeline_ids: Iterable[str], retried: Retried = None) -> Observed:
        return Observed()

    def plan_inputs(
        self, pipeline_ids: Iterable[str], retried: Retried = None
    ) -> tuple[Observed, dict[str, tuple[BackfillRequest, ...]]]:
        return Observed(), {}

    def history(self, pipeline_id: str, limit: int) -> list[HistoryRow]:
        return []

    def close(self) -> None:
        return None


def open_reader(location: str) -> StateReader:
    """A reader for ``location``; a missing file means an empty state, never created here.

    A PostgreSQL URL is read through the same store (an empty schema reads as empty).
    """
    from reconciler.state.connection import check_file, is_postgres

    if is_postgres(location):
        from reconciler.state.postgres_store import PostgresStore

        return PostgresStore.open_read_only(location)
    check_file(location)
    if not Path(location).exists():
        return EmptyState()
    from reconciler.state.duckdb_store import DuckDBStore

    return DuckDBStore.open_read_only(location)
