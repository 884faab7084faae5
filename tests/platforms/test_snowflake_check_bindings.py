"""Snowflake quality checks send the run's values as SQL API bindings, never as SQL text."""

from __future__ import annotations

from datetime import date

from platform_support import make_pipeline

from reconciler.quality.runner import run_checks
from tests.servers.snowflake import SnowflakeServer

INJECTION = "us' or true or 'x"


def test_check_values_travel_as_bindings(snowflake_server: SnowflakeServer, token_env: str) -> None:
    sql = "select count(*) = 0 from orders where region = '{param.region}' and day = date '{date}'"
    pipeline = make_pipeline(
        "snowflake",
        snowflake_server.url,
        parameters={"region": INJECTION},
        quality={"checks": [{"name": "sf", "engine": "snowflake", "sql": sql}]},
    )
    (result,) = run_checks(pipeline, (date(2026, 1, 5),), "run1", timeout=5)
    assert result.could_run, result.details
    (run,) = snowflake_server.runs.values()
    assert run.info["statement"] == (
        "select count(*) = 0 from orders where region = ? and day = CAST(? AS date)"
    )
    assert run.info["bindings"] == {
        "1": {"type": "TEXT", "value": INJECTION},
        "2": {"type": "TEXT", "value": "2026-01-05"},
    }
