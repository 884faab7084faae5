"""history and status: reading what the state says, never writing it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.commands.options import (
    common_options,
    fail,
    make_clock,
    now_option,
    parse_instant_option,
    use_colour,
)
from reconciler.commands.report import DATE, check_window
from reconciler.masking import mask_data

if TYPE_CHECKING:
    from reconciler.state.outdated_marks import OutdatedMark


@click.command()
@click.argument("pipeline_id")
@common_options
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def history(pipeline_id: str, config_dir: Path, state: str, limit: int, fmt: str) -> None:
    """The runs of a pipeline, newest first."""
    import json

    from reconciler.render.dates import instant
    from reconciler.state.store import open_store

    with open_store(state).read() as session:
        rows = session.history(pipeline_id, limit)
        # the newest attempt of each date listed speaks for it: outdated, and by what
        newest = {r.run_date: r.run_id for r in reversed(rows)}
        causes = session.outdated_causes(pipeline_id, newest)
    outdated = {newest[day]: marks for day, marks in causes.items()}
    if not rows:
        # an unknown id is an error (as for plan --pipeline and backfill), not an empty list
        from reconciler.config.loading import config_files, load_files

        known = (
            {p.id for p in load_files(config_files(config_dir))[0]}
            if config_dir.is_dir()
            else set()
        )
        if pipeline_id not in known:
            fail(
                f"no pipeline with id {pipeline_id!r} in {config_dir} and no runs of it in "
                f"the state (known: {', '.join(sorted(known)[:10]) or 'none'})"
            )
    if fmt == "json":
        click.echo(
            json.dumps(
                mask_data(
                    [  # (before encoding: JSON escapes a secret's quotes and accents)
                        {
                            "run_id": r.run_id,
                            "batch_id": r.batch_id,
                            "run_date": r.run_date.isoformat(),
                            "status": r.status,
                            "attempt": r.attempt,
                            "kind": r.kind,
                            "request_id": r.request_id,
                            "start_time": instant(r.start_time) if r.start_time else None,
                            "end_time": instant(r.end_time) if r.end_time else None,
                            "error_message": r.error_message,
                            "sla_met": r.sla_met,
                            "version": r.version,
                            "outdated_by": [cause_json(m) for m in outdated.get(r.run_id, ())],
                        }
                        for r in rows
                    ]
                ),
                indent=2,
            )
        )
        return
    if not rows:
        click.echo(f"no runs recorded for {pipeline_id}")
        return
    click.echo(
        f"{'run date':<10}  {'status':<8} {'kind':<8} {'attempt':>7}  {'started':<20} "
        f"{'ended':<20} batch"
    )
    for r in rows:
        started = r.start_time.isoformat(timespec="seconds")[:19] if r.start_time else "-"
        ended = r.end_time.isoformat(timespec="seconds")[:19] if r.end_time else "-"
        click.echo(
            f"{r.run_date.isoformat():<10}  {r.status:<8} {r.kind:<8} {r.attempt:>7}  "
            f"{started:<20} {ended:<20} {r.batch_id}"
        )
        if r.error_message:
            label = "note" if r.kind == "mark" else "error"  # a mark's message is its reason
            click.echo(f"            {label}: {r.error_message.splitlines()[-1][:200]}")
        for mark in outdated.get(r.run_id, ()):
            click.echo(f"            outdated: {_cause_text(mark)}")


def _cause_text(mark: OutdatedMark) -> str:
    """What made a date outdated, in a line: the upstream re-run, or the version change."""
    at = mark.marked_at.isoformat(timespec="seconds")[:19] if mark.marked_at else "?"
    if mark.cause_dates is None:
        return f"version changed to {mark.cause_version or '(none)'} at {at}"
    first, last = mark.cause_dates
    dates = first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"
    batch = f" (batch {mark.cause_batch_id})" if mark.cause_batch_id else ""
    return f"{mark.cause_pipeline} {dates} re-ran at {at}{batch}"


def cause_json(mark: OutdatedMark) -> dict[str, object]:
    from reconciler.render.dates import instant

    cause = mark.cause_dates
    return {
        "cause_pipeline": mark.cause_pipeline,
        "cause_from": cause[0].isoformat() if cause else None,
        "cause_to": cause[1].isoformat() if cause else None,
        "cause_batch_id": mark.cause_batch_id,
        "cause_version": mark.cause_version,
        "marked_at": instant(mark.marked_at) if mark.marked_at else None,
    }


@click.command()
@common_options
@now_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "openmetrics", "prometheus"]),
    default="text",
    show_default=True,
    help="openmetrics or prometheus: the gauges of `run --metrics-addr`, once (for the "
    "node-exporter textfile collector).",
)
@click.option("--pipeline", "pipelines", multiple=True, help="Only this pipeline (repeatable).")
@click.option(
    "--calendar", is_flag=True, help="A calendar per pipeline: one cell per scheduled date."
)
@click.option("--from", "date_from", type=DATE, default=None, help="Calendar: first date.")
@click.option("--to", "date_to", type=DATE, default=None, help="Calendar: last date.")
def status(
    config_dir: Path,
    state: str,
    now_text: str | None,
    fmt: str,
    pipelines: tuple[str, ...],
    calendar: bool,
    date_from: datetime | None,
    date_to: datetime | None,
) -> None:
    """Per pipeline: coverage, gaps, in flight, failures, next due date, SLA.

    --calendar draws each pipeline's dates instead (about a year up to now, or
    --from/--to): by week, or by month for monthly schedules, with a legend.
    """
    import json

    from reconciler.notify import failed as failed_notifications
    from reconciler.reconcile.status_snapshot import read_status
    from reconciler.render.dates import instant

    now = parse_instant_option(now_text) if now_text else make_clock(None).now()
    if calendar:
        from reconciler.reconcile.reporting import render_status_calendar

        if fmt != "text":
            raise click.UsageError("--calendar draws text; it does not combine with --format json")
        check_window(date_from, date_to)
        colour = use_colour()
        window = (date_from.date() if date_from else None, date_to.date() if date_to else None)
        text = render_status_calendar(config_dir, state, now, pipelines, *window, colour)
        click.echo(text, nl=False, color=colour)
        return
    if date_from or date_to:
        raise click.UsageError("--from and --to go with --calendar")
    snapshot = read_status(config_dir, state, now, pipelines)
    rows, unsent = snapshot.rows, snapshot.unsent
    if fmt in ("openmetrics", "prometheus"):
        from reconciler.observe.exposition import status_text

        text = status_text(rows, snapshot.platforms, unsent, openmetrics=fmt == "openmetrics")
        click.echo(text, nl=False)
        return
    if fmt == "json":
        click.echo(
            json.dumps(
                mask_data(
                    {  # (before encoding: JSON escapes a secret's quotes and accents)
                        "now": instant(now),
                        "pipelines": [
                            {
                                "pipeline_id": r.pipeline_id,
                                "coverage_pct": round(r.coverage_pct, 2),
                                "due_dates": r.due,
                                "covered": r.covered,
                                "missing": r.missing,
                                "excluded": r.excluded,
                                "in_flight": r.in_flight,
                                "runs_in_flight": r.runs_in_flight,
                                "failed": r.failed,
                                "outdated": r.outdated,
                                "blocked": r.blocked,
                                "last_covered": r.last_covered.isoformat()
                                if r.last_covered
                                else None,
                                "next_date": r.next_date.isoformat() if r.next_date else None,
                                "next_due_at": instant(r.next_due_at) if r.next_due_at else None,
                                "sla_breaches": r.sla_breaches,
                                "paused": r.paused,
                            }
                            for r in rows
                        ],
                        "failed_notifications": failed_notifications.as_json(unsent),
                    }
                ),
                indent=2,
            )
        )
        return
    header = (
        f"{'pipeline':<24} {'coverage':>9} {'due':>6} {'missing':>7} {'excluded':>8} {'flight':>6} "
        f"{'failed':>6} {'outdated':>8} {'blocked':>7} {'last covered':<12} {'next due':<17} "
        f"{'SLA':>4}"
    )
    click.echo(header)
    for r in rows:
        nxt = r.next_due_at.strftime("%Y-%m-%d %H:%MZ") if r.next_due_at else "-"
        last = r.last_covered.isoformat() if r.last_covered else "-"
        click.echo(
            f"{r.pipeline_id:<24} {r.coverage_pct:>8.1f}% {r.due:>6} {r.missing:>7} "
            f"{r.excluded:>8} {r.in_flight:>6} {r.failed:>6} {r.outdated:>8} {r.blocked:>7} "
            f"{last:<12} {nxt:<17} {r.sla_breaches:>4}" + ("  paused" if r.paused else "")
        )
    for line in failed_notifications.as_text(unsent):
        click.echo(line)
