"""The trigger section of a pipeline file, one model per platform."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from reconciler.config.strict_model import Strict
from reconciler.config.value_types import Duration, EnvName, PlatformId, Url

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
    job_id: PlatformId
    token_env: EnvName = "DATABRICKS_TOKEN"


class DbtTrigger(Strict):
    """dbt Cloud v2 job run."""

    host: Url = "https://cloud.getdbt.com"
    account_id: PlatformId
    job_id: PlatformId
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
    status_url: Url | None = Field(
        None, description="URL to poll; {platform_run_id} and the run templates allowed"
    )
    cancel_url: Url | None = Field(
        None,
        description="URL to POST to cancel a run; {platform_run_id} and the run templates "
        "allowed (without it, runs of this hook cannot be cancelled)",
    )
