"""The ``databricks`` platform: Jobs API ``run-now`` with an idempotency token, ``runs/get``.

The token is the run's 64-hex batch key, so a repeated start (a lost reply, a pass
killed before it recorded the run id) returns the run it made instead of a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from reconciler.config.models import DatabricksTrigger
from reconciler.errors import PermanentError
from reconciler.platforms.base import PollResult, RunRequest
from reconciler.platforms.http_client import (
    body_text,
    cut,
    json_body,
    secret_from_env,
)
from reconciler.platforms.remote import RemotePlatform, Started

API = "/api/2.2/jobs"
RUNNING = frozenset(
    {"QUEUED", "PENDING", "RUNNING", "TERMINATING", "BLOCKED", "WAITING_FOR_RETRY", "WAITING"}
)
ENDED = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})


def describe(response: httpx.Response) -> str:
    """``ERROR_CODE: message`` from Databricks' error body, or the body's text."""
    data = json_body(response)
    if isinstance(data, dict) and ("message" in data or "error_code" in data):
        code, message = data.get("error_code"), data.get("message", "")
        return cut(f"{code}: {message}" if code is not None else str(message))
    return body_text(response)


def outcome(data: Mapping[str, Any]) -> tuple[str, str | None]:
    """('running' | 'success' | 'failed' | 'unknown: ...', message) from a ``runs/get`` reply.

    ``status`` is preferred when present; a run is a success only when it says so.
    """
    status = data.get("status")
    if isinstance(status, dict) and status.get("state"):
        state = str(status["state"])
        if state in RUNNING:
            return "running", None
        if state != "TERMINATED":
            return f"unknown: status.state {state}", None
        details = status.get("termination_details") or {}
        code, kind = details.get("code"), details.get("type")
        if code == "SUCCESS":
            return "success", None
        message = details.get("message") or ""
        return "failed", f"{code or 'no code'} ({kind or 'no type'}): {message}".rstrip(": ")
    state_obj = data.get("state") or {}
    life = str(state_obj.get("life_cycle_state") or "")
    if life in RUNNING:
        return "running", None
    if life not in ENDED:
        return f"unknown: life_cycle_state {life or '(none)'}", None
    result = state_obj.get("result_state")
    message = state_obj.get("state_message") or ""
    if life == "TERMINATED" and result == "SUCCESS":
        return "success", None
    return "failed", f"{life}/{result or 'no result'}: {message}".rstrip(": ")


def was_canceled(data: Mapping[str, Any]) -> bool:
    """Whether an ended run was stopped by a cancel request (``runs/cancel`` or a person).

    ``status`` says ``USER_CANCELED`` (its ``CANCELED`` is the platform's own stop, such
    as a run past its time limit: a failure); the older ``state`` says ``CANCELED``.
    """
    status = data.get("status")
    if isinstance(status, dict) and status.get("state"):
        details = status.get("termination_details") or {}
        return isinstance(details, dict) and details.get("code") == "USER_CANCELED"
    state_obj = data.get("state") or {}
    return isinstance(state_obj, dict) and state_obj.get("result_state") == "CANCELED"


class DatabricksPlatform(RemotePlatform):
    name = "databricks"
    label = "Databricks"
    describe = staticmethod(describe)

    def _headers(self, trigger: DatabricksTrigger) -> dict[str, str]:
        token = secret_from_env(trigger.token_env, "a Databricks token")
        self.client.add_secret(token)
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def _trigger(self, run: RunRequest, again: bool) -> Started:
        trigger = run.pipeline.trigger
        assert isinstance(trigger, DatabricksTrigger)
        headers = self._headers(trigger)
        body = {
            "job_id": trigger.job_id,
            "job_parameters": dict(run.parameters),
            "idempotency_token": run.key,  # 64 hex: at most one run per key, ever
        }
        url = trigger.host.rstrip("/") + f"{API}/run-now"

        def attempt() -> Started:
            response = self.client.request(
                "POST",
                url,
                what=f"run-now of job {trigger.job_id}",
                headers=headers,
                json_body=body,
            )
            data = json_body(response)
            if not isinstance(data, dict) or not isinstance(data.get("run_id"), int):
                raise PermanentError(
                    f"Databricks run-now: no run_id in the reply ({body_text(response)})"
                )
            return Started(str(data["run_id"]))

        return self.client.retrying(attempt)

    def _check(self, run: RunRequest, run_id: str) -> PollResult:
        trigger = run.pipeline.trigger
        assert isinstance(trigger, DatabricksTrigger)
        response = self.client.request(
            "GET",
            trigger.host.rstrip("/") + f"{API}/runs/get",
            what=f"runs/get of run {run_id}",
            headers=self._headers(trigger),
            params={"run_id": run_id},
        )
        data = json_body(response)
        if not isinstance(data, dict):
            raise PermanentError(f"Databricks runs/get: not a JSON object ({body_text(response)})")
        state, message = outcome(data)
        if state == "running":
            return PollResult("running")
        if state.startswith("unknown"):
            return self.unknown(run.batch_id, state)
        ended = self.at(data["end_time"] / 1000 if data.get("end_time") else None)
        if state == "success":
            return PollResult("success", ended)
        error = cut(f"Databricks run {run_id}: {message}", 500)
        return PollResult("failed", ended, error, canceled=was_canceled(data))

    def _cancel(self, run: RunRequest, run_id: str) -> None:
        """``runs/cancel``: asynchronous, and a no-op for a run that has ended."""
        trigger = run.pipeline.trigger
        assert isinstance(trigger, DatabricksTrigger)
        self.client.request(
            "POST",
            trigger.host.rstrip("/") + f"{API}/runs/cancel",
            what=f"runs/cancel of run {run_id}",
            headers=self._headers(trigger),
            json_body={"run_id": int(run_id)},
        )
