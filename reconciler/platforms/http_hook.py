"""The ``http`` platform: a generic webhook with an ``Idempotency-Key``, optionally followed.

The request carries the trigger's ``body`` (string values rendered as templates) with
the run's ``parameters`` added, and the 64-hex batch key as ``Idempotency-Key``, so a
service that honours the header makes one job per run however often a start is
repeated. The run id is the reply's ``id`` (or ``run_id``); without one, the key.
Without a ``status_url`` a 2xx reply is the run's success. With one, the URL (its
``{platform_run_id}`` and run templates rendered) is polled for a JSON ``status`` (or
``state``): the usual words for running, success and failure are known; another word
keeps the run followed, with a warning (``cancelled`` or ``canceled`` is a cancelled
run). A trigger with a ``cancel_url`` (rendered as the status URL is) can cancel a run
with a POST to it; a 409 (the job has ended) is no error. Without one, cancel says the
service cannot be asked to.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx

from reconciler.config.models import HttpTrigger
from reconciler.config.templates import render
from reconciler.errors import PermanentError
from reconciler.platforms.base import PollResult, RunRequest
from reconciler.platforms.http_client import body_text, cut, json_body
from reconciler.platforms.remote import RemotePlatform, Started

RUNNING = frozenset(
    [
        "queued",
        "pending",
        "running",
        "in_progress",
        "started",
        "starting",
        "accepted",
        "scheduled",
        "waiting",
        "created",
        "submitted",
        "processing",
    ]
)
SUCCEEDED = frozenset(
    ["success", "succeeded", "successful", "completed", "complete", "done", "finished", "ok"]
)
FAILED = frozenset(
    [
        "failed",
        "failure",
        "error",
        "errored",
        "cancelled",
        "canceled",
        "timed_out",
        "timeout",
        "aborted",
        "rejected",
        "skipped",
        "expired",
    ]
)
CANCELED = frozenset(["cancelled", "canceled"])


def describe(response: httpx.Response) -> str:
    data = json_body(response)
    if isinstance(data, dict):
        for key in ("error", "message", "detail"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if value:
                return cut(str(value))
    return body_text(response)


def render_body(value: Any, values: dict[str, str]) -> Any:
    """String leaves are templates; the rest is sent as written."""
    if isinstance(value, str):
        return render(value, values)
    if isinstance(value, dict):
        return {k: render_body(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [render_body(v, values) for v in value]
    return value


class HttpHookPlatform(RemotePlatform):
    name = "http"
    label = "HTTP hook"
    describe = staticmethod(describe)

    def _headers(self, trigger: HttpTrigger) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        name = trigger.headers_env
        if name is None:
            return headers
        text = os.environ.get(name, "")
        if not text.strip():
            raise PermanentError(
                f"environment variable {name} is not set (it should hold a JSON object of headers)"
            )
        try:
            extra = json.loads(text)
        except ValueError:
            extra = None
        if not isinstance(extra, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in extra.items()
        ):
            raise PermanentError(
                f"environment variable {name} must hold a JSON object of header names to "
                "string values"
            )
        for value in extra.values():
            self.client.add_secret(value)
            if " " in value:  # "Bearer abc": the credential alone is secret too
                self.client.add_secret(value.split(" ", 1)[1])
        return headers | extra

    def _trigger(self, run: RunRequest, again: bool) -> Started:
        trigger = run.pipeline.trigger
        assert isinstance(trigger, HttpTrigger)
        headers = self._headers(trigger) | {"Idempotency-Key": run.key}
        body: Any = None
        params: dict[str, str] | None = None
        if trigger.method == "GET":
            params = dict(run.parameters)
        else:
            body = render_body(trigger.body or {}, run.values)
            body.setdefault("parameters", dict(run.parameters))
        url = trigger.url

        def attempt() -> Started:
            response = self.client.request(
                trigger.method,
                url,
                what=f"{trigger.method} {url}",
                headers=headers,
                json_body=body,
                params=params,
            )
            data = json_body(response)
            run_id = run.key
            if isinstance(data, dict):
                for key in ("id", "run_id"):
                    if isinstance(data.get(key), str | int) and str(data[key]):
                        run_id = str(data[key])
                        break
            if trigger.status_url is None:
                return Started(run_id, PollResult("success", self.now()))
            return Started(run_id)

        return self.client.retrying(attempt)

    def _check(self, run: RunRequest, run_id: str) -> PollResult:
        trigger = run.pipeline.trigger
        assert isinstance(trigger, HttpTrigger)
        if trigger.status_url is None:  # pragma: no cover - such runs end at start
            return PollResult("success", self.now())
        url = render(trigger.status_url, run.values | {"platform_run_id": run_id})
        response = self.client.request(
            "GET", url, what=f"status {url}", headers=self._headers(trigger)
        )
        data = json_body(response)
        if not isinstance(data, dict):
            raise PermanentError(f"HTTP hook status: not a JSON object ({body_text(response)})")
        word = next((data[k] for k in ("status", "state") if isinstance(data.get(k), str)), "")
        norm = word.strip().lower().replace("-", "_").replace(" ", "_")
        if norm in RUNNING:
            return PollResult("running")
        if norm in SUCCEEDED:
            return PollResult("success", self.now())
        if norm in FAILED:
            detail = describe(response)
            error = cut(f"HTTP hook run {run_id} {word}: {detail}", 500)
            return PollResult("failed", self.now(), error, canceled=norm in CANCELED)
        return self.unknown(run.batch_id, f"unknown status {word!r}")

    def _cancel(self, run: RunRequest, run_id: str) -> None:
        trigger = run.pipeline.trigger
        assert isinstance(trigger, HttpTrigger)
        template = trigger.cancel_url
        if not template:
            raise PermanentError(
                f"pipeline {run.pipeline.id}: this HTTP hook has no cancel_url, so its runs "
                "cannot be cancelled by the reconciler"
            )
        url = render(template, run.values | {"platform_run_id": run_id})
        self.client.request(
            "POST",
            url,
            what=f"cancel {url}",
            headers=self._headers(trigger),
            expect=(409,),
        )
