"""Which platform adapters a pass can use: the one place apply learns about platforms."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import datetime
from os import PathLike
from typing import Any

from reconciler.core.batches import RunIntent
from reconciler.platforms.base import Platform, PollResult, RunRequest, StartResult
from reconciler.platforms.local import LocalPlatform
from reconciler.platforms.runs_dir import runs_dir_for
from reconciler.state.sessions import WriteSession

# platform name -> (module, class) of the cloud adapters, imported at their first use
CLOUD = {
    "databricks": ("reconciler.platforms.databricks", "DatabricksPlatform"),
    "dbt": ("reconciler.platforms.dbt", "DbtPlatform"),
    "snowflake": ("reconciler.platforms.snowflake", "SnowflakePlatform"),
    "http": ("reconciler.platforms.http_hook", "HttpHookPlatform"),
}


class _Deferred:
    """A cloud adapter made at its first call, so a local-only pass never imports httpx."""

    def __init__(self, module: str, name: str, clock_offset: float) -> None:
        self._where = (module, name)
        self._clock_offset = clock_offset
        self._adapter: Any = None

    def _get(self) -> Platform:
        if self._adapter is None:
            from reconciler.platforms.http_client import HttpPolicy

            module, name = self._where
            cls = getattr(importlib.import_module(module), name)
            self._adapter = cls(self._clock_offset, HttpPolicy.from_env())
        adapter: Platform = self._adapter
        return adapter

    def start(self, run: RunRequest) -> StartResult:
        return self._get().start(run)

    def poll(self, batch_id: str, platform_run_id: str | None) -> PollResult:
        return self._get().poll(batch_id, platform_run_id)

    def cancel(self, run: RunRequest, platform_run_id: str | None) -> None:
        self._get().cancel(run, platform_run_id)

    def wait(self, timeout: float) -> None:
        self._get().wait(timeout)

    def close(self) -> None:
        if self._adapter is not None:
            self._adapter.close()

    def recorded(self, session: WriteSession, batch_ids: Sequence[str], now: datetime) -> None:
        self._get().recorded(session, batch_ids, now)

    def after_pass(self, in_flight: set[str]) -> None:
        if self._adapter is not None:
            self._adapter.after_pass(in_flight)


def build_platforms(
    state_path: str, clock_offset: float, runs_dir: str | PathLike[str] | None = None
) -> dict[str, Platform]:
    """Adapters by platform name; ``clock_offset`` keeps recorded times on the --now clock.

    Local runs live in ``runs_dir`` (see ``runs_dir_for`` for the default).

    Building them does no I/O: cloud adapters are made at their first call, their
    clients connect at their first request, and tokens are read from the environment
    when a run needs them.
    """
    platforms: dict[str, Platform] = {
        "local": LocalPlatform(runs_dir_for(state_path, runs_dir), clock_offset, state_path)
    }
    for name, (module, cls) in CLOUD.items():
        platforms[name] = _Deferred(module, cls, clock_offset)
    return platforms


def record_owners(
    platforms: dict[str, Platform],
    session: WriteSession,
    written: Sequence[RunIntent],
    now: datetime,
) -> None:
    """Each platform told, in the same transaction, which of its intents were written."""
    for name, platform in platforms.items():
        ids = [i.batch_id for i in written if i.platform == name]
        if ids:
            platform.recorded(session, ids, now)
