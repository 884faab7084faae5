"""Behaviour particular to one platform: lifecycle values, markers, bindings, hooks,
and replies of unexpected shapes (cancelling: ``test_cancel.py``)."""

from __future__ import annotations

import time
import uuid

import pytest
from platform_adapters import setup
from platform_support import FAST, TOKEN, follow, make_run

from reconciler.errors import PermanentError
from reconciler.platforms.dbt import DbtPlatform
from reconciler.platforms.snowflake import request_id


def test_unknown_lifecycle_values_keep_polling_with_a_warning_and_unknown_results_fail(
    request: pytest.FixtureRequest, token_env: str, caplog: pytest.LogCaptureFixture
) -> None:
    server, pipeline, adapter = setup(request, "databricks")
    server.custom_state = {"status": {"state": "HIBERNATING"}}
    run = make_run(pipeline)
    run_id = adapter.start(run).run_id
    with caplog.at_level("WARNING", logger="reconciler.platforms"):
        for _ in range(3):
            assert adapter.poll(run.batch_id, run_id).state == "running"
            adapter.wait(1)
    assert "HIBERNATING" in caplog.text
    assert caplog.text.count("HIBERNATING") == 1  # once per value
    server.custom_state = {
        "status": {"state": "TERMINATED", "termination_details": {"code": "BRAND_NEW", "type": "X"}}
    }
    result = follow(adapter, run, run_id)
    assert result.state == "failed" and "BRAND_NEW" in (result.error or "")


def test_databricks_without_the_status_object_reads_the_state_object(
    request: pytest.FixtureRequest, token_env: str
) -> None:
    server, pipeline, adapter = setup(request, "databricks")
    server.legacy_state_only = True
    server.outcomes["2026-01-06"] = "skip"
    ok, skipped = make_run(pipeline), make_run(pipeline, "2026-01-06")
    assert follow(adapter, ok, adapter.start(ok).run_id).state == "success"
    result = follow(adapter, skipped, adapter.start(skipped).run_id)
    assert result.state == "failed" and "SKIPPED" in (result.error or "")
    server.custom_state = {"state": {"life_cycle_state": "DREAMING"}}
    third = make_run(pipeline, "2026-01-07")
    run_id = adapter.start(third).run_id
    time.sleep(0.3)
    assert adapter.poll(third.batch_id, run_id).state == "running"


def test_dbt_unknown_status_keeps_polling_unless_it_says_it_ended(
    request: pytest.FixtureRequest, token_env: str
) -> None:
    server, pipeline, adapter = setup(request, "dbt")
    run = make_run(pipeline)
    run_id = adapter.start(run).run_id
    server.custom_status = 7
    time.sleep(0.3)
    assert adapter.poll(run.batch_id, run_id).state == "running"  # is_complete is false
    server.custom_status = None
    server.default_outcome = "success"
    assert follow(adapter, run, run_id).state == "success"


def test_dbt_finds_a_run_made_by_a_killed_process_by_its_marker(
    request: pytest.FixtureRequest, token_env: str
) -> None:
    server, pipeline, first = setup(request, "dbt")
    runs = [make_run(pipeline, f"2026-01-{d:02d}") for d in range(1, 8)]
    made = {r.batch_id: first.start(r).run_id for r in runs}
    assert server.requests["list"] == 1
    second = DbtPlatform(0.0, FAST)
    request.addfinalizer(second.close)
    for run in runs:  # fresh intents from second's point of view: still searched
        assert second.start(run).run_id == made[run.batch_id]
    assert len(server.created) == 7
    assert server.requests["list"] == 2  # one search per pass and job


def test_dbt_search_pages_through_recent_runs(
    request: pytest.FixtureRequest, token_env: str
) -> None:
    server, pipeline, first = setup(request, "dbt")
    target = make_run(pipeline, "2026-01-01")
    first.start(target)
    for i in range(150):  # newer runs of the same job, by others
        server.new_run(
            str(80_000_000 + i),
            None,
            key=None,
            cause="scheduled",
            steps=[],
            account_id=12345,
            job_id=678,
        )
    second = DbtPlatform(0.0, FAST)
    request.addfinalizer(second.close)
    assert second.start(target).run_id == server.created[0]["run_id"]
    assert server.requests["list"] == 1 + 2  # first's search, then two pages


