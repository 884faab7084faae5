"""Durations (``90s``, ``5 minutes``) and the retry grammar (``every 5 minutes``, ...)."""

from __future__ import annotations

import re

from reconciler.core.spec import RetryPolicy

_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_SHORT_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_AMOUNT = r"(\d+)\s+(second|minute|hour)s?"
_FIXED = re.compile(rf"^every\s+{_AMOUNT}$")
_EXPONENTIAL = re.compile(rf"^exponential\s+{_AMOUNT}\s+up\s+to\s+{_AMOUNT}$")
_SHORT = re.compile(r"^(\d+)\s*(s|m|h|d)?$")

RETRY_GRAMMAR = (
    "'every N second|minute|hour[s]' or "
    "'exponential N second|minute|hour[s] up to M second|minute|hour[s]'"
)


def parse_retry_schedule(text: str, *, max_retries: int = 2, enabled: bool = True) -> RetryPolicy:
    """Turn the YAML retry schedule into a typed policy; ``ValueError`` says what is expected."""
    normalized = " ".join(text.strip().lower().split())
    fixed = _FIXED.match(normalized)
    if fixed:
        base = int(fixed.group(1)) * _UNIT_SECONDS[fixed.group(2)]
        if base < 1:
            raise ValueError("the retry delay must be at least 1 second")
        return RetryPolicy(
            enabled=enabled,
            kind="fixed",
            base_seconds=base,
            cap_seconds=None,
            max_retries=max_retries,
            text=text,
        )
    exponential = _EXPONENTIAL.match(normalized)
    if exponential:
        base = int(exponential.group(1)) * _UNIT_SECONDS[exponential.group(2)]
        cap = int(exponential.group(3)) * _UNIT_SECONDS[exponential.group(4)]
        if base < 1:
            raise ValueError("the first retry delay must be at least 1 second")
        if cap < base:
            raise ValueError(f"the cap ({cap}s) is smaller than the first delay ({base}s)")
        return RetryPolicy(
            enabled=enabled,
            kind="exponential",
            base_seconds=base,
            cap_seconds=cap,
            max_retries=max_retries,
            text=text,
        )
    raise ValueError(f"expected {RETRY_GRAMMAR}, found {text!r}")


def parse_duration(text: str | int) -> int:
    """Seconds in ``90``, ``90s``, ``30m``, ``2h``, ``1d`` or ``5 minutes``."""
    if isinstance(text, int):
        if text < 1:
            raise ValueError(f"expected a positive duration, found {text}")
        return text
    normalized = " ".join(str(text).strip().lower().split())
    short = _SHORT.match(normalized)
    if short:
        seconds = int(short.group(1)) * _SHORT_UNITS[short.group(2) or "s"]
    else:
        long = re.match(r"^(\d+)\s+(second|minute|hour|day)s?$", normalized)
        if not long:
            raise ValueError(f"expected a duration such as 90s, 30m, 2h or 1d, found {text!r}")
        seconds = int(long.group(1)) * _UNIT_SECONDS[long.group(2)]
    if seconds < 1:
        raise ValueError(f"expected a positive duration, found {text!r}")
    return seconds
