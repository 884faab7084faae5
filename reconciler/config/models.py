"""Pydantic models of a pipeline file : the config boundary.

Models are frozen and forbid unknown keys. Checks that need the whole pipeline
(templates, secrets) live in ``checks.py`` so their errors can point at a field.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from reconciler.config.bounds import MAX_RETRY_DELAY_SECONDS
from reconciler.config.dependency_models import DependsOn, Version, self_dependency
from reconciler.config.exclusion_models import EXCLUDE_HELP, PAUSE_HELP, ExclusionModel
from reconciler.config.quality_models import (  # re-exported: imported from here too
    QualityCheckModel as QualityCheckModel,
)
from reconciler.config.quality_models import QualityModel as QualityModel
from reconciler.config.strict_model import Strict
from reconciler.config.trigger_models import (  # re-exported: imported from here too
    DatabricksTrigger as DatabricksTrigger,
)
from reconciler.config.trigger_models import DbtTrigger as DbtTrigger
from reconciler.config.trigger_models import HttpTrigger as HttpTrigger
from reconciler.config.trigger_models import LocalTrigger as LocalTrigger
from reconciler.config.trigger_models import SnowflakeTrigger as SnowflakeTrigger
from reconciler.config.value_types import (
    EMAIL_PATTERN,
    HHMM,
    PARAMETER_NAME_PATTERN,
    PIPELINE_ID_PATTERN,
    REQUEST_ID_PATTERN,
    ActiveRuns,
    BatchDates,
    BoundedDate,
    EnvName,
    Every,
    MonthDay,
    OffsetDays,
    OneLine,
    Priority,
    RetryCount,
    Timezone,
    Weekday,
)
from reconciler.config.value_types import (
    WEEKDAYS as WEEKDAYS,  # re-exported: specs.py reads it from here
)
from reconciler.core.durations import RETRY_GRAMMAR, parse_retry_schedule
from reconciler.core.outdated import REFRESH_PREFIX

_M = TypeVar("_M", bound=Strict)


# --- the rest of the pipeline ---------------------------------------------------------


def _days_for(kind: str, items: JsonDict) -> JsonDict:
    return {
        "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
        "then": {"properties": {"days": items}},
    }


# Which days fit which type, for editors: draft-07 if/then, which yaml-language-server knows.
_DAYS_BY_TYPE: JsonDict = {
    "allOf": [
        _days_for("daily", {"maxItems": 0}),
        _days_for("weekly", {"items": {"enum": list(WEEKDAYS)}}),
        _days_for("monthly", {"items": {"type": "integer"}}),
    ]
}


class ScheduleModel(Strict):
    """Which dates exist and when each becomes due (docs/calendar.md)."""

    model_config = ConfigDict(json_schema_extra=_DAYS_BY_TYPE)

    type: Literal["daily", "weekly", "monthly"]
    every: Every = 1
    days: list[Weekday | MonthDay] = Field(
        default_factory=list,
        description="weekly: mon..sun; monthly: 1..31 or -1..-31; daily: none",
    )
    start: BoundedDate
    end: BoundedDate | None = None
    offset: OffsetDays = Field(0, description="days after a date that it becomes due")
    at: HHMM = "00:00"
    timezone: Timezone = "UTC"

    @model_validator(mode="after")
    def _days_fit_type(self) -> ScheduleModel:
        # Errors name the field below the model ("days[1]: ...") so the loader can point
        # at the exact item.
        if self.type == "daily" and self.days:
            raise ValueError("days: a daily schedule takes no days (use every: N instead)")
        for index, day in enumerate(self.days):
            if self.type == "weekly" and not isinstance(day, str):
                raise ValueError(
                    f"days[{index}]: expected a weekday ({', '.join(WEEKDAYS)}) in a weekly "
                    f"schedule, found {day!r}"
                )
            if self.type == "monthly" and isinstance(day, str):
                raise ValueError(
                    f"days[{index}]: expected a day of the month (1..31, or -1..-31 counting "
                    f"back from the month's end) in a monthly schedule, found {day!r}"
                )
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end: {self.end} is before start ({self.start})")
        return self


class BatchModel(Strict):
    multi_date: StrictBool = False
    max_dates: BatchDates = 31


class RetryModel(Strict):
    enabled: StrictBool = True
    schedule: str = Field("every 5 minutes", description=RETRY_GRAMMAR)
    max_retries: RetryCount = 2

    @field_validator("schedule")
    @classmethod
    def _grammar(cls, value: str) -> str:
        policy = parse_retry_schedule(value)
        if max(policy.base_seconds, policy.cap_seconds or 0) > MAX_RETRY_DELAY_SECONDS:
            raise ValueError(
                f"a retry delay is at most {MAX_RETRY_DELAY_SECONDS // 86400} days, found {value!r}"
            )
        return value


class BackfillRequestModel(Strict):
    id: str = Field(pattern=REQUEST_ID_PATTERN)
    from_: BoundedDate = Field(alias="from")
    to: BoundedDate
    priority: Priority | None = Field(None, description="default: backfill.priority")
    reason: OneLine = ""
    cancel_running: StrictBool = Field(
        False, description="when this request is removed, cancel its runs in flight too"
    )

    @model_validator(mode="after")
    def _ordered(self) -> BackfillRequestModel:
        if self.id.startswith(REFRESH_PREFIX):
            raise ValueError(
                f"id: {self.id!r} starts with {REFRESH_PREFIX!r}, which the reconciler keeps "
                "for its own refreshes of outdated dates; choose another id"
            )
        if self.to < self.from_:
            raise ValueError(f"to: {self.to} is before from ({self.from_})")
        return self


class BackfillModel(Strict):
    auto: StrictBool = True
    priority: Priority = 0
    order: Literal["oldest_first", "newest_first"] = "oldest_first"
    max_active_runs: ActiveRuns = 4
    requests: list[BackfillRequestModel] = Field(default_factory=list)
    refresh_on_upstream_change: StrictBool = Field(
        True, description="re-run a covered date when an upstream date it needs re-runs"
    )
    refresh_on_version_change: StrictBool = Field(
        False, description="re-run every covered date when version changes"
    )

    @field_validator("requests")
    @classmethod
    def _unique_ids(cls, value: list[BackfillRequestModel]) -> list[BackfillRequestModel]:
        first: dict[str, int] = {}
        for index, request in enumerate(value):
            if request.id in first:
                raise ValueError(
                    f"[{index}].id: request id {request.id!r} is already used by "
                    f"requests[{first[request.id]}]; each request needs its own id"
                )
            first[request.id] = index
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
    from_: str = Field(alias="from", pattern=EMAIL_PATTERN)
    to: list[Annotated[str, Field(pattern=EMAIL_PATTERN)]] = Field(min_length=1)


class StdoutNotification(_Notification):
    channel: Literal["stdout"]


Notification = Annotated[
    SlackNotification | WebhookNotification | EmailNotification | StdoutNotification,
    Field(discriminator="channel"),
]
ParameterName = Annotated[str, Field(pattern=PARAMETER_NAME_PATTERN)]
# Text in the model; YAML numbers and booleans are read as the text written.
ParameterValue = Annotated[
    str, WithJsonSchema({"type": ["string", "number", "boolean"], "description": "a template"})
]


def _section(model: type[_M]) -> Any:
    """An optional section's default, made fresh per pipeline rather than deep-copied.

    Pydantic deep-copies model defaults for every instance, which costs more than the
    rest of validating a pipeline; the schema still shows the default.
    """
    return Field(
        default_factory=model, json_schema_extra={"default": model().model_dump(mode="json")}
    )


class _PipelineBase(Strict):
    id: str = Field(pattern=PIPELINE_ID_PATTERN)
    name: OneLine | None = Field(None, description="default: the id")
    schedule: ScheduleModel
    depends_on: DependsOn = Field(default_factory=list)
    version: Version = None
    batch: BatchModel = _section(BatchModel)
    retry: RetryModel = _section(RetryModel)
    backfill: BackfillModel = _section(BackfillModel)
    quality: QualityModel = _section(QualityModel)
    sla: SlaModel | None = None
    pause: StrictBool = Field(False, description=PAUSE_HELP)
    pause_reason: OneLine | None = Field(None, description="why it is paused")
    exclude: list[ExclusionModel] = Field(default_factory=list, description=EXCLUDE_HELP)
    notifications: list[Notification] = Field(default_factory=list)
    parameters: dict[ParameterName, ParameterValue] = Field(
        default_factory=dict,
        # names outside the pattern are errors, in editors too
        json_schema_extra={"additionalProperties": False},
    )

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

    @model_validator(mode="after")
    def _not_own_upstream(self) -> _PipelineBase:
        problem = self_dependency(self.id, self.depends_on)
        if problem is not None:
            raise ValueError(problem)
        return self

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
