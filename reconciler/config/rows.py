"""A pipeline model as a plain row of the ``pipelines`` table (docs/state.md).

Made here, at the config boundary, so that the state store writes plain values and never
sees a pydantic model.
"""

from __future__ import annotations

import json
import shlex
from datetime import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.config.models import AnyPipeline


def _time(text: str) -> time:
    hours, minutes = text.split(":")  # validated as HH:MM
    return time(int(hours), int(minutes))


def trigger_url(model: AnyPipeline) -> str | None:
    trigger = model.trigger.model_dump(by_alias=True)
    for key in ("url", "host"):
        if trigger.get(key):
            return str(trigger[key])
    if model.platform == "snowflake":
        return f"https://{trigger['account']}.snowflakecomputing.com"
    if model.platform == "local":
        return shlex.join(trigger["command"])
    return None


def pipeline_row(model: AnyPipeline) -> dict[str, Any]:
    """Column -> value; secrets never appear (the models hold env var names only)."""
    from reconciler.config.specs import flat_config

    trigger = model.trigger.model_dump(by_alias=True)
    job_id = trigger.get("job_id")
    channels = [n.channel for n in model.notifications]
    return {
        "pipeline_id": model.id,
        "pipeline_name": model.name or model.id,
        "platform": model.platform,
        "trigger_url": trigger_url(model),
        "platform_job_id": str(job_id) if job_id is not None else None,
        "schedule_type": model.schedule.type,
        "frequency": model.schedule.every,
        "date_offset": model.schedule.offset,
        "multi_date_allowed": model.batch.multi_date,
        "retry_enabled": model.retry.enabled,
        "retry_schedule": model.retry.schedule,
        "max_retry_attempts": model.retry.max_retries,
        "auto_backfill": model.backfill.auto,
        "notification_channel": ",".join(channels) if channels else None,
        "notification_details": json.dumps(
            [n.model_dump(mode="json", by_alias=True) for n in model.notifications]
        )
        if channels
        else None,
        "data_quality_check": bool(model.quality.checks),
        "sla_time": _time(model.sla.time) if model.sla else None,
        "sla_breach_notification": model.sla.notify if model.sla else False,
        "config_json": json.dumps(flat_config(model), sort_keys=True),
    }
