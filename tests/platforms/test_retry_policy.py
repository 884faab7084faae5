"""The error policy in one place (``http_client``) and the starts it cannot settle.

The client's pure parts take a function as the server (httpx's MockTransport); the
unsure starts run against the Databricks test server.
"""

from __future__ import annotations

import random
import socket
import time
from email.utils import formatdate

import httpx
import pytest
from platform_support import TOKEN, follow, make_pipeline, make_run

from reconciler.errors import PermanentError, TransientError
from reconciler.platforms import remote
from reconciler.platforms.databricks import DatabricksPlatform
from reconciler.platforms.http_client import (
    DEFAULT_RETRY_AFTER,
    HttpClient,
    HttpPolicy,
    UncertainError,
    body_text,
    retry_after,
    secret_from_env,
)

QUICK = HttpPolicy(
    connect_timeout=0.5, read_timeout=0.3, deadline=0.6, base_delay=0.01, max_delay=0.05
)


def client_for(
    handler, policy: HttpPolicy = QUICK, sleeps: list[float] | None = None
) -> HttpClient:
    record = sleeps if sleeps is not None else []
    return HttpClient(
        "Test",
        body_text,
        policy,
        httpx.MockTransport(handler),
        sleep=record.append,
        rng=random.Random(1),
    )


def test_backoff_is_exponential_jittered_bounded_and_respects_retry_after() -> None:
    policy = HttpPolicy(base_delay=0.25, max_delay=8.0)
    rng = random.Random(3)
    for attempt in range(12):
        ceiling = min(8.0, 0.25 * 2**attempt)
        delay = policy.backoff(attempt, rng)
        assert ceiling / 2 <= delay <= ceiling
    assert policy.backoff(0, rng, retry_after=5) == 5


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (429, {"Retry-After": "3"}, 3.0),
        (503, {}, DEFAULT_RETRY_AFTER),
        (429, {}, DEFAULT_RETRY_AFTER),
        (500, {}, None),
        (503, {"Retry-After": "soon"}, DEFAULT_RETRY_AFTER),
    ],
)
def test_retry_after_seconds(status: int, headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(httpx.Response(status, headers=headers)) == expected


def test_retry_after_as_an_http_date() -> None:
    when = formatdate(time.time() + 30, usegmt=True)
    value = retry_after(httpx.Response(429, headers={"Retry-After": when}))
    assert value is not None and 25 <= value <= 31


def test_429_then_success_sleeps_at_least_retry_after() -> None:
    replies = iter(
        [httpx.Response(429, headers={"Retry-After": "0.4"}), httpx.Response(200, json={})]
    )
    sleeps: list[float] = []
    client = client_for(lambda req: next(replies), HttpPolicy(deadline=5), sleeps)
    client.retrying(lambda: client.request("GET", "http://x/", what="call"))
    assert sleeps and sleeps[0] >= 0.4


def test_a_retry_after_past_the_deadline_gives_up_at_once() -> None:
    sleeps: list[float] = []
    client = client_for(
        lambda req: httpx.Response(429, headers={"Retry-After": "120"}),
        HttpPolicy(deadline=10),
        sleeps,
    )
    with pytest.raises(TransientError, match="gave up after 1 attempt") as caught:
        client.retrying(lambda: client.request("GET", "http://x/", what="call"))
    assert not isinstance(caught.value, UncertainError)  # a 429 did nothing
    assert caught.value.delay == 120
    assert sleeps == []


def test_the_total_deadline_bounds_the_attempts() -> None:
    clock = [0.0]
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503, text="")

    client = HttpClient(
        "Test",
        body_text,
        HttpPolicy(deadline=3, base_delay=0.5, max_delay=1),
        httpx.MockTransport(handler),
        sleep=lambda s: clock.__setitem__(0, clock[0] + s),
        monotonic=lambda: clock[0],
        rng=random.Random(1),
    )
    with pytest.raises(UncertainError):  # a 5xx may have acted
        client.retrying(lambda: client.request("POST", "http://x/", what="call"))
    assert clock[0] <= 3 and 2 <= len(calls) <= 4


def test_4xx_is_permanent_and_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(404, text="<html><title>Not Found</title><body>...</body></html>")

    client = client_for(handler)
    with pytest.raises(PermanentError, match="HTTP 404: Not Found"):
        client.retrying(lambda: client.request("GET", "http://x/", what="call"))
    assert calls == [1]


