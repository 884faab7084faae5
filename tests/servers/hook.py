"""A generic job service with a webhook: ``POST /hooks/<name>`` starts a job, ``GET /jobs/<id>``.

The webhook honours ``Idempotency-Key``: a key seen before returns its job (200)
and makes nothing; a new one makes a job (202, ``{"id", "status": "queued"}``). Requests
must carry ``required_headers`` (by default ``Authorization: Bearer <token>``), else 401.
Job status words: ``queued``, ``running``, ``succeeded``, ``failed`` (with ``error``),
``cancelled``; ``custom_status`` forces another word. ``POST /jobs/<id>/cancel`` cancels
a running job (200, its job object, ``cancelled`` from then on; again: the same); a job
that ended otherwise answers 409.

Run by hand: ``python -m tests.servers.hook --port 8005`` (see README.md).
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.servers.base import ApiServer, Reply, Request, Run, main

WORDS = {
    "success": "succeeded",
    "fail": "failed",
    "cancel": "cancelled",
    "skip": "cancelled",
    "timeout": "failed",
}


class HookServer(ApiServer):
    name = "hook"

    def __init__(self, port: int = 0, token: str | None = "test-token", **kw: Any) -> None:
        self.keys: dict[str, str] = {}  # Idempotency-Key -> job id
        self.custom_status: str | None = None
        self._ids = itertools.count(1)
        super().__init__(port, token, **kw)
        self.required_headers = {"authorization": f"Bearer {token}"} if token else {}

    def routes(self) -> None:
        for method in ("POST", "PUT", "GET"):
            self.route(method, r"/hooks/(?P<hook>[A-Za-z0-9_.-]+)", "hook", self.hook)
        self.route("GET", r"/jobs/(?P<job>[A-Za-z0-9_-]+)", "job", self.job)
        self.route("POST", r"/jobs/(?P<job>[A-Za-z0-9_-]+)/cancel", "cancel", self.cancel)

    def error_body(self, status: int, message: str) -> Any:
        return {"error": message}

    def authorize(self, request: Request) -> Reply | None:
        for name, value in self.required_headers.items():
            if request.headers.get(name) != value:
                return Reply(401, {"error": f"missing or wrong {name} header"})
        return None

    def hook(self, request: Request) -> Reply:
        key = request.headers.get("idempotency-key")
        body = request.json() if request.method != "GET" else {"parameters": request.query}
        if not isinstance(body, dict):
            return Reply(400, {"error": "the body must be a JSON object"})
        params = body.get("parameters") or {}
        with self.lock:
            if key is not None and key in self.keys:
                job = self.runs[self.keys[key]]
                return Reply(200, self.job_object(job))
            job = self.new_run(
                f"job-{next(self._ids)}",
                params.get("run_date"),
                key=key,
                hook=request.match["hook"],
                method=request.method,
                body=body,
            )
            if key is not None:
                self.keys[key] = job.run_id
        return Reply(202, self.job_object(job))

    def job_object(self, job: Run) -> dict[str, Any]:
        phase = job.phase()
        word = self.custom_status or ("running" if phase == "running" else WORDS[phase])
        data: dict[str, Any] = {
            "id": job.run_id,
            "status": word,
            "status_url": f"/jobs/{job.run_id}",
        }
        if word == "failed":
            data["error"] = "export failed: destination bucket refused the upload"
        return data

    def job(self, request: Request) -> Reply:
        with self.lock:
            job = self.runs.get(request.match["job"])
        if job is None:
            return Reply(404, {"error": f"no job {request.match['job']}"})
        return Reply(200, self.job_object(job))

    def cancel(self, request: Request) -> Reply:
        with self.lock:
            job = self.runs.get(request.match["job"])
            if job is None:
                return Reply(404, {"error": f"no job {request.match['job']}"})
            if not job.cancel() and job.phase() != "cancel":
                word = WORDS[job.phase()]
                return Reply(409, {"error": f"job {job.run_id} has already ended ({word})"})
        return Reply(200, self.job_object(job))


if __name__ == "__main__":
    main(HookServer, "A generic webhook job service (test server) on 127.0.0.1.")
