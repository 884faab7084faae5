"""Pydantic models of a pipeline file (SPEC section 2): the config boundary.

Models are frozen and forbid unknown keys. Checks that need the whole pipeline
(templates, secrets) live in ``checks.py`` so their errors can point at a field.
"""

from __future__ import annotations

import ipaddress
import zoneinfo
from datetime import date
from functools import cache
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    field_validator,
    model_validator,
)

from reconciler.core.durations import RETRY_GRAMMAR, parse_duration, parse_retry_schedule

PIPELINE_ID_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Strict(BaseModel):
    """Frozen, unknown keys rejected, aliases used on the way in and out."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http(s) URL, found {value!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(
            f"expected https (plain http is only allowed for 127.0.0.1, localhost "
            f"or [::1]), found {value!r}"
        )
    if parts.password:
        raise ValueError("the URL carries a password; put credentials in an environment variable")
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    parse_duration(value)
    return value


Url = Annotated[str, AfterValidator(_check_url), Field(description="https URL (http for loopback)")]
EnvName = Annotated[
    str,
    Field(pattern=ENV_NAME_PATTERN, description="name of an environment variable, not its value"),
]
HHMM = Annotated[str, Field(pattern=HHMM_PATTERN, description="HH:MM")]
PositiveInt = Annotated[StrictInt, Field(ge=1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]
Duration = Annotated[
    PositiveInt | str,
    AfterValidator(_check_duration),
    Field(description="seconds, or a duration such as 90s, 30m, 2h"),
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MonthDay = Annotated[StrictInt, Field(ge=-31, le=31)]


# --- triggers, one per platform ---------------------------------------------------------


class LocalTrigger(Strict):
    """A subprocess per run: argv without a shell."""

    command: list[str] = Field(min_length=1, description="argv; templates allowed")
    cwd: str | None = Field(
        None, description="working directory; relative paths start where reconciler runs"
    )
    timeout: Duration | None = Field(None, description="kill the run after this long")


class DatabricksTrigger(Strict):
    """Databricks Jobs API ``run-now``."""

    host: Url
    job_id: PositiveInt
    token_env: EnvName = "DATABRICKS_TOKEN"


class DbtTrigger(Strict):
    """dbt Cloud v2 job run."""

    host: Url = "https://cloud.getdbt.com"
    account_id: PositiveInt
    job_id: PositiveInt
    token_env: EnvName = "DBT_CLOUD_TOKEN"
    steps: list[str] = Field(
        default_factory=lambda: ["dbt build"],
        description="dbt commands; --vars with the run's parameters is appended to each",
    )


class SnowflakeTrigger(Strict):
    """Snowflake SQL API v2 statement, run asynchronously."""

    account: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    host: Url | None = Field(None, description="default https://<account>.snowflakecomputing.com")
    statement: str = Field(min_length=1, description="SQL; parameters arrive as bindings")
    warehouse: str | None = None
    database: str | None = None
    schema_: str | None = Field(None, alias="schema")
    role: str | None = None
    token_env: EnvName = "SNOWFLAKE_TOKEN"
    token_type: Literal["KEYPAIR_JWT", "OAUTH", "PROGRAMMATIC_ACCESS_TOKEN"] = "OAUTH"
    timeout: Duration | None = None


class HttpTrigger(Strict):
    """A generic webhook, optionally followed through a status URL."""

    url: Url
    method: Literal["POST", "PUT", "GET"] = "POST"
    headers_env: EnvName | None = Field(
        None, description="environment variable holding a JSON object of extra headers"
    )
    body: dict[str, Any] | None = Field(None, description="JSON body; string values are templates")
    status_url: str | None = Field(
        None, description="URL to poll; {platform_run_id} and the run templates allowed"
    )


# --- the rest of the pipeline ---------------------------------------------------------


class ScheduleModel(Strict):
    """Which dates exist and when each becomes due (SPEC section 3)."""

    type: Literal["daily", "weekly", "monthly"]
    every: PositiveInt = 1
    days: list[Weekday | MonthDay] = Field(
        default_factory=list,
        description="weekly: mon..sun; monthly: 1..31 or -1..-31; daily: none",
    )
    start: date
    end: date | None = None
    offset: NonNegativeInt = 0
    at: HHMM = "00:00"
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"

    @model_validator(mode="after")
    def _days_fit_type(self) -> ScheduleModel:
        if self.type == "daily" and self.days:
            raise ValueError("days: a daily schedule takes no days (use every: N instead)")
        if self.type == "weekly":
            wrong = [d for d in self.days if not isinstance(d, str)]
            if wrong:
                raise ValueError(f"days: weekly days are mon..sun, found {wrong[0]!r}")
        if self.type == "monthly":
            bad = [d for d in self.days if isinstance(d, str) or d == 0]
            if bad:
                raise ValueError(f"days: monthly days are 1..31 or -1..-31, found {bad[0]!r}")
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end: {self.end} is before start ({self.start})")
        return self


class BatchModel(Strict):
    multi_date: StrictBool = False
    max_dates: PositiveInt = 31


class RetryModel(Strict):
    enabled: StrictBool = True
    schedule: str = Field("every 5 minutes", description=RETRY_GRAMMAR)
    max_retries: NonNegativeInt = 2

    @field_validator("schedule")
    @classmethod
    def _grammar(cls, value: str) -> str:
        parse_retry_schedule(value)
        return value


class BackfillRequestModel(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    from_: date = Field(alias="from")
    to: date
    priority: StrictInt | None = Field(None, description="default: backfill.priority")
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> BackfillRequestModel:
        if self.to < self.from_:
            raise ValueError(f"to: {self.to} is before from ({self.from_})")
        return self


class BackfillModel(Strict):
    auto: StrictBool = True
    priority: StrictInt = 0
    order: Literal["oldest_first", "newest_first"] = "oldest_first"
    max_active_runs: PositiveInt = 4
    requests: list[BackfillRequestModel] = Field(default_factory=list)

    @field_validator("requests")
    @classmethod
    def _unique_ids(cls, value: list[BackfillRequestModel]) -> list[BackfillRequestModel]:
        seen: set[str] = set()
        for request in value:
            if request.id in seen:
                raise ValueError(f"request id {request.id!r} is used twice")
            seen.add(request.id)
        return value


class QualityCheckModel(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
    engine: Literal["duckdb", "snowflake"] = "duckdb"
    sql: str = Field(min_length=1, description="one boolean, or rows that are failures")
    on_fail: Literal["fail", "warn"] = "fail"


class QualityModel(Strict):
    checks: list[QualityCheckModel] = Field(default_factory=list)

    @field_validator("checks")
    @classmethod
    def _unique_names(cls, value: list[QualityCheckModel]) -> list[QualityCheckModel]:
        names = [c.name for c in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"check name {dupes[0]!r} is used twice")
        return value


class SlaModel(Strict):
    time: HHMM
    notify: StrictBool = True


Event = Literal["failure", "sla_breach", "quality_failure", "backfill_complete", "success"]
DEFAULT_EVENTS: list[Event] = ["failure", "sla_breach", "quality_failure", "backfill_complete"]


def _default_events() -> list[Event]:
    return list(DEFAULT_EVENTS)


class _Notification(Strict):
    on: list[Event] = Field(default_factory=_default_events)


class SlackNotification(_Notification):
    channel: Literal["slack"]
    url_env: EnvName


class WebhookNotification(_Notification):
    channel: Literal["webhook"]
    url_env: EnvName
    secret_env: EnvName | None = Field(None, description="HMAC-SHA256 signing secret")


class EmailNotification(_Notification):
    channel: Literal["email"]
    smtp_host: str
    smtp_port: Annotated[StrictInt, Field(ge=1, le=65535)] = 587
    starttls: StrictBool = True
    username_env: EnvName | None = None
    password_env: EnvName | None = None
    from_: str = Field(alias="from", pattern=r"^[^@\s]+@[^@\s]+$")
    to: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(min_length=1)


class StdoutNotification(_Notification):
    channel: Literal["stdout"]


Notification = Annotated[
    SlackNotification | WebhookNotification | EmailNotification | StdoutNotification,
    Field(discriminator="channel"),
]
ParameterName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class _PipelineBase(Strict):
    id: str = Field(pattern=PIPELINE_ID_PATTERN)
    name: str | None = Field(None, description="default: the id")
    schedule: ScheduleModel
    batch: BatchModel = BatchModel()
    retry: RetryModel = RetryModel()
    backfill: BackfillModel = BackfillModel()
    quality: QualityModel = QualityModel()
    sla: SlaModel | None = None
    notifications: list[Notification] = Field(default_factory=list)
    parameters: dict[ParameterName, str] = Field(default_factory=dict)

    @field_validator("parameters", mode="before")
    @classmethod
    def _scalars_as_text(cls, value: Any) -> Any:
        # ``retries: 3`` is as natural in YAML as ``retries: "3"``; parameters travel as text.
        if isinstance(value, dict):
            return {
                k: (str(v).lower() if isinstance(v, bool) else str(v))
                if isinstance(v, int | float | date)
                else v
                for k, v in value.items()
            }
        return value

    @property
    def display_name(self) -> str:
        return self.name or self.id


class LocalPipeline(_PipelineBase):
    platform: Literal["local"]
    trigger: LocalTrigger


class DatabricksPipeline(_PipelineBase):
    platform: Literal["databricks"]
    trigger: DatabricksTrigger


class DbtPipeline(_PipelineBase):
    platform: Literal["dbt"]
    trigger: DbtTrigger


class SnowflakePipeline(_PipelineBase):
    platform: Literal["snowflake"]
    trigger: SnowflakeTrigger


class HttpPipeline(_PipelineBase):
    platform: Literal["http"]
    trigger: HttpTrigger


Pipeline = Annotated[
    LocalPipeline | DatabricksPipeline | DbtPipeline | SnowflakePipeline | HttpPipeline,
    Field(discriminator="platform"),
]
PLATFORM_MODELS: dict[str, type[_PipelineBase]] = {
    "local": LocalPipeline,
    "databricks": DatabricksPipeline,
    "dbt": DbtPipeline,
    "snowflake": SnowflakePipeline,
    "http": HttpPipeline,
}
PIPELINE_ADAPTER: TypeAdapter[Pipeline] = TypeAdapter(Pipeline)
AnyPipeline = LocalPipeline | DatabricksPipeline | DbtPipeline | SnowflakePipeline | HttpPipeline
