"""The test servers are faithful: the vendors' own clients, unmodified, parse every reply.

``databricks-sdk`` drives the Databricks server (``jobs.run_now``, ``jobs.get_run``,
``jobs.cancel_run``) and
``slack_sdk``'s ``WebhookClient`` the Slack server, through every outcome and error.
"""

from __future__ import annotations

import time

import pytest
from platform_support import TOKEN

databricks_sdk = pytest.importorskip("databricks.sdk")
slack_webhook = pytest.importorskip("slack_sdk.webhook")

from databricks.sdk.errors import InvalidParameterValue, NotFound, PermissionDenied  # noqa: E402
from databricks.sdk.service.jobs import (  # noqa: E402
    RunLifeCycleState,
    RunResultState,
    TerminationCodeCode,
)


def workspace(server, token: str = TOKEN):
    return databricks_sdk.WorkspaceClient(host=server.url, token=token)


OUTCOMES = {
    "success": (RunLifeCycleState.TERMINATED, RunResultState.SUCCESS, TerminationCodeCode.SUCCESS),
    "fail": (
        RunLifeCycleState.TERMINATED,
        RunResultState.FAILED,
        TerminationCodeCode.RUN_EXECUTION_ERROR,
    ),
    "skip": (RunLifeCycleState.SKIPPED, None, TerminationCodeCode.SKIPPED),
    "cancel": (
        RunLifeCycleState.TERMINATED,
        RunResultState.CANCELED,
        TerminationCodeCode.USER_CANCELED,
    ),
    "timeout": (
        RunLifeCycleState.TERMINATED,
        RunResultState.TIMEDOUT,
        TerminationCodeCode.RUN_EXECUTION_ERROR,
    ),
}


def test_databricks_sdk_runs_and_reads_runs_of_every_outcome(databricks_server) -> None:
    w = workspace(databricks_server)
    databricks_server.run_seconds = 0.2
    ids = {}
    for index, outcome in enumerate(OUTCOMES):
        day = f"2026-03-0{index + 1}"
        databricks_server.outcomes[day] = outcome
        waiter = w.jobs.run_now(
            job_id=123, job_parameters={"run_date": day}, idempotency_token=f"tok-{outcome}"
        )
        ids[outcome] = waiter.response.run_id
        assert waiter.response.number_in_job == index + 1
        running = w.jobs.get_run(ids[outcome])
        assert running.state.life_cycle_state == RunLifeCycleState.RUNNING
        assert running.status.state.value == "RUNNING"
    again = w.jobs.run_now(job_id=123, idempotency_token="tok-success")
    assert again.response.run_id == ids["success"]  # the token made its run already
    time.sleep(0.3)
    for outcome, (life, result, code) in OUTCOMES.items():
        run = w.jobs.get_run(ids[outcome])
        assert run.state.life_cycle_state == life
        assert run.state.result_state == result
        assert run.status.termination_details.code == code
        assert run.end_time and run.start_time and run.end_time >= run.start_time
        assert run.job_parameters[0].name == "run_date"
    assert len(databricks_server.created) == len(OUTCOMES)


def test_databricks_sdk_reads_the_servers_errors(databricks_server) -> None:
    w = workspace(databricks_server)
    with pytest.raises(NotFound, match="Run 42 does not exist") as caught:
        w.jobs.get_run(42)  # the SDK reads the 400 INVALID_PARAMETER_VALUE as "not found"
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    databricks_server.jobs = {1}
    with pytest.raises(InvalidParameterValue, match="Job 123 does not exist"):
        w.jobs.run_now(job_id=123)
    with pytest.raises(PermissionDenied, match="Invalid access token"):
        workspace(databricks_server, "wrong-token").jobs.get_run(1)


def test_databricks_sdk_retries_the_servers_429_and_503(databricks_server) -> None:
    w = workspace(databricks_server)
    databricks_server.fail("429", "run-now")
    databricks_server.fail("503", "run-now")
    waiter = w.jobs.run_now(job_id=123, idempotency_token="tok-limits")
    assert waiter.response.run_id
    assert databricks_server.faults_served == {"429": 1, "503": 1}
    assert len(databricks_server.created) == 1


def test_databricks_sdk_cancels_runs_on_the_server(databricks_server) -> None:
    w = workspace(databricks_server)
    databricks_server.default_outcome = "hang"
    run_id = w.jobs.run_now(job_id=123, idempotency_token="tok-cancel").response.run_id
    databricks_server.fail("429", "runs/cancel")
    databricks_server.fail("503", "runs/cancel")
    w.jobs.cancel_run(run_id)  # its own retries carry it past the 429 and the 503
    assert databricks_server.faults_served == {"429": 1, "503": 1}
    run = w.jobs.get_run(run_id)
    assert run.state.life_cycle_state == RunLifeCycleState.TERMINATED
    assert run.state.result_state == RunResultState.CANCELED
    assert run.status.termination_details.code == TerminationCodeCode.USER_CANCELED
    assert run.end_time and run.end_time >= run.start_time
    w.jobs.cancel_run(run_id)  # cancelling again (an ended run) is a no-op
    assert w.jobs.get_run(run_id).state.result_state == RunResultState.CANCELED
    with pytest.raises(InvalidParameterValue, match="Run 42 does not exist"):
        w.jobs.cancel_run(42)  # (400 INVALID_PARAMETER_VALUE, read as such here)
    # the waiter the SDK offers follows the run to its end
    ended = w.jobs.cancel_run_and_wait(run_id)
    assert ended.state.life_cycle_state == RunLifeCycleState.TERMINATED


def test_slack_webhook_client_reads_every_reply(slack_server) -> None:
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    client = slack_webhook.WebhookClient(slack_server.webhook_url())
    ok = client.send(
        text="backfill done",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*orders*: 30 dates"}}],
    )
    assert (ok.status_code, ok.body) == (200, "ok")
    empty = client.send(text="")
    assert (empty.status_code, empty.body) == (400, "no_text")
    too_many = client.send(text="x", blocks=[{"type": "divider"}] * 51)
    assert (too_many.status_code, too_many.body) == (400, "invalid_blocks")
    long = client.send(
        text="x", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}]
    )
    assert long.status_code == 400
    gone = slack_webhook.WebhookClient(slack_server.webhook_url("no-such-hook")).send(text="x")
    assert (gone.status_code, gone.body) == (404, "no_service")
    slack_server.archived.add(TOKEN)
    archived = client.send(text="x")
    assert (archived.status_code, archived.body) == (410, "channel_is_archived")
    slack_server.archived.clear()

    slack_server.fail("429", "webhook")
    limited = client.send(text="x")
    assert limited.status_code == 429 and limited.body == "rate_limited"
    assert limited.headers.get("retry-after") == ["0"] or limited.headers.get("Retry-After")
    slack_server.fail("429", "webhook")
    patient = slack_webhook.WebhookClient(
        slack_server.webhook_url(), retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)]
    )
    assert patient.send(text="after a wait").status_code == 200
    for fault, status in (("503", 503), ("empty500", 500), ("html502", 502)):
        slack_server.fail(fault, "webhook")
        reply = client.send(text="x")
        assert reply.status_code == status and isinstance(reply.body, str)
    assert [m["text"] for m in slack_server.messages] == ["backfill done", "after a wait"]
