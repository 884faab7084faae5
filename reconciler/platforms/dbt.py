"""The ``dbt`` platform: dbt Cloud v2 job runs, made exactly once without an idempotency key.

dbt Cloud has no idempotency key, so each run's ``cause`` carries the marker
``reconciler run <batch id>``; before triggering, the job's recent runs are searched
for it (once per pass and job, and again before repeating a trigger whose reply was
lost), and a run found is adopted instead of made again. The search covers the job's
``SEARCH_RUNS`` most recent runs.
"""

from __future__ import annotations

import json
import re
import shlex
from datetime import datetime
from typing import Any

import httpx

from reconciler.config.models import DbtTrigger
from reconciler.errors import PermanentError
from reconciler.platforms.base import PollResult, RunRequest
from reconciler.platforms.http_client import (
    HttpPolicy,
    body_text,
    cut,
    json_body,
    secret_from_env,
)
from reconciler.platforms.remote import RemotePlatform, Started

SEARCH_RUNS = 500  # recent runs of a job searched for a marker (the API's pages hold 100)
PAGE = 100
MARKER = re.compile(r"reconciler run ([0-9a-f]{20})(?![0-9a-f])")
RUNNING = {1: "queued", 2: "starting", 3: "running"}


def marker(batch_id: str) -> str:
    return f"reconciler run {batch_id}"


def describe(response: httpx.Response) -> str:
    """The envelope's ``user_message`` (and ``developer_message``), or the body's text."""
    data = json_body(response)
    if isinstance(data, dict):
        status = data.get("status")
        if isinstance(status, dict):
            parts = [status.get("user_message"), status.get("developer_message")]
            if isinstance(data.get("data"), str):
                parts.append(data["data"])
            text = "; ".join(str(p) for p in parts if p)
            if text:
                return cut(text)
    return body_text(response)


def steps_with_vars(steps: list[str], parameters: dict[str, str]) -> list[str]:
    """Each step with ``--vars '<json>'`` appended: how dates reach a dbt Cloud run."""
    value = shlex.quote(json.dumps(parameters))
    return [f"{step} --vars {value}" for step in steps]