def test_empty_error_bodies_use_the_reason_phrase() -> None:
    client = client_for(lambda req: httpx.Response(400))
    with pytest.raises(PermanentError, match="HTTP 400: Bad Request"):
        client.request("GET", "http://x/", what="call")


def test_secrets_are_masked_and_bodies_cut() -> None:
    client = client_for(lambda req: httpx.Response(403, text=f"bad token {TOKEN} " + "y" * 5000))
    client.add_secret(TOKEN)
    with pytest.raises(PermanentError) as caught:
        client.request("GET", "http://x/", what="call")
    text = str(caught.value)
    assert TOKEN not in text and "***" in text and len(text) < 350


def test_a_missing_secret_names_the_variable_only() -> None:
    with pytest.raises(PermanentError, match="environment variable MY_TOKEN is not set"):
        secret_from_env("MY_TOKEN", "a token", env={})
    assert secret_from_env("MY_TOKEN", "a token", env={"MY_TOKEN": " abc "}) == "abc"


def test_policy_from_the_environment() -> None:
    policy = HttpPolicy.from_env(
        {"RECONCILER_HTTP_TIMEOUT": "2.5", "RECONCILER_HTTP_DEADLINE": "9"}
    )
    assert (policy.read_timeout, policy.deadline) == (2.5, 9)
    with pytest.raises(PermanentError, match="RECONCILER_HTTP_TIMEOUT"):
        HttpPolicy.from_env({"RECONCILER_HTTP_TIMEOUT": "soon"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_platform_that_cannot_be_reached_fails_the_start(token_env: str) -> None:
    pipeline = make_pipeline("databricks", f"http://127.0.0.1:{_free_port()}")
    adapter = DatabricksPlatform(0.0, QUICK)
    with pytest.raises(TransientError) as caught:  # apply records "not started: ..."
        adapter.start(make_run(pipeline))
    assert not isinstance(caught.value, UncertainError)
    assert "cannot connect" in str(caught.value)


def test_a_start_whose_replies_are_all_lost_stays_in_flight_and_is_confirmed_later(
    databricks_server, token_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote, "RESTART_EVERY", 0.2)
    pipeline = make_pipeline("databricks", databricks_server.url)
    adapter = DatabricksPlatform(0.0, QUICK)
    databricks_server.fail("drop", "run-now", times=1000)
    run = make_run(pipeline)
    assert adapter.start(run).run_id is None  # made, but no reply said so
    assert len(databricks_server.created) == 1
    assert adapter.poll(run.batch_id, None).state == "running"
    databricks_server.fail_next.clear()
    time.sleep(0.25)
    assert adapter.poll(run.batch_id, None).state == "not_started"
    run_id = adapter.start(run).run_id  # apply repeats the idempotent start
    assert run_id == databricks_server.created[0]["run_id"]
    assert follow(adapter, run, run_id).state == "success"
    assert len(databricks_server.created) == 1


def test_an_unconfirmed_start_is_given_up_after_a_limit(
    databricks_server, token_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote, "UNCONFIRMED_LIMIT", 0.1)
    pipeline = make_pipeline("databricks", databricks_server.url)
    adapter = DatabricksPlatform(0.0, QUICK)
    databricks_server.fail("503", "run-now", times=1000)
    run = make_run(pipeline)
    assert adapter.start(run).run_id is None
    time.sleep(0.15)
    result = adapter.poll(run.batch_id, None)
    assert result.state == "failed"
    assert "could not confirm" in (result.error or "") and "503" in (result.error or "")


def test_wait_sleeps_until_the_next_check_is_due(databricks_server, token_env: str) -> None:
    databricks_server.run_seconds = 5
    adapter = DatabricksPlatform(0.0, QUICK)
    run = make_run(make_pipeline("databricks", databricks_server.url))
    run_id = adapter.start(run).run_id
    t0 = time.monotonic()
    adapter.wait(10)
    waited = time.monotonic() - t0
    assert 0.15 <= waited <= 0.5  # the first check, 0.25 s after the start
    assert adapter.poll(run.batch_id, run_id).state == "running"
    t1 = time.monotonic()
    adapter.wait(0.05)  # never longer than apply asks
    assert time.monotonic() - t1 < 0.2
