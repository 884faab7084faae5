"""The HTTP client every cloud adapter uses: timeouts, retry policy, error messages, redaction.

The one place that decides what is worth retrying::

    connect error, pool timeout, 429            TransientError     the request did not act
    read/write timeout, dropped reply, 5xx      UncertainError     it may have acted
    other 4xx (unless the adapter expects it)   PermanentError     with the platform's message

``retrying`` repeats a call with bounded exponential backoff and full jitter, never
sooner than a ``Retry-After``, within a total deadline. A call that runs out of
deadline raises its last error; ``UncertainError`` if any attempt may have acted, so
that the caller keeps the run in flight rather than recording a failure that a retry
would turn into a second run. Secrets given to the client are masked in every message,
and response bodies are cut before they reach one.
"""

from __future__ import annotations

import html
import json
import logging
import os
import random
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from reconciler import __version__, log_events, masking
from reconciler.config.env_secrets import unset_message
from reconciler.errors import PermanentError, TransientError

log = logging.getLogger("reconciler.platforms")

USER_AGENT = f"backfill-reconciler/{__version__}"
MESSAGE_LIMIT = 300  # characters of a platform's message kept in an error
DEFAULT_RETRY_AFTER = 1.0  # seconds, when a 429 or 503 does not say (as Databricks does)
T = TypeVar("T")


