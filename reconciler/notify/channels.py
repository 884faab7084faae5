"""Which channels a pipeline has, under which name, and which events each one wants."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from reconciler.config.models import (
        AnyPipeline,
        EmailNotification,
        SlackNotification,
        StdoutNotification,
        WebhookNotification,
    )

    ChannelModel = SlackNotification | WebhookNotification | EmailNotification | StdoutNotification

Event = Literal["failure", "sla_breach", "quality_failure", "backfill_complete", "success"]
EVENTS: tuple[Event, ...] = (
    "failure",
    "sla_breach",
    "quality_failure",
    "backfill_complete",
    "success",
)


def channel_key(model: ChannelModel) -> str:
    """The channel's name in the state: its kind plus what tells two of a kind apart.

    Environment variable names and addresses only; never a URL or a password.
    """
    # (the models are imported here: their module is loaded only once a pipeline is)
    from reconciler.config.models import (
        EmailNotification,
        SlackNotification,
        WebhookNotification,
    )

    if isinstance(model, SlackNotification | WebhookNotification):
        return f"{model.channel}:{model.url_env}"
    if isinstance(model, EmailNotification):
        return "email:" + ",".join(model.to)
    return "stdout"


def channels(pipeline: AnyPipeline) -> dict[str, ChannelModel]:
    """Channel name -> its config (the first of two identical channels wins)."""
    out: dict[str, ChannelModel] = {}
    for model in pipeline.notifications:
        out.setdefault(channel_key(model), model)
    return out


def subscribed(pipeline: AnyPipeline, event: Event) -> list[str]:
    """Names of the pipeline's channels that want ``event``.

    ``sla_breach`` also needs ``sla.notify`` (true by default when an SLA is set).
    """
    if event == "sla_breach" and (pipeline.sla is None or not pipeline.sla.notify):
        return []
    return [key for key, model in channels(pipeline).items() if event in model.on]


def wants(pipeline: AnyPipeline, event: Event) -> bool:
    return bool(subscribed(pipeline, event))
