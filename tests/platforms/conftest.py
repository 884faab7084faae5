"""Fixtures of the platform tests: the test servers, started on free ports, and tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from platform_support import TOKEN

from tests.servers.base import ApiServer
from tests.servers.databricks import DatabricksServer
from tests.servers.dbt import DbtServer
from tests.servers.hook import HookServer
from tests.servers.slack import SlackServer
from tests.servers.snowflake import SnowflakeServer


def _serve(cls: type[ApiServer]) -> Iterator[Any]:
    server = cls(token=TOKEN, seed=7).start()
    server.retry_after = 0
    server.run_seconds = 0.2
    server.slow_seconds = 0.8
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def databricks_server() -> Iterator[DatabricksServer]:
    yield from _serve(DatabricksServer)


@pytest.fixture
def dbt_server() -> Iterator[DbtServer]:
    yield from _serve(DbtServer)


@pytest.fixture
def snowflake_server() -> Iterator[SnowflakeServer]:
    yield from _serve(SnowflakeServer)


@pytest.fixture
def hook_server() -> Iterator[HookServer]:
    yield from _serve(HookServer)


@pytest.fixture
def slack_server() -> Iterator[SlackServer]:
    yield from _serve(SlackServer)


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TEST_TOKEN", TOKEN)
    monkeypatch.setenv("TEST_HOOK_HEADERS", f'{{"Authorization": "Bearer {TOKEN}"}}')
    return TOKEN
