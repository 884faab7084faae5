"""Options and helpers every command shares: --config-dir, --state, --now, errors, colour."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from reconciler.clock import Clock, OffsetClock, SystemClock, parse_instant
from reconciler.line_safety import safe_line
from reconciler.state.location import DEFAULT_STATE, normalise

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_CONFIG_DIR = "pipelines.d"


def fail(message: str) -> NoReturn:
    # messages quote paths and values: no line of it is ever a workflow command on
    # GitHub (a message may list several problems, one a line; each line is made safe)
    lines = f"Error: {message}".split("\n")
    click.echo("\n".join(safe_line(line) for line in lines), err=True)
    sys.exit(1)


def config_dir_option(func: F) -> F:
    return click.option(
        "--config-dir",
        type=click.Path(path_type=Path, file_okay=False),
        envvar="RECONCILER_CONFIG_DIR",
        default=DEFAULT_CONFIG_DIR,
        show_default=True,
        help="Directory of pipeline YAML files.",
    )(func)


def state_option(func: F) -> F:
    return click.option(
        "--state",
        envvar="RECONCILER_STATE",
        default=DEFAULT_STATE,
        show_default=True,
        help="State store: a DuckDB file path, or a postgresql:// URL (a schema via "
        "?options=-csearch_path%3Dname).",
        callback=_state_location,
    )(func)


def _state_location(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A PostgreSQL URL in the form libpq reads; a malformed or foreign URL is refused.

    The URL's password is masked in everything the command prints from here on.
    """
    from reconciler.masking import register_url_password

    register_url_password(value or "")
    return normalise(value)


def runs_dir_option(func: F) -> F:
    return click.option(
        "--runs-dir",
        type=click.Path(path_type=Path, file_okay=False),
        envvar="RECONCILER_RUNS_DIR",
        default=None,
        help="Directory of local runs' files (default: beside a DuckDB state file; for a "
        "PostgreSQL state, a per-user directory named by a hash of the URL).",
    )(func)


def now_option(func: F) -> F:
    return click.option(
        "--now",
        "now_text",
        envvar="RECONCILER_NOW",
        default=None,
        help="Pretend the clock starts at this ISO-8601 instant (naive = UTC).",
    )(func)


def make_clock(now_text: str | None) -> Clock:
    """The real clock, or one that starts at ``--now`` and advances in real time."""
    if not now_text:
        return SystemClock()
    return OffsetClock(parse_instant_option(now_text))


def parse_instant_option(now_text: str) -> datetime:
    from reconciler.config.bounds import EARLIEST_DATE, LATEST_DATE

    try:
        instant = parse_instant(now_text)
    except (ValueError, OverflowError) as exc:
        raise click.ClickException(
            f"--now: expected an ISO-8601 instant such as 2026-04-01T06:00 (naive = UTC), "
            f"found {now_text!r}"
        ) from exc
    if not EARLIEST_DATE <= instant.date() <= LATEST_DATE:
        # the dates a pass computes from it (due dates, retries) must stay representable
        raise click.ClickException(
            f"--now: expected an instant from {EARLIEST_DATE} to {LATEST_DATE}, found {now_text!r}"
        )
    return instant


def use_colour() -> bool:
    """Colour only on a terminal, and never with NO_COLOR set."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def common_options(func: F) -> F:
    """``--config-dir`` and ``--state``, which every command takes."""
    return config_dir_option(state_option(func))


def on_github() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"
