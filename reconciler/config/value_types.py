"""Constrained value types of pipeline files: URLs, environment names, times, durations, days.

Each carries its check and its JSON Schema, so ``validate`` and editors agree.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date
from functools import cache
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StrictInt, WithJsonSchema

from reconciler.config.bounds import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_ACTIVE_RUNS,
    MAX_BATCH_DATES,
    MAX_DURATION_SECONDS,
    MAX_EVERY,
    MAX_OFFSET_DAYS,
    MAX_PLATFORM_ID,
    MAX_PRIORITY,
    MAX_RETRIES,
)
from reconciler.core.durations import parse_duration

PIPELINE_ID_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
PARAMETER_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
# https anywhere; plain http only to the loopback names (127.0.0.1, localhost, [::1]). The same
# pattern goes into the JSON Schema, so editors flag what validate rejects.
URL_PATTERN = r"^(https://|http://(localhost|127\.0\.0\.1|\[::1\])([:/?#]|$))"
# names and reasons are printed in plans and logs: one line, no control characters
ONE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_URL = re.compile(URL_PATTERN)


def _check_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
        password = parts.password
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"expected a URL, found {value!r} ({exc})") from exc
    if password is not None:  # checked first: the value must not be echoed back
        raise ValueError("the URL carries a password; put credentials in an environment variable")
    if not _URL.match(value) or not hostname:
        raise ValueError(
            f"expected an https:// URL (plain http:// only for localhost, 127.0.0.1 "
            f"or [::1]), found {value!r}"
        )
    return value


@cache
def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_timezone(value: str) -> str:
    if not _known_zone(value):
        raise ValueError(f"expected an IANA time zone such as Europe/Berlin, found {value!r}")
    return value


def _check_duration(value: int | str) -> int | str:
    if parse_duration(value) > MAX_DURATION_SECONDS:
        raise ValueError(f"expected a duration of at most {MAX_DURATION_SECONDS // 86400} days")
    return value


def _nonzero(value: int) -> int:
    if value == 0:
        raise ValueError("expected a day of the month, 1..31 or -1..-31 (there is no day 0)")
    return value


Url = Annotated[
    str,
    AfterValidator(_check_url),
    Field(
        description="https URL (plain http only for localhost, 127.0.0.1, [::1])",
        json_schema_extra={"pattern": URL_PATTERN},
    ),
]
EnvName = Annotated[
    str,
    Field(pattern=ENV_NAME_PATTERN, description="name of an environment variable, not its value"),
]
HHMM = Annotated[str, Field(pattern=HHMM_PATTERN, description="HH:MM")]
PositiveInt = Annotated[StrictInt, Field(ge=1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]
Every = Annotated[StrictInt, Field(ge=1, le=MAX_EVERY)]
OffsetDays = Annotated[StrictInt, Field(ge=0, le=MAX_OFFSET_DAYS)]
BatchDates = Annotated[StrictInt, Field(ge=1, le=MAX_BATCH_DATES)]
RetryCount = Annotated[StrictInt, Field(ge=0, le=MAX_RETRIES)]
Priority = Annotated[StrictInt, Field(ge=-MAX_PRIORITY, le=MAX_PRIORITY)]
ActiveRuns = Annotated[StrictInt, Field(ge=1, le=MAX_ACTIVE_RUNS)]
PlatformId = Annotated[StrictInt, Field(ge=1, le=MAX_PLATFORM_ID)]
BoundedDate = Annotated[
    date,
    Field(
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=f"a date from {EARLIEST_DATE} to {LATEST_DATE}",
        json_schema_extra={"formatMinimum": str(EARLIEST_DATE), "formatMaximum": str(LATEST_DATE)},
    ),
]
Duration = Annotated[
    StrictInt | str,
    AfterValidator(_check_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_DURATION_SECONDS},
                {"type": "string"},
            ],
            "description": "seconds, or a duration such as 90s, 30m, 2h; at most 30 days",
        }
    ),
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MonthDay = Annotated[
    StrictInt,
    Field(ge=-31, le=31, json_schema_extra={"not": {"const": 0}}),
    AfterValidator(_nonzero),
]
Timezone = Annotated[str, AfterValidator(_check_timezone)]
OneLine = Annotated[
    str, Field(pattern=ONE_LINE_PATTERN, description="one line of text, no control characters")
]
