"""``--log-format``, which every command takes (after its name or before it)."""

from __future__ import annotations

import sys

import click


def _configure(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """JSON mode from here to the command's end: stderr becomes JSON lines, and the
    ``reconciler`` loggers' events are written to it."""
    from reconciler.observe.logs import JsonLinesStream, configure

    root = ctx.find_root()
    root.ensure_object(dict)
    fmt = value or root.obj.get("log_format") or "text"
    if fmt != "json" or root.obj.get("log_setup") is not None:
        return
    raw = sys.stderr
    sys.stderr = JsonLinesStream(raw)  # (the group's boundary puts the old one back)
    setup = configure("json", raw)
    root.obj["log_setup"] = setup
    root.call_on_close(setup.undo)


def log_format_option() -> click.Option:
    return click.Option(
        ["--log-format"],
        type=click.Choice(["text", "json"]),
        envvar="RECONCILER_LOG_FORMAT",
        default=None,
        expose_value=False,
        is_eager=True,
        callback=_configure,
        help="stderr as text (default) or one JSON object per line.",
    )


def add_log_format_option(group: click.Group) -> None:
    """The option on every command of ``group``, its subgroups' included."""
    for command in group.commands.values():
        if not any(p.name == "log_format" for p in command.params):
            command.params.append(log_format_option())
        if isinstance(command, click.Group):
            add_log_format_option(command)
