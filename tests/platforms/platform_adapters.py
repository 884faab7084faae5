"""The cloud adapters and their test servers, by platform name, for the adapter tests."""

from __future__ import annotations

from typing import Any

import pytest
from platform_support import FAST, make_pipeline

from reconciler.platforms.databricks import DatabricksPlatform
from reconciler.platforms.dbt import DbtPlatform
from reconciler.platforms.http_hook import HttpHookPlatform
from reconciler.platforms.remote import RemotePlatform
from reconciler.platforms.snowflake import SnowflakePlatform

PLATFORMS = ["databricks", "dbt", "snowflake", "http"]
ADAPTERS: dict[str, type[RemotePlatform]] = {
    "databricks": DatabricksPlatform,
    "dbt": DbtPlatform,
    "snowflake": SnowflakePlatform,
    "http": HttpHookPlatform,
}
SERVERS = {
    "databricks": "databricks_server",
    "dbt": "dbt_server",
    "snowflake": "snowflake_server",
    "http": "hook_server",
}
TRIGGER_ROUTE = {"databricks": "run-now", "dbt": "trigger", "snowflake": "submit", "http": "hook"}
STATUS_ROUTE = {"databricks": "runs/get", "dbt": "run", "snowflake": "status", "http": "job"}


def setup(request: pytest.FixtureRequest, platform: str, **sections: Any) -> tuple[Any, Any, Any]:
    server = request.getfixturevalue(SERVERS[platform])
    pipeline = make_pipeline(platform, server.url, **sections)
    adapter = ADAPTERS[platform](0.0, FAST)
    request.addfinalizer(adapter.close)
    return server, pipeline, adapter
