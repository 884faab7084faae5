"""The ``snowflake`` platform: SQL API v2 statements, asynchronous, followed by handle.

The ``requestId`` is a UUIDv5 of the run's batch key and every submission carries
``retry=true``: a start cannot tell a first submission from one repeated after a
crash, and with ``retry=true`` Snowflake does not run an executed request again.
Parameters arrive as positional TEXT bindings (declared parameters in file order, then
``run_date``, ``start_date``, ``end_date``), one per ``?`` in the statement.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from reconciler.config.models import SnowflakeTrigger
from reconciler.core.durations import parse_duration
from reconciler.errors import PermanentError
from reconciler.platforms.base import PollResult, RunRequest
from reconciler.platforms.http_client import (
    HttpClient,
    HttpPolicy,
    body_text,
    cut,
    json_body,
    secret_from_env,
)
from reconciler.platforms.remote import RemotePlatform, Started

NAMESPACE = uuid.UUID("6b1f4c8e-2d0a-5c3e-9f47-1a2b3c4d5e6f")  # of reconciler request ids
ADDED = ("run_date", "start_date", "end_date")
HANDLED = (202, 408, 422)  # statuses with a statement behind them, not errors of the call
CANCELED_CODE = "000604"  # "SQL execution canceled": the statement was stopped on request
# quoted strings, quoted identifiers, $$ blocks and comments: a ? inside is not a binding
_NOT_SQL = re.compile(
    r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"]|\"\")*\"|\$\$.*?\$\$|--[^\n]*|/\*.*?\*/", re.S
)


def request_id(key: str) -> str:
    """The ``requestId`` of a run: the same batch key always gives the same UUID."""
    return str(uuid.uuid5(NAMESPACE, key))


def placeholders(statement: str) -> int:
    """How many positional ``?`` bindings a statement has."""
    return _NOT_SQL.sub(" ", statement).count("?")


def bindings(run: RunRequest, statement: str) -> dict[str, dict[str, str]]:
    """``{"1": {"type": "TEXT", "value": ...}, ...}``, one for each ``?`` in the statement."""
    declared = list(run.pipeline.parameters)
    names = declared + [n for n in ADDED if n not in declared]
    values = [run.parameters[n] for n in names if n in run.parameters]
    needed = placeholders(statement)
    if needed > len(values):
        raise PermanentError(
            f"the Snowflake statement has {needed} ? placeholders but the run has only "
            f"{len(values)} parameters ({', '.join(names)})"
        )
    return {str(i + 1): {"type": "TEXT", "value": values[i]} for i in range(needed)}


def describe(response: httpx.Response) -> str:
    """``message (code, sqlState)`` from Snowflake's error body, or the body's text."""
    data = json_body(response)
    if isinstance(data, dict) and data.get("message"):
        extra = ", ".join(str(data[k]) for k in ("code", "sqlState") if data.get(k))
        return cut(f"{data['message']} ({extra})" if extra else str(data["message"]))
    return body_text(response)


def statements_url(trigger: SnowflakeTrigger) -> str:
    """The SQL API's statements endpoint for the trigger's account (or its ``host``)."""
    host = trigger.host or f"https://{trigger.account}.snowflakecomputing.com"
    return host.rstrip("/") + "/api/v2/statements"


def auth_headers(trigger: SnowflakeTrigger, client: HttpClient) -> dict[str, str]:
    """Headers of every call; the token is read from its env var and masked in messages."""
    token = secret_from_env(trigger.token_env, "a Snowflake token")
    client.add_secret(token)
    return {
        "Authorization": f"Bearer {token}",
        "X-Snowflake-Authorization-Token-Type": trigger.token_type,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


def context_fields(trigger: SnowflakeTrigger) -> dict[str, str]:
    """The statement body's warehouse / database / schema / role, where set."""
    fields = {
        "warehouse": trigger.warehouse,
        "database": trigger.database,
        "schema": trigger.schema_,
        "role": trigger.role,
    }
    return {name: value for name, value in fields.items() if value is not None}


