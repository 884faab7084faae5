"""Helpers of the platform tests: pipelines pointing at the test servers, runs, following."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tests.servers` is imported as a package from the repo root
    sys.path.insert(0, str(ROOT))

from reconciler.config.models import PIPELINE_ADAPTER, AnyPipeline  # noqa: E402
from reconciler.config.run_values import rendered_parameters, run_values  # noqa: E402
from reconciler.core.batches import batch_key, short_id  # noqa: E402
from reconciler.platforms.base import PollResult, RunRequest  # noqa: E402
from reconciler.platforms.http_client import HttpPolicy  # noqa: E402
from reconciler.platforms.remote import RemotePlatform  # noqa: E402

TOKEN = "s3cr3t-T0KEN-do-not-print-4821"
FAST = HttpPolicy(
    connect_timeout=1.0, read_timeout=0.4, deadline=6.0, base_delay=0.01, max_delay=0.05
)


def trigger_for(platform: str, url: str, **extra: Any) -> dict[str, Any]:
    """The ``trigger`` section of a pipeline on ``platform`` pointing at a test server."""
    base: dict[str, dict[str, Any]] = {
        "databricks": {"host": url, "job_id": 123, "token_env": "TEST_TOKEN"},
        "dbt": {"host": url, "account_id": 12345, "job_id": 678, "token_env": "TEST_TOKEN"},
        "snowflake": {
            "account": "test-acct",
            "host": url,
            "statement": "call rollup(?, ?, ?, ?)",
            "warehouse": "WH",
            "database": "DB",
            "schema": "S",
            "role": "R",
            "token_env": "TEST_TOKEN",
        },
        "http": {
            "url": f"{url}/hooks/export",
            "headers_env": "TEST_HOOK_HEADERS",
            "body": {"run": "{run_id}", "window": {"from": "{start_date}", "to": "{end_date}"}},
            "status_url": url + "/jobs/{platform_run_id}",
        },
    }
    return base[platform] | extra


def pipeline_data(platform: str, url: str, pid: str = "p1", **sections: Any) -> dict[str, Any]:
    trigger = trigger_for(platform, url, **sections.pop("trigger", {}))
    data: dict[str, Any] = {
        "id": pid,
        "platform": platform,
        "trigger": trigger,
        "schedule": {"type": "daily", "start": "2026-01-01"},
        "parameters": {"region": "eu"},
    }
    data.update(sections)
    return data


def make_pipeline(platform: str, url: str, **sections: Any) -> AnyPipeline:
    model = PIPELINE_ADAPTER.validate_python(pipeline_data(platform, url, **sections))
    return model  # type: ignore[return-value]


def make_run(
    pipeline: AnyPipeline, day: str = "2026-01-05", attempt: int = 1, days: int = 1
) -> RunRequest:
    first = date.fromisoformat(day)
    dates = tuple(first + timedelta(days=i) for i in range(days))
    key = batch_key(pipeline.id, dates, None, attempt)
    values = run_values(pipeline, dates, short_id(key))
    return RunRequest(
        batch_id=short_id(key),
        key=key,
        pipeline=pipeline,
        dates=dates,
        attempt=attempt,
        values=values,
        parameters=rendered_parameters(pipeline, values),
    )


def follow(
    platform: RemotePlatform, run: RunRequest, run_id: str | None, limit: float = 10
) -> PollResult:
    """Poll (and wait) as apply does until the run ends; restarts what is not started."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        result = platform.poll(run.batch_id, run_id)
        if result.state == "not_started":
            run_id = platform.start(run).run_id
            continue
        if result.state != "running":
            return result
        platform.wait(0.25)
    raise AssertionError(f"run {run.batch_id} did not end within {limit} s")


Factory = Callable[..., Any]