class UncertainError(TransientError):
    """Transient, and the request may have taken effect (its reply was lost or a 5xx)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpPolicy:
    """Timeouts and retry bounds of one adapter's calls (seconds)."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    deadline: float = 60.0  # all attempts of one call, sleeps included
    base_delay: float = 0.25
    max_delay: float = 8.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HttpPolicy:
        """Defaults, overridden by ``RECONCILER_HTTP_TIMEOUT`` / ``RECONCILER_HTTP_DEADLINE``."""
        env = os.environ if env is None else env
        policy = cls()
        for name, field_name in (
            ("RECONCILER_HTTP_TIMEOUT", "read_timeout"),
            ("RECONCILER_HTTP_DEADLINE", "deadline"),
        ):
            text = env.get(name)
            if text:
                try:
                    value = float(text)
                except ValueError:
                    raise PermanentError(
                        f"{name} must be a number of seconds, found {text!r}"
                    ) from None
                if value <= 0:
                    raise PermanentError(f"{name} must be positive, found {text!r}")
                policy = replace(policy, **{field_name: value})
        return policy

    def backoff(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Delay before attempt ``attempt + 1``: full jitter, capped, at least ``retry_after``."""
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        delay = rng.uniform(ceiling / 2, ceiling)
        return max(delay, retry_after or 0.0)


# --- messages --------------------------------------------------------------------


def cut(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """One line of at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def body_text(response: httpx.Response) -> str:
    """The reply's body as short text: an HTML page's title (or text), else the body cut."""
    raw = response.content[:4096].decode("utf-8", "replace").strip()
    if not raw:
        return ""
    if raw.startswith("<") or "html" in response.headers.get("content-type", ""):
        title = _TITLE.search(raw)
        raw = title.group(1) if title else _TAGS.sub(" ", raw)
        raw = html.unescape(raw)
    return cut(raw)


def json_body(response: httpx.Response) -> Any:
    """The reply's JSON, or None when it is empty or not JSON."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta or HTTP date); 1 s for a 429/503 that omits it."""
    value = response.headers.get("retry-after", "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                return max(0.0, when.timestamp() - time.time())
    return DEFAULT_RETRY_AFTER if response.status_code in (429, 503) else None


Describe = Callable[[httpx.Response], str]


class HttpClient:
    """One adapter's connection pool; masks ``secrets`` in every message it makes."""

    def __init__(
        self,
        platform: str,
        describe: Describe,
        policy: HttpPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.platform = platform
        self.describe = describe
        self.policy = policy or HttpPolicy()
        self.sleep = sleep
        self.monotonic = monotonic
        self.rng = rng or random.Random()
        self._transport = transport
        self._client: httpx.Client | None = None
        self.calls = 0  # requests sent, for tests and benchmarks

    def _http(self) -> httpx.Client:
        if self._client is None:  # made at first use: constructing an adapter does no I/O
            p = self.policy
            self._client = httpx.Client(
                timeout=httpx.Timeout(p.read_timeout, connect=p.connect_timeout),
                transport=self._transport,
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,
                limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
            )
        return self._client

    def add_secret(self, value: str) -> None:
        masking.register(value)  # (a shorter value than masking.MIN_LENGTH is not)

    def redact(self, text: str) -> str:
        """``text`` with every secret of the process masked, in every encoding."""
        return masking.mask(text)

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        expect: Collection[int] = (),
    ) -> httpx.Response:
        """One attempt. A 2xx or a status in ``expect`` is returned; the rest raise."""
        self.calls += 1
        try:
            response = self._http().request(
                method,
                url,
                headers=headers,
                content=None if json_body is None else json.dumps(json_body).encode(),
                params=params,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            self._api_error("network")
            raise TransientError(self._message(what, f"cannot connect: {exc}")) from exc
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            self._api_error("network")
            detail = f"no reply ({type(exc).__name__}: {exc})"
            raise UncertainError(self._message(what, detail)) from exc
        except httpx.HTTPError as exc:
            raise PermanentError(self._message(what, f"{type(exc).__name__}: {exc}")) from exc
        status = response.status_code
        if 200 <= status < 300 or status in expect:
            return response
        self._api_error(f"{status // 100}xx", status)
        detail = f"HTTP {status}: {self.describe(response) or response.reason_phrase}"
        if status == 429:
            raise TransientError(self._message(what, detail), retry_after(response))
        if status >= 500:
            raise UncertainError(self._message(what, detail), retry_after(response))
        raise PermanentError(self._message(what, detail))

    def _api_error(self, status_class: str, status: int | None = None) -> None:
        """An event for the metrics' API errors by status class (4xx, 5xx, network)."""
        log_events.emit(
            log, log_events.PLATFORM_API_ERROR, f"{self.platform} API error: {status_class}",
            logging.INFO, platform=self.platform, status_class=status_class, status=status,
        )  # fmt: skip

    def _message(self, what: str, detail: str) -> str:
        return self.redact(f"{self.platform} {what}: {cut(detail)}")

    def retrying(
        self,
        attempt: Callable[[], T],
        *,
        deadline: float | None = None,
        before_retry: Callable[[], T | None] | None = None,
    ) -> T:
        """``attempt()`` until it returns, fails for good, or the deadline passes.

        ``before_retry`` runs before each repeat after an uncertain failure; a value
        other than None ends the call with it (dbt looks for the run it may have made).
        """
        budget = self.policy.deadline if deadline is None else deadline
        end = self.monotonic() + budget
        uncertain = False
        tries = 0
        while True:
            try:
                if uncertain and before_retry is not None:
                    found = before_retry()
                    if found is not None:
                        return found
                return attempt()
            except TransientError as exc:
                uncertain = uncertain or isinstance(exc, UncertainError)
                delay = self.policy.backoff(tries, self.rng, exc.delay)
                tries += 1
                if self.monotonic() + delay > end:
                    message = f"{exc} (gave up after {tries} attempt(s))"
                    if uncertain:
                        raise UncertainError(message, exc.delay) from exc
                    raise TransientError(message, exc.delay) from exc
                self.sleep(delay)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def secret_from_env(name: str, what: str, env: Mapping[str, str] | None = None) -> str:
    """The value of environment variable ``name``; a clear error (naming it) when unset."""
    value = (os.environ if env is None else env).get(name, "")
    if not value.strip():  # (``plan``, ``apply`` and ``validate --check-env`` say it first)
        raise PermanentError(unset_message(name, what))
    masking.register(value.strip())
    return value.strip()
