"""Snowflake quality-check queries: the SQL API v2 reply shapes, through a transport seam."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import httpx
import pytest

from reconciler.config.models import SnowflakeTrigger
from reconciler.config.sql_binding import BoundSql
from reconciler.errors import PermanentError
from reconciler.platforms.snowflake import run_query
from reconciler.quality.results import verdict
from reconciler.quality.snowflake_engine import run_snowflake

TOKEN = "sf-token-abcdef"
TRIGGER = SnowflakeTrigger.model_validate(
    {"account": "xy12345", "statement": "call x()", "warehouse": "wh", "token_env": "SF_TOKEN"}
)


def result_set(value: str | None, handle: str = "01b2-handle") -> dict[str, Any]:
    return {
        "statementHandle": handle,
        "resultSetMetaData": {
            "numRows": 1,
            "format": "jsonv2",
            "rowType": [{"name": "COUNT(*) > 0", "type": "boolean", "nullable": True}],
        },
        "data": [[value]],
    }


class Server:
    """A function server: records requests, answers from a script of replies."""

    def __init__(self, *replies: httpx.Response) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.replies.pop(0)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_TOKEN", TOKEN)


def test_a_finished_query_returns_columns_and_text_cells() -> None:
    server = Server(httpx.Response(200, json=result_set("true")))
    columns, rows = run_query(
        TRIGGER, "select count(*) > 0 from t", timeout=30, transport=server.transport()
    )
    assert columns == [("COUNT(*) > 0", "boolean")] and rows == [["true"]]
    (sent,) = server.requests
    assert (
        sent.url.path == "/api/v2/statements" and sent.url.host == "xy12345.snowflakecomputing.com"
    )
    assert sent.url.params["retry"] == "true" and sent.url.params["requestId"]
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["Content-Type"] == "application/json"
    body = json.loads(sent.content)
    assert body == {"statement": "select count(*) > 0 from t", "timeout": 30, "warehouse": "wh"}


def test_a_running_query_is_followed_by_handle_until_it_finishes() -> None:
    running = {"statementHandle": "01b2-handle", "message": "Asynchronous execution in progress."}
    server = Server(
        httpx.Response(202, json=running),
        httpx.Response(202, json=running),
        httpx.Response(200, json=result_set("false")),
    )
    naps: list[float] = []
    _columns, rows = run_query(
        TRIGGER, "select 1", timeout=30, transport=server.transport(), sleep=naps.append
    )
    assert rows == [["false"]] and len(naps) == 2
    assert [r.method for r in server.requests] == ["POST", "GET", "GET"]
    assert server.requests[1].url.path == "/api/v2/statements/01b2-handle"


def test_a_sql_error_is_a_permanent_error_with_snowflakes_message() -> None:
    error = {"code": "002003", "sqlState": "42S02", "message": "Object 'T' does not exist."}
    server = Server(httpx.Response(422, json=error))
    with pytest.raises(PermanentError, match="Object 'T' does not exist") as caught:
        run_query(TRIGGER, "select 1 from t", timeout=30, transport=server.transport())
    assert TOKEN not in str(caught.value)


def test_a_query_that_never_finishes_gives_up_after_the_timeout() -> None:
    running = {"statementHandle": "h-1"}
    server = Server(*[httpx.Response(202, json=running) for _ in range(10)])
    with pytest.raises(PermanentError, match="did not finish within 1s"):
        run_query(
            TRIGGER, "select 1", timeout=1, transport=server.transport(), sleep=lambda s: None
        )


def test_the_engine_turns_the_answer_into_a_verdict() -> None:
    """A snowflake check through the engine: a boolean decides pass or fail."""
    from reconciler.config.models import PIPELINE_ADAPTER

    pipeline = PIPELINE_ADAPTER.validate_python(
        {
            "id": "sf",
            "platform": "snowflake",
            "trigger": TRIGGER.model_dump(by_alias=True, exclude_none=True),
            "schedule": {"type": "daily", "start": "2026-01-01"},
        }
    )
    for value, passed in (("true", True), ("false", False)):
        server = Server(httpx.Response(200, json=result_set(value)))
        query = partial(run_query, transport=server.transport())
        sql = BoundSql("select count(*) > 0 from t", {}, ())
        answer = run_snowflake(pipeline, sql, 30, query=query)
        assert verdict(answer)[0] is passed
