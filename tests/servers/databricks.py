"""A Databricks Jobs API test server: ``run-now`` with idempotency tokens, ``runs/get``, cancel.

Both 2.1 and 2.2 paths. A token that made a run returns that run and creates nothing.
Unknown runs answer 400 ``INVALID_PARAMETER_VALUE`` "Run N does not exist.", as the
real API does. ``runs/cancel`` answers ``{}``: a running run ends at once as
TERMINATED / CANCELED (``status``: ``USER_CANCELED``); an ended run is left as it is.
``runs/get`` replies carry both state objects (``state`` and ``status``);
``legacy_state_only`` drops ``status``, as older workspaces do.

Run by hand: ``python -m tests.servers.databricks --port 8001`` (see README.md).
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.servers.base import ApiServer, Reply, Request, Run, bearer, main

API = r"/api/2\.[12]/jobs"
# outcome -> (life_cycle_state, result_state, status code, termination type, message)
ENDINGS = {
    "success": ("TERMINATED", "SUCCESS", "SUCCESS", "SUCCESS", ""),
    "fail": (
        "TERMINATED",
        "FAILED",
        "RUN_EXECUTION_ERROR",
        "CLIENT_ERROR",
        "Task load failed with message: table sales.orders is locked.",
    ),
    "skip": (
        "SKIPPED",
        None,
        "SKIPPED",
        "SUCCESS",
        "Skipping this run because a limit of 1 maximum concurrent runs is reached.",
    ),
    "cancel": ("TERMINATED", "CANCELED", "USER_CANCELED", "SUCCESS", "Run cancelled by a user."),
    "timeout": ("TERMINATED", "TIMEDOUT", "RUN_EXECUTION_ERROR", "CLIENT_ERROR", "Run timed out."),
}


class DatabricksServer(ApiServer):
    name = "databricks"

    def __init__(self, port: int = 0, token: str | None = "test-token", **kw: Any) -> None:
        self.tokens: dict[str, str] = {}  # idempotency token -> run id
        self.jobs: set[int] | None = None  # None: every job id exists
        self.legacy_state_only = False
        self.custom_state: dict[str, Any] | None = None  # forced into every runs/get reply
        self._ids = itertools.count(911_000_000_001)
        self._numbers: dict[int, itertools.count[int]] = {}
        super().__init__(port, token, **kw)

    def routes(self) -> None:
        self.route("POST", API + "/run-now", "run-now", self.run_now)
        self.route("GET", API + "/runs/get", "runs/get", self.get_run)
        self.route("POST", API + "/runs/cancel", "runs/cancel", self.cancel_run)

    def error_body(self, status: int, message: str) -> Any:
        code = {
            400: "INVALID_PARAMETER_VALUE",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "ENDPOINT_NOT_FOUND",
            429: "REQUEST_LIMIT_EXCEEDED",
            503: "TEMPORARILY_UNAVAILABLE",
        }.get(status, "INTERNAL_ERROR")
        return {"error_code": code, "message": message, "details": []}

    def authorize(self, request: Request) -> Reply | None:
        if self.token is None:
            return None
        token = bearer(request)
        if token is None:
            return Reply(
                401,
                self.error_body(
                    401, "Credential was not sent or was of an unsupported type for this API."
                ),
            )
        if token != self.token:
            return Reply(403, self.error_body(403, "Invalid access token."))
        return None

    def run_now(self, request: Request) -> Reply:
        body = request.json()
        job_id = body.get("job_id") if isinstance(body, dict) else None
        if not isinstance(job_id, int):
            return Reply(400, self.error_body(400, "Missing required field: job_id"))
        if self.jobs is not None and job_id not in self.jobs:
            return Reply(400, self.error_body(400, f"Job {job_id} does not exist."))
        token = body.get("idempotency_token")
        if token is not None and (not isinstance(token, str) or len(token) > 64):
            return Reply(
                400, self.error_body(400, "idempotency_token must be at most 64 characters")
            )
        params = body.get("job_parameters") or {}
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            return Reply(400, self.error_body(400, "job_parameters must map names to strings"))
        with self.lock:
            if token is not None and token in self.tokens:
                run = self.runs[self.tokens[token]]
            else:
                run_id = str(next(self._ids))
                number = next(self._numbers.setdefault(job_id, itertools.count(1)))
                run = self.new_run(
                    run_id,
                    params.get("run_date"),
                    key=token,
                    job_id=job_id,
                    number_in_job=number,
                    job_parameters=params,
                )
                if token is not None:
                    self.tokens[token] = run_id
        return Reply(200, {"run_id": int(run.run_id), "number_in_job": run.info["number_in_job"]})

    def run_object(self, run: Run) -> dict[str, Any]:
        phase = run.phase()
        start_ms = int(run.created * 1000)
        data: dict[str, Any] = {
            "job_id": run.info["job_id"],
            "run_id": int(run.run_id),
            "number_in_job": run.info["number_in_job"],
            "creator_user_name": "reconciler@example.com",
            "original_attempt_run_id": int(run.run_id),
            "start_time": start_ms,
            "setup_duration": 0,
            "cleanup_duration": 0,
            "trigger": "ONE_TIME",
            "run_name": f"job {run.info['job_id']}",
            "run_type": "JOB_RUN",
            "run_page_url": f"{self.url}/#job/{run.info['job_id']}/run/{run.run_id}",
            "format": "MULTI_TASK",
            "job_parameters": [
                {"name": k, "value": v, "default": ""}
                for k, v in run.info["job_parameters"].items()
            ],
            "tasks": [],
        }
        if phase == "running":
            state = {
                "life_cycle_state": "RUNNING",
                "state_message": "In run",
                "user_cancelled_or_timedout": False,
            }
            status: dict[str, Any] = {"state": "RUNNING"}
            data["execution_duration"] = 0
        else:
            life, result, code, kind, message = ENDINGS[phase]
            state = {
                "life_cycle_state": life,
                "state_message": message,
                "user_cancelled_or_timedout": phase in ("cancel", "timeout"),
            }
            if result is not None:
                state["result_state"] = result
            status = {
                "state": "TERMINATED",
                "termination_details": {"code": code, "type": kind, "message": message},
            }
            end_ms = int(run.ended_at() * 1000)
            data.update(
                end_time=end_ms,
                execution_duration=end_ms - start_ms,
                run_duration=end_ms - start_ms,
            )
        data["state"] = state
        if not self.legacy_state_only:
            data["status"] = status
        if self.custom_state is not None:
            data.update(self.custom_state)
        return data

    def _find(self, raw: Any) -> Run | Reply:
        try:
            run_id = str(int(raw))
        except (TypeError, ValueError):
            return Reply(400, self.error_body(400, f"Invalid run_id: {raw!r}"))
        with self.lock:
            run = self.runs.get(run_id)
        if run is None:
            return Reply(400, self.error_body(400, f"Run {run_id} does not exist."))
        return run

    def get_run(self, request: Request) -> Reply:
        found = self._find(request.query.get("run_id"))
        if isinstance(found, Reply):
            return found
        return Reply(200, self.run_object(found))

    def cancel_run(self, request: Request) -> Reply:
        found = self._find((request.json() or {}).get("run_id"))
        if isinstance(found, Reply):
            return found
        with self.lock:
            found.cancel()  # a no-op for a run in a terminal state, as documented
        return Reply(200, {})


if __name__ == "__main__":
    main(DatabricksServer, "A Databricks Jobs API test server on 127.0.0.1.")
