"""``reconciler report``: coverage as one self-contained HTML file (no server, no scripts).

The shared options (``--config-dir``, ``--state``, ``--now``) come from ``commands.options``,
so they read the same environment variables and defaults as every other command.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import click

from reconciler.commands.options import common_options, now_option, parse_instant_option

DATE = click.DateTime(formats=["%Y-%m-%d"])


def check_window(date_from: datetime | None, date_to: datetime | None) -> None:
    """``--to`` before ``--from`` is a usage error, not an empty calendar."""
    if date_from is not None and date_to is not None and date_to < date_from:
        raise click.BadParameter(
            f"--to {date_to:%Y-%m-%d} is before --from {date_from:%Y-%m-%d}", param_hint="--to"
        )


def _now(now_text: str | None) -> datetime:
    """``--now`` exactly (the report reads the clock once), else the wall clock."""
    from reconciler.clock import SystemClock

    return parse_instant_option(now_text) if now_text else SystemClock().now()


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@click.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default="report.html",
    show_default=True,
    help="Where to write the HTML file ('-' for standard output).",
)
@common_options
@now_option
@click.option("--pipeline", "pipelines", multiple=True, help="Only this pipeline (repeatable).")
@click.option("--from", "date_from", type=DATE, default=None, help="First calendar date.")
@click.option("--to", "date_to", type=DATE, default=None, help="Last calendar date.")
@click.option(
    "--max-calendars",
    type=click.IntRange(min=0),
    default=200,
    show_default=True,
    help="Draw calendars for at most this many pipelines (the least covered).",
)
def report(
    out: Path,
    config_dir: Path,
    state: str,
    now_text: str | None,
    pipelines: tuple[str, ...],
    date_from: datetime | None,
    date_to: datetime | None,
    max_calendars: int,
) -> None:
    """Write the coverage report: fleet summary, a calendar per pipeline, failures, backlog.

    Calendars span about a year up to now unless --from/--to say otherwise. Reads the
    state without writing it; works while an apply runs.
    """
    from reconciler.reconcile.reporting import gather_report
    from reconciler.render.report_html import render_report

    check_window(date_from, date_to)
    now = _now(now_text)
    data = gather_report(
        config_dir, state, now, pipelines, _day(date_from), _day(date_to), max_calendars
    )
    html = render_report(data)
    if str(out) == "-":
        click.echo(html, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    partial.write_text(html, encoding="utf-8")
    partial.replace(out)  # a reader never sees half a report
    dates = sum(len(c.states) for c in data.calendars)
    click.echo(
        f"wrote {out}: {len(data.calendars)} pipeline(s), {dates} dates, "
        f"{len(data.failures)} recent failure(s), {len(data.pending)} pending group(s)"
    )
