"""Cancelling runs on each cloud platform, against its test server: the platform's own
cancel call, a cancelled run polled as ``failed`` with ``canceled``, cancels repeated or
after the end accepted, and a 429 or 5xx during a cancel retried."""

from __future__ import annotations

from typing import Any

import pytest
from platform_adapters import setup
from platform_support import follow, make_run

from reconciler.errors import PermanentError

CANCEL_ROUTE = {
    "databricks": "runs/cancel",
    "dbt": "cancel",
    "snowflake": "cancel",
    "http": "cancel",
}
ALL = list(CANCEL_ROUTE)


def cancellable(request: pytest.FixtureRequest, platform: str) -> tuple[Any, Any, Any]:
    """A server, pipeline and adapter; the HTTP hook's trigger gets a cancel URL."""
    server, pipeline, adapter = setup(request, platform)
    if platform == "http":
        trigger = pipeline.trigger.model_copy(
            update={"cancel_url": server.url + "/jobs/{platform_run_id}/cancel"}
        )
        pipeline = pipeline.model_copy(update={"trigger": trigger})
    return server, pipeline, adapter


@pytest.mark.parametrize("platform", ALL)
def test_a_running_run_is_cancelled_and_polls_as_cancelled(
    request: pytest.FixtureRequest, platform: str, token_env: str
) -> None:
    server, pipeline, adapter = cancellable(request, platform)
    server.default_outcome = "hang"
    run = make_run(pipeline)
    run_id = adapter.start(run).run_id
    assert run_id is not None
    adapter.cancel(run, run_id)
    assert server.requests[CANCEL_ROUTE[platform]] == 1
    assert server.runs[run_id].cancelled
    result = follow(adapter, run, run_id)
    assert result.state == "failed" and result.canceled, result
    assert "cancel" in (result.error or "").lower()
    assert result.ended_at is not None


@pytest.mark.parametrize("platform", ALL)
def test_cancelling_twice_is_no_error(
    request: pytest.FixtureRequest, platform: str, token_env: str
) -> None:
    server, pipeline, adapter = cancellable(request, platform)
    server.default_outcome = "hang"
    run = make_run(pipeline)
    run_id = adapter.start(run).run_id
    adapter.cancel(run, run_id)
    adapter.cancel(run, run_id)
    assert server.requests[CANCEL_ROUTE[platform]] == 2
    result = follow(adapter, run, run_id)
    assert result.state == "failed" and result.canceled


@pytest.mark.parametrize("platform", ALL)
@pytest.mark.parametrize("outcome", ["success", "fail"])
def test_cancelling_a_run_that_ended_is_no_error_and_changes_nothing(
    request: pytest.FixtureRequest, platform: str, outcome: str, token_env: str
) -> None:
    server, pipeline, adapter = cancellable(request, platform)
    server.default_outcome = outcome
    run = make_run(pipeline)
    run_id = adapter.start(run).run_id
    ended = follow(adapter, run, run_id)
    assert ended.state == ("success" if outcome == "success" else "failed")
    adapter.cancel(run, run_id)
    assert server.requests[CANCEL_ROUTE[platform]] == 1
    assert not server.runs[run_id].cancelled
    # a later pass (a fresh adapter) reads the same ending, not a cancel
    _server, _pipeline, later = cancellable(request, platform)
    again = follow(later, run, run_id)
    assert again.state == ended.state and not again.canceled


@pytest.mark.parametrize("platform", ALL)
@pytest.mark.parametrize("fault", ["429", "503", "empty500", "html502"])
def test_a_429_or_5xx_during_a_cancel_is_retried(
    request: pytest.FixtureRequest, platform: str, fault: str, token_env: str
) -> None:
    server, pipeline, adapter = cancellable(request, platform)
    server.default_outcome = "hang"
    run = make_run(pipeline)
    run_id = adapter.start(run).run_id
    server.fail(fault, CANCEL_ROUTE[platform], times=2)
    adapter.cancel(run, run_id)
    assert server.faults_served[fault] == 2
    assert server.requests[CANCEL_ROUTE[platform]] == 3
    assert follow(adapter, run, run_id).canceled


@pytest.mark.parametrize("platform", ALL)
def test_a_run_not_followed_by_this_pass_can_be_cancelled(
    request: pytest.FixtureRequest, platform: str, token_env: str
) -> None:
    server, pipeline, starter = cancellable(request, platform)
    server.default_outcome = "hang"
    run = make_run(pipeline)
    run_id = starter.start(run).run_id
    _server, _pipeline, other = cancellable(request, platform)  # e.g. `reconciler cancel`
    other.cancel(run, run_id)
    assert follow(starter, run, run_id).canceled


def test_a_cancel_refused_for_good_says_so(request: pytest.FixtureRequest, token_env: str) -> None:
    server, pipeline, adapter = setup(request, "databricks")
    run = make_run(pipeline)
    with pytest.raises(PermanentError, match="Run 42 does not exist"):
        adapter.cancel(run, "42")
    with pytest.raises(PermanentError, match="no Databricks run id yet"):
        adapter.cancel(run, None)
    assert server.requests["runs/cancel"] == 1


def test_an_http_hook_without_a_cancel_url_cannot_cancel(
    request: pytest.FixtureRequest, token_env: str
) -> None:
    server, pipeline, adapter = setup(request, "http")
    server.default_outcome = "hang"
    run = make_run(pipeline)
    run_id = adapter.start(run).run_id
    with pytest.raises(PermanentError, match="has no cancel_url, so its runs cannot be cancelled"):
        adapter.cancel(run, run_id)
    assert server.requests["cancel"] == 0


def test_databricks_cancelled_by_its_platform_is_a_failure_not_a_cancel(
    request: pytest.FixtureRequest, token_env: str
) -> None:
    server, pipeline, adapter = setup(request, "databricks")
    server.custom_state = {
        "status": {
            "state": "TERMINATED",
            "termination_details": {"code": "CANCELED", "type": "CLIENT_ERROR", "message": "x"},
        }
    }
    run = make_run(pipeline)
    result = follow(adapter, run, adapter.start(run).run_id)
    assert result.state == "failed" and not result.canceled


def test_databricks_older_state_object_says_canceled(
    request: pytest.FixtureRequest, token_env: str
) -> None:
    server, pipeline, adapter = setup(request, "databricks")
    server.legacy_state_only = True
    server.default_outcome = "hang"
    run = make_run(pipeline)
    run_id = adapter.start(run).run_id
    adapter.cancel(run, run_id)
    result = follow(adapter, run, run_id)
    assert result.state == "failed" and result.canceled and "CANCELED" in (result.error or "")
