"""Posting JSON to a webhook, with errors sorted into transient and permanent.

Messages never carry the URL (webhook URLs are secrets): transport errors are named by
their kind, refusals by status code and the start of the reply body, masked (a
receiver may echo the URL's secret path: "Cannot POST /services/T0/B0/xyz").
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

import httpx

from reconciler import masking
from reconciler.errors import PermanentError, TransientError

TIMEOUT = 10.0
BODY_SHOWN = 200


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _body(response: httpx.Response, secret: str) -> str:
    masking.register(secret)
    # masked before it is cut: a cut could leave a secret's start unrecognised
    return masking.mask(" ".join(response.text.split()))[:BODY_SHOWN]


def post(client: httpx.Client, url: str, content: bytes, headers: dict[str, str]) -> httpx.Response:
    """POST; 2xx returns, 429/5xx/timeouts raise ``TransientError``, other codes
    ``PermanentError``."""
    try:
        response = client.post(url, content=content, headers=headers)
    except httpx.TimeoutException as exc:
        raise TransientError(f"timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise TransientError(f"connection failed ({type(exc).__name__})") from exc
    status = response.status_code
    if 200 <= status < 300:
        return response
    detail = f"HTTP {status}" + (f" {_body(response, url)}" if response.text.strip() else "")
    if status == 429 or status >= 500:
        raise TransientError(detail, retry_after(response.headers.get("Retry-After")))
    raise PermanentError(detail)


def client() -> httpx.Client:
    """One client per round of sending; no redirects (a webhook that moves is a refusal)."""
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False)