def _epoch(text: object) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class DbtPlatform(RemotePlatform):
    name = "dbt"
    label = "dbt Cloud"
    describe = staticmethod(describe)

    def __init__(
        self,
        clock_offset: float = 0.0,
        policy: HttpPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(clock_offset, policy, transport)
        # marker batch id -> run id, per (host, account, job): filled by one search a pass
        self._found: dict[tuple[str, int, int], dict[str, str]] = {}
        self._unsure: set[str] = set()  # batches whose trigger reply was lost in this pass
        self.searches = 0

    def _base(self, trigger: DbtTrigger) -> str:
        return f"{trigger.host.rstrip('/')}/api/v2/accounts/{trigger.account_id}"

    def _headers(self, trigger: DbtTrigger) -> dict[str, str]:
        token = secret_from_env(trigger.token_env, "a dbt Cloud API token")
        self.client.add_secret(token)
        return {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def search(self, trigger: DbtTrigger) -> dict[str, str]:
        """Markers in the job's recent runs: batch id -> run id (newest run wins)."""
        self.searches += 1
        headers = self._headers(trigger)
        found: dict[str, str] = {}
        for offset in range(0, SEARCH_RUNS, PAGE):
            params = {
                "job_definition_id": str(trigger.job_id),
                "order_by": "-created_at",
                "limit": str(PAGE),
                "offset": str(offset),
                "include_related": '["trigger"]',
            }
            response = self.client.retrying(
                lambda p=params: self.client.request(  # type: ignore[misc]
                    "GET",
                    f"{self._base(trigger)}/runs/",
                    what=f"list of job {trigger.job_id}'s runs",
                    headers=headers,
                    params=p,
                )
            )
            page = (json_body(response) or {}).get("data")
            if not isinstance(page, list):
                raise PermanentError(f"dbt Cloud run list: no data list ({body_text(response)})")
            for item in page:
                cause = ((item or {}).get("trigger") or {}).get("cause") or ""
                match = MARKER.search(str(cause))
                if match and match.group(1) not in found:
                    found[match.group(1)] = str(item.get("id"))
            if len(page) < PAGE:
                break
        key = (trigger.host, trigger.account_id, trigger.job_id)
        self._found.setdefault(key, {}).update(found)
        return self._found[key]

    def _trigger(self, run: RunRequest, again: bool) -> Started:
        trigger = run.pipeline.trigger
        assert isinstance(trigger, DbtTrigger)
        key = (trigger.host, trigger.account_id, trigger.job_id)
        found = self._found.get(key)
        if found is None or run.batch_id in self._unsure:
            found = self.search(trigger)
        if run.batch_id in found:
            return Started(found[run.batch_id])
        headers = self._headers(trigger)
        first, last = run.dates[0].isoformat(), run.dates[-1].isoformat()
        span = first if first == last else f"{first}..{last}"
        body = {
            "cause": cut(f"{marker(run.batch_id)}: {run.pipeline.id} {span}", 255),
            "steps_override": steps_with_vars(trigger.steps, run.parameters),
        }
        url = f"{self._base(trigger)}/jobs/{trigger.job_id}/run/"

        def attempt() -> Started:
            self._unsure.add(run.batch_id)  # until a reply says what happened
            response = self.client.request(
                "POST", url, what=f"run of job {trigger.job_id}", headers=headers, json_body=body
            )
            data = (json_body(response) or {}).get("data")
            if not isinstance(data, dict) or data.get("id") is None:
                raise PermanentError(f"dbt Cloud job run: no run id ({body_text(response)})")
            self._unsure.discard(run.batch_id)
            found[run.batch_id] = str(data["id"])
            return Started(str(data["id"]))

        def look_again() -> Started | None:
            run_id = self.search(trigger).get(run.batch_id)
            if run_id is None:
                return None
            self._unsure.discard(run.batch_id)
            return Started(run_id)

        return self.client.retrying(attempt, before_retry=look_again)

    def _check(self, run: RunRequest, run_id: str) -> PollResult:
        trigger = run.pipeline.trigger
        assert isinstance(trigger, DbtTrigger)
        response = self.client.request(
            "GET",
            f"{self._base(trigger)}/runs/{run_id}/",
            what=f"status of run {run_id}",
            headers=self._headers(trigger),
        )
        data: Any = (json_body(response) or {}).get("data")
        if not isinstance(data, dict):
            raise PermanentError(f"dbt Cloud run status: no data ({body_text(response)})")
        status = data.get("status")
        message = data.get("status_message") or data.get("status_humanized") or ""
        ended = self.at(_epoch(data.get("finished_at")))
        if status in RUNNING:
            return PollResult("running")
        if status == 10:
            return PollResult("success", ended)
        if status == 20:
            return PollResult("failed", ended, cut(f"dbt Cloud run {run_id} error: {message}", 500))
        if status == 30:
            error = cut(f"dbt Cloud run {run_id} cancelled", 500)
            return PollResult("failed", ended, error, canceled=True)
        if data.get("is_complete") is True:  # an unknown status that says it ended
            if data.get("is_success") is True:
                return PollResult("success", ended)
            return PollResult(
                "failed",
                ended,
                cut(f"dbt Cloud run {run_id} ended with status {status}: {message}", 500),
            )
        return self.unknown(run.batch_id, f"unknown status {status!r}")

    def _cancel(self, run: RunRequest, run_id: str) -> None:
        """``POST .../runs/{id}/cancel/``: a run that has ended is returned as it is."""
        trigger = run.pipeline.trigger
        assert isinstance(trigger, DbtTrigger)
        self.client.request(
            "POST",
            f"{self._base(trigger)}/runs/{run_id}/cancel/",
            what=f"cancel of run {run_id}",
            headers=self._headers(trigger),
        )

    def close(self) -> None:
        super().close()
        self._found.clear()
        self._unsure.clear()
