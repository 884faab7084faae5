"""Each cloud adapter against its test server: a run's whole life, repeated starts,
adoption after a crash, every outcome, and every fault on the way in and out."""

from __future__ import annotations

import time
from typing import Any

import pytest
from platform_adapters import ADAPTERS, PLATFORMS, STATUS_ROUTE, TRIGGER_ROUTE, setup
from platform_support import FAST, TOKEN, follow, make_run

from reconciler.errors import PermanentError
from reconciler.platforms.snowflake import request_id
from tests.servers.base import FAULTS, POST_FAULTS

# expected failure messages, by outcome, as each platform words them
FAILURES = {
    "databricks": {
        "fail": "table sales.orders is locked",
        "skip": "SKIPPED",
        "cancel": "CANCELED",
        "timeout": "timed out",
    },
    "dbt": {
        "fail": "Database Error",
        "skip": "cancelled",
        "cancel": "cancelled",
        "timeout": "error",
    },
    "snowflake": {
        "fail": "does not exist",
        "skip": "canceled",
        "cancel": "canceled",
        "timeout": "timed out",
    },
    "http": {
        "fail": "destination bucket refused",
        "skip": "cancelled",
        "cancel": "cancelled",
        "timeout": "failed",
    },
}


def expected_key(platform: str, run: Any) -> str:
    if platform == "snowflake":
        return request_id(run.key)
    if platform == "dbt":
        return run.batch_id
    return str(run.key)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_run_is_started_once_with_its_key_and_parameters_then_followed_to_success(
    request: pytest.FixtureRequest, platform: str, token_env: str
) -> None:
    server, pipeline, adapter = setup(request, platform)
    run = make_run(pipeline, "2026-01-05")
    run_id = adapter.start(run).run_id
    assert adapter.start(run).run_id == run_id  # a repeated start is a no-op
    result = follow(adapter, run, run_id)
    assert result.state == "success", result
    assert result.ended_at is not None
    (entry,) = server.created
    assert entry["run_id"] == run_id and entry["date"] == "2026-01-05"
    assert entry["key"] == expected_key(platform, run)
    if platform == "databricks":
        assert entry["job_parameters"] == {
            "run_date": "2026-01-05",
            "start_date": "2026-01-05",
            "end_date": "2026-01-05",
            "region": "eu",
        }
        assert len(entry["key"]) == 64
    if platform == "dbt":
        assert entry["cause"].startswith(f"reconciler run {run.batch_id}")
        assert entry["steps"] == [
            'dbt build --vars \'{"run_date": "2026-01-05", "start_date": "2026-01-05", '
            '"end_date": "2026-01-05", "region": "eu"}\''
        ]
    if platform == "snowflake":
        assert [b["value"] for b in entry["bindings"].values()] == [
            "eu",
            "2026-01-05",
            "2026-01-05",
            "2026-01-05",
        ]
        assert {b["type"] for b in entry["bindings"].values()} == {"TEXT"}
        assert entry["context"] == {"warehouse": "WH", "database": "DB", "schema": "S", "role": "R"}
        assert entry["retry"] is True
    if platform == "http":
        assert entry["body"]["run"] == run.batch_id
        assert entry["body"]["window"] == {"from": "2026-01-05", "to": "2026-01-05"}
        assert entry["body"]["parameters"]["run_date"] == "2026-01-05"
    headers = server.seen_headers[-1]
    assert TOKEN in headers.get("authorization", "")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_new_process_repeating_a_start_whose_run_id_was_lost_finds_the_same_run(
    request: pytest.FixtureRequest, platform: str, token_env: str
) -> None:
    server, pipeline, first = setup(request, platform)
    run = make_run(pipeline, "2026-01-06", days=3)
    run_id = first.start(run).run_id
    first.close()  # killed before the run id reached the state: only the intent is there
    second = ADAPTERS[platform](0.0, FAST)
    request.addfinalizer(second.close)
    assert second.poll(run.batch_id, None).state == "not_started"
    assert second.start(run).run_id == run_id
    assert follow(second, run, run_id).state == "success"
    assert len(server.created) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_run_adopted_with_its_id_is_followed_without_a_new_trigger(
    request: pytest.FixtureRequest, platform: str, token_env: str
) -> None:
    server, pipeline, first = setup(request, platform)
    run = make_run(pipeline)
    run_id = first.start(run).run_id
    triggers = server.requests[TRIGGER_ROUTE[platform]]
    second = ADAPTERS[platform](0.0, FAST)
    request.addfinalizer(second.close)
    assert second.poll(run.batch_id, run_id).state == "not_started"
    assert second.start(run).run_id == run_id  # binds the recorded id
    assert follow(second, run, run_id).state == "success"
    assert server.requests[TRIGGER_ROUTE[platform]] == triggers
    assert len(server.created) == 1


