"""A Snowflake SQL API v2 test server: submit a statement, follow it by handle, cancel it.

Headers are checked as Snowflake does: ``Content-Type: application/json`` (else 415),
a ``User-Agent``, a known ``X-Snowflake-Authorization-Token-Type``. A ``requestId``
seen before with ``retry=true`` returns that statement and runs nothing; seen before
*without* ``retry=true`` it runs the statement again (a second entry in the ledger),
as the documentation warns. Replies: 202 while running, 200 ResultSet, 422 SQL error,
408 timed out and cancelled. ``POST .../{handle}/cancel`` answers 200 (a CancelStatus)
and stops a running statement, whose status then answers 422 with code 000604 and
sqlState 57014 ("SQL execution canceled").

Run by hand: ``python -m tests.servers.snowflake --port 8003`` (see README.md).
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.servers.base import DATE, ApiServer, Reply, Request, Run, bearer, main

API = "/api/v2/statements"
TOKEN_TYPES = {"OAUTH", "KEYPAIR_JWT", "PROGRAMMATIC_ACCESS_TOKEN"}
BODY_KEYS = {
    "statement",
    "timeout",
    "database",
    "schema",
    "warehouse",
    "role",
    "bindings",
    "parameters",
}


class SnowflakeServer(ApiServer):
    name = "snowflake"

    def __init__(self, port: int = 0, token: str | None = "test-token", **kw: Any) -> None:
        self.request_ids: dict[str, str] = {}  # requestId -> statement handle
        super().__init__(port, token, **kw)

    def routes(self) -> None:
        self.route("POST", API, "submit", self.submit)
        self.route("GET", API + r"/(?P<handle>[0-9a-f-]+)", "status", self.status)
        self.route("POST", API + r"/(?P<handle>[0-9a-f-]+)/cancel", "cancel", self.cancel)

    def error_body(self, status: int, message: str) -> Any:
        return {"code": f"{390000 + status}", "message": message}

    def authorize(self, request: Request) -> Reply | None:
        h = request.headers
        if self.token is not None and bearer(request) != self.token:
            return Reply(401, {"code": "390303", "message": "Invalid OAuth access token."})
        kind = h.get("x-snowflake-authorization-token-type")
        if kind is not None and kind not in TOKEN_TYPES:
            return Reply(401, {"code": "390100", "message": f"Unsupported token type {kind}."})
        if not h.get("user-agent"):
            return Reply(400, {"code": "391903", "message": "The User-Agent header is required."})
        if (
            request.method == "POST"
            and h.get("content-type", "").split(";")[0] != "application/json"
        ):
            return Reply(415, {"code": "391902", "message": "Unsupported media type."})
        return None

    def _statement(self, run: Run, code: int | None = None) -> Reply:
        phase = run.phase()
        base = {
            "statementHandle": run.run_id,
            "statementStatusUrl": f"{API}/{run.run_id}?requestId={run.info['request_id']}",
            "requestId": run.info["request_id"],
        }
        if phase == "running":
            return Reply(
                202,
                base
                | {
                    "code": "333334",
                    "message": "Asynchronous execution in progress. Use provided query id to "
                    "perform query monitoring and management.",
                },
            )
        if phase == "success":
            return Reply(
                200,
                base
                | {
                    "resultSetMetaData": {
                        "numRows": 1,
                        "format": "jsonv2",
                        "partitionInfo": [{"rowCount": 1, "uncompressedSize": 40}],
                        "rowType": [{"name": "status", "type": "text", "nullable": True}],
                    },
                    "data": [["Statement executed successfully."]],
                    "code": "090001",
                    "sqlState": "00000",
                    "message": "Statement executed successfully.",
                    "createdOn": int(run.created * 1000),
                },
            )
        if phase == "timeout":
            return Reply(
                408,
                base
                | {
                    "code": "000630",
                    "sqlState": "57014",
                    "message": "Statement reached its statement or warehouse timeout of "
                    f"{run.info.get('timeout') or 0} second(s) and was canceled.",
                },
            )
        if phase in ("cancel", "skip"):  # what a cancelled query answers: 604, query_canceled
            return Reply(
                422,
                base | {"code": "000604", "sqlState": "57014", "message": "SQL execution canceled"},
            )
        message = "SQL compilation error:\nObject 'ANALYTICS.MARTS.ORDERS' does not exist."
        return Reply(422, base | {"code": "002003", "sqlState": "42S02", "message": message})

    def submit(self, request: Request) -> Reply:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("statement"), str):
            return Reply(400, {"code": "391901", "message": "statement is required"})
        unknown = sorted(set(body) - BODY_KEYS)
        if unknown:
            return Reply(400, {"code": "391901", "message": f"Unknown fields: {unknown}"})
        rid = request.query.get("requestId")
        if rid is not None:
            try:
                uuid.UUID(rid)
            except ValueError:
                return Reply(400, {"code": "391904", "message": "requestId must be a UUID"})
        retry = request.query.get("retry", "").lower() == "true"
        bindings = body.get("bindings") or {}
        values = [b.get("value") for _, b in sorted(bindings.items(), key=lambda kv: int(kv[0]))]
        date = next((v for v in values if isinstance(v, str) and DATE.match(v)), None)
        with self.lock:
            if rid is not None and retry and rid in self.request_ids:
                return self._statement(self.runs[self.request_ids[rid]])
            handle = str(uuid.uuid4())
            run = self.new_run(
                handle,
                date,
                key=rid,
                request_id=rid or str(uuid.uuid4()),
                statement=body["statement"],
                bindings=bindings,
                context={k: body.get(k) for k in ("warehouse", "database", "schema", "role")},
                timeout=body.get("timeout"),
                retry=retry,
            )
            if rid is not None:
                self.request_ids[rid] = handle
        return self._statement(run)

    def _find(self, request: Request) -> Run | Reply:
        with self.lock:
            run = self.runs.get(request.match["handle"])
        if run is None:
            return Reply(
                404,
                {"code": "000709", "message": f"Statement {request.match['handle']} not found."},
            )
        return run

    def status(self, request: Request) -> Reply:
        found = self._find(request)
        return found if isinstance(found, Reply) else self._statement(found)

    def cancel(self, request: Request) -> Reply:
        found = self._find(request)
        if isinstance(found, Reply):
            return found
        with self.lock:
            found.cancel()  # a statement that has ended is left as it ended
        return Reply(
            200,
            {
                "code": "000604",
                "sqlState": "57014",
                "message": "successfully canceled",
                "statementHandle": found.run_id,
                "statementStatusUrl": f"{API}/{found.run_id}",
            },
        )


if __name__ == "__main__":
    main(SnowflakeServer, "A Snowflake SQL API v2 test server on 127.0.0.1.")
