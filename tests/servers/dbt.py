"""A dbt Cloud Administrative API v2 test server: trigger a job run, run status, run list.

No idempotency key: every accepted trigger makes a run (the ledger keeps each run's
``cause``, where the reconciler's marker is). The envelope is ``{"status": {...},
"data": ...}``; unknown body keys are rejected with 400, a missing or long ``cause``
too; run statuses are 1 queued, 3 running, 10 success, 20 error, 30 cancelled, and
``custom_status`` forces another value. The run list honours ``job_definition_id``,
``order_by=-created_at``, ``limit`` (at most 100), ``offset`` and
``include_related=["trigger"]``.

Run by hand: ``python -m tests.servers.dbt --port 8002`` (see README.md).
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
from datetime import UTC, datetime
from typing import Any

from tests.servers.base import ApiServer, Reply, Request, Run, bearer, main

ACCOUNT = r"/api/v2/accounts/(?P<account>\d+)"
ALLOWED = {
    "cause",
    "git_sha",
    "git_branch",
    "azure_pull_request_id",
    "github_pull_request_id",
    "gitlab_merge_request_id",
    "schema_override",
    "dbt_version_override",
    "threads_override",
    "target_name_override",
    "generate_docs_override",
    "timeout_seconds_override",
    "steps_override",
}
STATUS = {"running": 3, "success": 10, "fail": 20, "cancel": 30, "skip": 30, "timeout": 20}
HUMAN = {1: "Queued", 2: "Starting", 3: "Running", 10: "Success", 20: "Error", 30: "Cancelled"}


def _stamp(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")


def vars_of(steps: list[str]) -> dict[str, Any]:
    """The ``--vars`` JSON of the first step that has one."""
    for step in steps:
        words = shlex.split(step)
        if "--vars" in words:
            return dict(json.loads(words[words.index("--vars") + 1]))
    return {}


class DbtServer(ApiServer):
    name = "dbt"

    def __init__(self, port: int = 0, token: str | None = "test-token", **kw: Any) -> None:
        self._ids = itertools.count(70_000_001)
        self.custom_status: int | None = None
        super().__init__(port, token, **kw)

    def routes(self) -> None:
        self.route("POST", ACCOUNT + r"/jobs/(?P<job>\d+)/run/", "trigger", self.trigger)
        self.route("GET", ACCOUNT + r"/runs/(?P<run>\d+)/", "run", self.get_run)
        self.route("POST", ACCOUNT + r"/runs/(?P<run>\d+)/cancel/", "cancel", self.cancel_run)
        self.route("GET", ACCOUNT + r"/runs/", "list", self.list_runs)

    def envelope(self, code: int, data: Any, message: str = "Success!") -> Reply:
        ok = code < 400
        return Reply(
            code,
            {
                "status": {
                    "code": code,
                    "is_success": ok,
                    "user_message": message,
                    "developer_message": "",
                },
                "data": data,
            },
        )

    def error_body(self, status: int, message: str) -> Any:
        return self.envelope(status, None, message).body

    def authorize(self, request: Request) -> Reply | None:
        if self.token is not None and bearer(request) != self.token:
            return self.envelope(401, None, "Invalid token.")
        return None

    def trigger(self, request: Request) -> Reply:
        body = request.json()
        if not isinstance(body, dict):
            return self.envelope(400, "The request body must be a JSON object.", "Invalid request")
        unknown = sorted(set(body) - ALLOWED)
        if unknown:
            return self.envelope(400, f"Unknown fields: {', '.join(unknown)}", "Invalid request")
        cause = body.get("cause")
        if not isinstance(cause, str) or not cause or len(cause) > 255:
            return self.envelope(
                400, "cause is required (at most 255 characters)", "Invalid request"
            )
        steps = body.get("steps_override") or []
        date = vars_of(steps).get("run_date")
        marker = re.search(r"reconciler run ([0-9a-f]{20})", cause)
        run = self.new_run(
            str(next(self._ids)),
            date,
            key=marker.group(1) if marker else None,
            cause=cause,
            steps=steps,
            account_id=int(request.match["account"]),
            job_id=int(request.match["job"]),
        )
        return self.envelope(200, self.run_object(run, related=False))

    def run_object(self, run: Run, related: bool) -> dict[str, Any]:
        phase = run.phase()
        status = self.custom_status or STATUS.get(phase, 20)
        done = status in (10, 20, 30)
        data: dict[str, Any] = {
            "id": int(run.run_id),
            "trigger_id": int(run.run_id) + 5_000_000,
            "account_id": run.info["account_id"],
            "job_definition_id": run.info["job_id"],
            "status": status,
            "status_humanized": HUMAN.get(status, "Unknown"),
            "status_message": "Database Error in model orders (models/orders.sql)"
            if status == 20
            else None,
            "created_at": _stamp(run.created),
            "finished_at": _stamp(run.ended_at()) if done else None,
            "in_progress": not done,
            "is_complete": done,
            "is_success": status == 10,
            "is_error": status == 20,
            "is_cancelled": status == 30,
            "href": f"{self.url}/deploy/{run.info['account_id']}/runs/{run.run_id}/",
        }
        if related:
            data["trigger"] = {"id": data["trigger_id"], "cause": run.info["cause"]}
        return data

    def _find(self, request: Request) -> Run | Reply:
        with self.lock:
            run = self.runs.get(request.match["run"])
        if run is None or run.info["account_id"] != int(request.match["account"]):
            return self.envelope(404, None, "The requested resource was not found.")
        return run

    def get_run(self, request: Request) -> Reply:
        found = self._find(request)
        if isinstance(found, Reply):
            return found
        related = "trigger" in request.query.get("include_related", "")
        return self.envelope(200, self.run_object(found, related))

    def cancel_run(self, request: Request) -> Reply:
        found = self._find(request)
        if isinstance(found, Reply):
            return found
        with self.lock:
            found.cancel()  # a run that has ended is returned as it ended
        return self.envelope(200, self.run_object(found, related=False))

    def list_runs(self, request: Request) -> Reply:
        q = request.query
        limit = int(q.get("limit", "100"))
        offset = int(q.get("offset", "0"))
        if not 1 <= limit <= 100:
            return self.envelope(400, "limit must be between 1 and 100", "Invalid request")
        account = int(request.match["account"])
        job = q.get("job_definition_id")
        with self.lock:
            runs = [
                r
                for r in self.runs.values()
                if r.info["account_id"] == account and (job is None or str(r.info["job_id"]) == job)
            ]
        newest_first = q.get("order_by", "id") in ("-created_at", "-id")
        runs.sort(key=lambda r: (r.created, int(r.run_id)), reverse=newest_first)
        related = "trigger" in q.get("include_related", "")
        page = [self.run_object(r, related) for r in runs[offset : offset + limit]]
        reply = self.envelope(200, page)
        reply.body["extra"] = {
            "filters": {"job_definition_id": job},
            "order_by": q.get("order_by"),
            "pagination": {"count": len(page), "total_count": len(runs)},
        }
        return reply


if __name__ == "__main__":
    main(DbtServer, "A dbt Cloud API v2 test server on 127.0.0.1.")
