"""mark: adopt dates produced outside the reconciler, or make the next plan run them again."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import click

from reconciler.commands.options import common_options, fail, make_clock, now_option


def who_ran_it() -> str:
    """The person behind the command, as the run log names them."""
    return os.environ.get("GITHUB_ACTOR") or os.environ.get("USER") or "unknown"


@click.command()
@click.argument("pipeline_id")
@click.option("--from", "date_from", required=True, help="First date (YYYY-MM-DD).")
@click.option("--to", "date_to", required=True, help="Last date, inclusive.")
@click.option(
    "--as",
    "mark_as",
    required=True,
    type=click.Choice(["covered", "failed"]),
    help="covered: produced elsewhere, nothing to run; failed: uncovered, run again.",
)
@click.option("--reason", default=None, help="Why (required); kept in the run log.")
@common_options
@now_option
def mark(
    pipeline_id: str,
    date_from: str,
    date_to: str,
    mark_as: str,
    reason: str | None,
    config_dir: Path,
    state: str,
    now_text: str | None,
) -> None:
    """Mark the scheduled, due dates of a range as covered or failed, with a reason.

    Each date gets a run-log row of kind `mark` whose message names who marked it and
    why. A date marked failed leaves the coverage: the next plan backfills it.
    """
    from reconciler.commands import backfill_checks as checks
    from reconciler.config.loading import load_config
    from reconciler.core.calendar import scheduled_between
    from reconciler.render.dates import instant
    from reconciler.state.store import open_store

    if reason is None or not reason.strip():
        fail("--reason is required: say why these dates are marked (it is kept in the run log)")
    start, end = _day("--from", date_from), _day("--to", date_to)
    if end < start:
        fail(f"--from {start} is after --to {end}")
    pipelines = {p.id: p for p in load_config(config_dir)}
    if pipeline_id not in pipelines:
        fail(f"no pipeline with id {pipeline_id!r} in {config_dir}")
    schedule = pipelines[pipeline_id].spec.schedule
    problem = checks.range_problem(schedule, pipeline_id, start, end)
    if problem is not None:
        fail(problem.replace("would ever run", "can be marked").replace("would run", "to mark"))
    now = make_clock(now_text).now()
    later = checks.not_due_yet(schedule, start, end, now)
    if later:
        # (to the second: ``--now`` advances in real time, its microseconds are noise)
        fail(
            f"{later} scheduled date(s) of {start}..{end} are not due yet at {instant(now)}: "
            "nothing marked"
        )
    days = scheduled_between(schedule, start, end)
    note = f"marked {mark_as} by {who_ran_it()}: {reason.strip()}"
    with open_store(state).write() as session:
        session.mark_dates(
            pipeline_id, days, "covered" if mark_as == "covered" else "failed", note, now
        )
    span = days[0].isoformat() if len(days) == 1 else f"{days[0]}..{days[-1]}"
    click.echo(f"marked {len(days)} date(s) of {pipeline_id} as {mark_as}: {span}")


def _day(option: str, text: str) -> date:
    """The date an option names; a malformed one is refused, naming the option."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: expected a date such as 2026-03-18, found {text!r}")