@pytest.mark.parametrize("outcome", ["fail", "skip", "cancel", "timeout"])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_runs_that_do_not_succeed_fail_with_the_platforms_message(
    request: pytest.FixtureRequest, platform: str, outcome: str, token_env: str
) -> None:
    server, pipeline, adapter = setup(request, platform)
    server.outcomes["2026-01-05"] = outcome
    run = make_run(pipeline)
    result = follow(adapter, run, adapter.start(run).run_id)
    assert result.state == "failed"
    assert FAILURES[platform][outcome].lower() in (result.error or "").lower(), result.error


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_hanging_run_stays_running_and_polls_back_off(
    request: pytest.FixtureRequest, platform: str, token_env: str
) -> None:
    server, pipeline, adapter = setup(request, platform)
    server.default_outcome = "hang"
    run = make_run(pipeline)
    run_id = adapter.start(run).run_id
    end = time.monotonic() + 1.5
    polls = 0
    while time.monotonic() < end:
        assert adapter.poll(run.batch_id, run_id).state == "running"
        polls += 1
        adapter.wait(0.05)  # apply polls at least this often
    checks = server.requests[STATUS_ROUTE[platform]]
    # 0.25 s, then 1.5x: about 4 checks in 1.5 s, however often apply asks
    assert 2 <= checks <= 6, checks
    assert polls > 2 * checks


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_faults_on_the_trigger_never_make_a_second_run(
    request: pytest.FixtureRequest, platform: str, fault: str, token_env: str
) -> None:
    server, pipeline, adapter = setup(request, platform)
    server.fail(fault, TRIGGER_ROUTE[platform], times=2)
    run = make_run(pipeline)
    run_id = adapter.start(run).run_id
    # dbt, told nothing after a lost reply, finds its run by the marker instead of repeating
    assert server.faults_served[fault] == (1 if platform == "dbt" and fault in POST_FAULTS else 2)
    assert follow(adapter, run, run_id).state == "success"
    assert len(server.created) == 1
    assert server.created[0]["run_id"] == run_id


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_faults_while_following_keep_the_run_followed(
    request: pytest.FixtureRequest, platform: str, fault: str, token_env: str
) -> None:
    server, pipeline, adapter = setup(request, platform)
    run = make_run(pipeline)
    run_id = adapter.start(run).run_id
    server.fail(fault, STATUS_ROUTE[platform], times=2)
    result = follow(adapter, run, run_id)
    assert result.state == "success", result
    assert server.faults_served[fault] == 2


def test_retry_after_is_honoured(request: pytest.FixtureRequest, token_env: str) -> None:
    server, pipeline, adapter = setup(request, "databricks")
    server.retry_after = 1
    server.fail("429", "run-now")
    t0 = time.monotonic()
    adapter.start(make_run(pipeline))
    assert time.monotonic() - t0 >= 1.0
    assert len(server.created) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_wrong_token_is_a_permanent_error_that_never_shows_the_token(
    request: pytest.FixtureRequest, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, pipeline, adapter = setup(request, platform)
    wrong = "wrong-token-value-9981"
    monkeypatch.setenv("TEST_TOKEN", wrong)
    monkeypatch.setenv("TEST_HOOK_HEADERS", f'{{"Authorization": "Bearer {wrong}"}}')
    with pytest.raises(PermanentError) as caught:
        adapter.start(make_run(pipeline))
    message = str(caught.value)
    assert "401" in message or "403" in message, message
    assert wrong not in message and TOKEN not in message
    assert not server.created


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_missing_token_variable_is_named(
    request: pytest.FixtureRequest, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, pipeline, adapter = setup(request, platform)
    monkeypatch.delenv("TEST_TOKEN", raising=False)
    monkeypatch.delenv("TEST_HOOK_HEADERS", raising=False)
    with pytest.raises(
        PermanentError, match=r"environment variable TEST_(TOKEN|HOOK_HEADERS) is not set"
    ):
        adapter.start(make_run(pipeline))
    assert sum(server.requests.values()) == 0


def test_other_4xx_fail_with_the_platforms_own_message(
    request: pytest.FixtureRequest, token_env: str
) -> None:
    server, pipeline, adapter = setup(request, "databricks")
    server.jobs = {1}
    with pytest.raises(PermanentError, match="INVALID_PARAMETER_VALUE: Job 123 does not exist"):
        adapter.start(make_run(pipeline))
    assert server.requests["run-now"] == 1  # not retried
    run = make_run(pipeline)
    assert adapter.poll(run.batch_id, "42").state == "not_started"
    assert adapter.start(run).run_id == "42"
    result = follow(adapter, run, "42")
    assert result.state == "failed"
    assert "Run 42 does not exist." in (result.error or "")


def test_long_error_bodies_are_cut(request: pytest.FixtureRequest, token_env: str) -> None:
    server, pipeline, adapter = setup(request, "databricks")
    server.jobs = set()
    original = server.error_body
    server.error_body = lambda status, message: original(status, message + " x" * 5000)  # type: ignore[method-assign]
    with pytest.raises(PermanentError) as caught:
        adapter.start(make_run(pipeline))
    assert len(str(caught.value)) < 400