def test_snowflake_resubmission_without_retry_would_run_twice_so_retry_is_always_sent(
    request: pytest.FixtureRequest, token_env: str
) -> None:
    import httpx

    server, pipeline, adapter = setup(request, "snowflake")
    run = make_run(pipeline)
    adapter.start(run)
    rid = request_id(run.key)
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": "application/json",
        "User-Agent": "t",
    }
    body = {"statement": "select 1"}
    httpx.post(
        f"{server.url}/api/v2/statements",
        params={"requestId": rid, "retry": "true"},
        json=body,
        headers=headers,
    )
    assert len(server.created) == 1
    httpx.post(
        f"{server.url}/api/v2/statements", params={"requestId": rid}, json=body, headers=headers
    )
    assert len(server.created) == 2  # the server is faithful: no retry=true, run again
    assert uuid.UUID(rid).version == 5


def test_snowflake_statement_errors_at_submission_fail_the_run(
    request: pytest.FixtureRequest, token_env: str
) -> None:
    server, pipeline, adapter = setup(request, "snowflake")
    server.run_seconds = 0  # the statement has ended when the reply is sent
    server.outcomes["2026-01-05"] = "fail"
    run = make_run(pipeline)
    handle = adapter.start(run).run_id
    result = adapter.poll(run.batch_id, handle)
    assert result.state == "failed" and "SQL compilation error" in (result.error or "")
    assert server.requests["status"] == 0


def test_snowflake_too_few_parameters_for_the_placeholders_is_permanent(
    request: pytest.FixtureRequest, token_env: str
) -> None:
    _server, pipeline, adapter = setup(
        request, "snowflake", trigger={"statement": "call x(?, ?, ?, ?, ?, '?')"}
    )
    with pytest.raises(PermanentError, match="5 \\? placeholders"):
        adapter.start(make_run(pipeline))


def test_http_hook_without_status_url_succeeds_when_accepted(
    request: pytest.FixtureRequest, token_env: str
) -> None:
    server, pipeline, adapter = setup(request, "http", trigger={"status_url": None})
    run = make_run(pipeline)
    run_id = adapter.start(run).run_id
    assert adapter.poll(run.batch_id, run_id).state == "success"
    assert server.requests["job"] == 0


def test_http_hook_unknown_status_word_keeps_polling(
    request: pytest.FixtureRequest, token_env: str, caplog: pytest.LogCaptureFixture
) -> None:
    server, pipeline, adapter = setup(request, "http")
    server.custom_status = "percolating"
    run = make_run(pipeline)
    run_id = adapter.start(run).run_id
    time.sleep(0.3)
    with caplog.at_level("WARNING", logger="reconciler.platforms"):
        assert adapter.poll(run.batch_id, run_id).state == "running"
    assert "percolating" in caplog.text


def test_http_hook_headers_must_be_a_json_object(
    request: pytest.FixtureRequest, token_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _server, pipeline, adapter = setup(request, "http")
    monkeypatch.setenv("TEST_HOOK_HEADERS", f"Bearer {TOKEN}")
    with pytest.raises(PermanentError) as caught:
        adapter.start(make_run(pipeline))
    assert "TEST_HOOK_HEADERS must hold a JSON object" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_a_reply_of_an_unexpected_shape_fails_the_run_without_crashing(
    request: pytest.FixtureRequest, token_env: str
) -> None:
    server, pipeline, adapter = setup(request, "databricks")
    run = make_run(pipeline)
    run_id = adapter.start(run).run_id
    server.custom_state = {"status": {"state": "TERMINATED", "termination_details": "oops"}}
    result = follow(adapter, run, run_id)
    assert result.state == "failed" and "unexpected reply" in (result.error or "")