class SnowflakePlatform(RemotePlatform):
    name = "snowflake"
    label = "Snowflake"
    describe = staticmethod(describe)

    def _base(self, trigger: SnowflakeTrigger) -> str:
        return statements_url(trigger)

    def _headers(self, trigger: SnowflakeTrigger) -> dict[str, str]:
        return auth_headers(trigger, self.client)

    def _result(self, response: httpx.Response, handle: str) -> PollResult:
        """What a statement reply says: 200 done, 202 running, 422 SQL error, 408 timed out."""
        status = response.status_code
        if status == 202:
            return PollResult("running")
        if status == 200:
            return PollResult("success", self.now())
        data = json_body(response)
        canceled = status == 422 and isinstance(data, dict) and data.get("code") == CANCELED_CODE
        reason = "timed out and was cancelled" if status == 408 else "failed"
        if canceled:
            reason = "was cancelled"
        return PollResult(
            "failed",
            self.now(),
            cut(f"Snowflake statement {handle} {reason}: {describe(response)}", 500),
            canceled=canceled,
        )

    def _trigger(self, run: RunRequest, again: bool) -> Started:
        trigger = run.pipeline.trigger
        assert isinstance(trigger, SnowflakeTrigger)
        headers = self._headers(trigger)
        body: dict[str, Any] = {
            "statement": trigger.statement,
            "bindings": bindings(run, trigger.statement),
            **context_fields(trigger),
        }
        if trigger.timeout is not None:
            body["timeout"] = parse_duration(trigger.timeout)
        params = {"requestId": request_id(run.key), "async": "true", "retry": "true"}

        def attempt() -> Started:
            response = self.client.request(
                "POST",
                self._base(trigger),
                what="statement submission",
                headers=headers,
                json_body=body,
                params=params,
                expect=HANDLED,
            )
            data = json_body(response)
            handle = data.get("statementHandle") if isinstance(data, dict) else None
            if not isinstance(handle, str) or not handle:
                if response.status_code == 408:  # cancelled before it had a handle
                    return Started(request_id(run.key), self._result(response, "(no handle)"))
                raise PermanentError(
                    f"Snowflake statement submission: no statementHandle ({body_text(response)})"
                )
            result = self._result(response, handle)
            return Started(handle, None if result.state == "running" else result)

        return self.client.retrying(attempt)

    def _check(self, run: RunRequest, run_id: str) -> PollResult:
        trigger = run.pipeline.trigger
        assert isinstance(trigger, SnowflakeTrigger)
        response = self.client.request(
            "GET",
            f"{self._base(trigger)}/{run_id}",
            what=f"status of statement {run_id}",
            headers=self._headers(trigger),
            expect=HANDLED,
        )
        return self._result(response, run_id)

    def _cancel(self, run: RunRequest, run_id: str) -> None:
        """``POST .../{handle}/cancel``; a 422 (the statement has ended in error) is no error."""
        trigger = run.pipeline.trigger
        assert isinstance(trigger, SnowflakeTrigger)
        self.client.request(
            "POST",
            f"{self._base(trigger)}/{run_id}/cancel",
            what=f"cancel of statement {run_id}",
            headers=self._headers(trigger),
            expect=(422,),
        )


Columns = list[tuple[str, str]]
Rows = list[list[str | None]]
QUERY_POLL = 0.5  # seconds between looks at a running check query


def run_query(
    trigger: SnowflakeTrigger,
    sql: str,
    *,
    timeout: float,
    bindings: dict[str, dict[str, str]] | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Columns, Rows]:
    """Run a data-quality query on the pipeline's Snowflake connection and wait for it.

    Returns ``(name, type)`` per column and the rows of the first partition (cells are
    strings, as the SQL API sends them); ``bindings`` are the values of its ``?``
    placeholders. Raises ``PermanentError`` with Snowflake's
    message for SQL errors, timeouts and refusals. A check only reads, so a fresh
    ``requestId`` per call is enough; ``retry=true`` keeps a resubmission after a lost
    reply from running it twice.
    """
    client = HttpClient("Snowflake", describe, HttpPolicy.from_env(), transport)
    try:
        headers = auth_headers(trigger, client)
        base = statements_url(trigger)
        body: dict[str, Any] = {
            "statement": sql,
            "timeout": max(1, int(timeout)),
            **context_fields(trigger),
        }
        if bindings:
            body["bindings"] = bindings
        params = {"requestId": str(uuid.uuid4()), "retry": "true"}
        response = client.retrying(
            lambda: client.request(
                "POST",
                base,
                what="quality check query",
                headers=headers,
                json_body=body,
                params=params,
                expect=HANDLED,
            )
        )
        waited = 0.0
        while response.status_code == 202:
            data = json_body(response)
            handle = data.get("statementHandle") if isinstance(data, dict) else None
            if not isinstance(handle, str) or waited > timeout:
                raise PermanentError(
                    f"Snowflake quality check query did not finish within {timeout:.0f}s"
                )
            sleep(QUERY_POLL)
            waited += QUERY_POLL
            status_url = f"{base}/{handle}"

            def look(url: str = status_url) -> httpx.Response:
                return client.request(
                    "GET", url, what="quality check query status", headers=headers, expect=HANDLED
                )

            response = client.retrying(look)
        if response.status_code != 200:
            reason = "timed out" if response.status_code == 408 else "failed"
            raise PermanentError(f"Snowflake quality check query {reason}: {describe(response)}")
        data = json_body(response)
        try:
            row_type = data["resultSetMetaData"]["rowType"]
            columns = [(str(c["name"]), str(c.get("type", "text"))) for c in row_type]
            rows = [list(r) for r in data.get("data") or []]
        except (KeyError, TypeError) as exc:
            raise PermanentError(
                f"Snowflake quality check query: unexpected reply ({body_text(response)})"
            ) from exc
        return columns, rows
    finally:
        client.close()
