"""backfill, import-history and the state group: changing what the state holds."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.commands.options import (
    common_options,
    fail,
    make_clock,
    now_option,
    runs_dir_option,
)


@click.command()
@click.argument("pipeline_id")
@click.option("--from", "date_from", default=None, help="First date (YYYY-MM-DD).")
@click.option("--to", "date_to", default=None, help="Last date, inclusive.")
@click.option("--priority", type=int, default=None, help="Default: the pipeline's priority.")
@click.option("--reason", default="", help="Why; shown in plans and history.")
@click.option("--id", "request_id", default=None, help="Request id (default: generated).")
@click.option(
    "--cancel",
    "cancel_id",
    default=None,
    metavar="ID",
    help="Cancel ad-hoc request ID instead: its dates not yet started are dropped.",
)
@click.option(
    "--cancel-running",
    is_flag=True,
    help="With --cancel: also cancel the request's runs in flight on their platforms.",
)
@common_options
@now_option
@runs_dir_option
def backfill(
    pipeline_id: str,
    date_from: str | None,
    date_to: str | None,
    priority: int | None,
    reason: str,
    request_id: str | None,
    cancel_id: str | None,
    cancel_running: bool,
    config_dir: Path,
    state: str,
    now_text: str | None,
    runs_dir: Path | None,
) -> None:
    """Enqueue an ad-hoc backfill; the next apply plans it like a declared request.

    With --cancel ID, cancel an ad-hoc request instead (a declared one is cancelled by
    removing it from its file)."""
    if cancel_id is not None:
        from reconciler.commands.backfill_cancel import cancel_request

        if date_from or date_to or request_id or priority is not None:
            raise click.UsageError("--cancel takes no --from, --to, --id or --priority")
        cancel_request(
            pipeline_id, cancel_id, cancel_running, config_dir, state, now_text, runs_dir, reason
        )
        return
    if cancel_running:
        raise click.UsageError("--cancel-running goes with --cancel ID")
    if date_from is None or date_to is None:
        raise click.UsageError("--from and --to are required (or --cancel ID)")
    import re
    from datetime import date

    from reconciler.commands import backfill_checks as checks
    from reconciler.config.loading import load_config
    from reconciler.config.value_types import REQUEST_ID_PATTERN
    from reconciler.core.spec import BackfillRequest
    from reconciler.state.store import open_store

    try:
        start, end = date.fromisoformat(date_from), date.fromisoformat(date_to)
    except ValueError as exc:
        raise click.BadParameter(f"expected YYYY-MM-DD dates: {exc}") from exc
    if end < start:
        raise click.BadParameter(f"--to {end} is before --from {start}")
    if request_id is not None and not re.fullmatch(REQUEST_ID_PATTERN, request_id):
        # (as a declared request's id: ids are stored, compared and packed as they are)
        raise click.BadParameter(
            f"{request_id!r}: expected letters, digits, '.', '_' and '-', starting with a "
            "letter or digit, at most 128 characters",
            param_hint="--id",
        )
    pipelines = {p.id: p for p in load_config(config_dir)}
    if pipeline_id not in pipelines:
        fail(f"no pipeline with id {pipeline_id!r} in {config_dir}")
    pipeline = pipelines[pipeline_id]
    schedule = pipeline.spec.schedule
    problem = checks.range_problem(schedule, pipeline_id, start, end)
    if problem is None and request_id is not None:
        problem = checks.declared_id_problem(pipeline, request_id)
    if problem is not None:
        fail(problem)
    now = make_clock(now_text).now()
    declared = {r.id for r in pipeline.spec.requests}
    priority = priority if priority is not None else pipeline.model.backfill.priority
    with open_store(state).write() as session:
        # the generated id is chosen in the transaction that inserts it
        taken = declared | session.request_ids(pipeline_id)
        rid = request_id or checks.generated_id(now, taken)
        request = BackfillRequest(id=rid, start=start, end=end, priority=priority, reason=reason)
        session.add_request(pipeline_id, request, now)
    count = checks.scheduled_count(schedule, start, end)
    later = checks.not_due_yet(schedule, start, end, now)
    due = f", {later} not due yet: they run as they come due" if later else ""
    click.echo(
        f"queued backfill {rid} for {pipeline_id}: {start}..{end}, {count} scheduled "
        f"date(s){due} (priority {request.priority}); the next apply runs it"
    )


@click.command("import-history")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the valid rows and list the invalid ones (default: import nothing).",
)
@common_options
@now_option
def import_history_command(
    file: Path, skip_invalid: bool, config_dir: Path, state: str, now_text: str | None
) -> None:
    """Adopt existing coverage from CSV or Parquet without re-running it (idempotent).

    Every row must name a date its pipeline's schedule holds and has made due at --now;
    a file with an invalid row imports nothing unless --skip-invalid.
    """
    from reconciler.config.loading import load_config
    from reconciler.state.importing import describe_invalid
    from reconciler.state.store import open_store

    schedules = {p.id: p.spec.schedule for p in load_config(config_dir)}
    report = open_store(state).import_history(
        file, schedules, make_clock(now_text).now(), skip_invalid=skip_invalid
    )
    if report.invalid.count:
        click.echo(f"skipped {report.invalid.count} invalid row(s):")
        for line in describe_invalid(file, report.invalid):
            click.echo(f"  {line}")
    click.echo(
        f"read {report.rows} row(s): {report.imported} imported, "
        f"{report.unchanged} already known, {report.invalid.count} invalid"
    )
    for pid, count in report.unknown.items():
        click.echo(f"skipped {count} row(s) of {pid!r}: no such pipeline in {config_dir}")


@click.group("state")
def state_group() -> None:
    """Move the state between runs: export it as Parquet files, import it into a new file."""


@state_group.command("export")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@common_options
def state_export(directory: Path, config_dir: Path, state: str) -> None:
    """Write every table of --state to DIRECTORY/<table>.parquet, plus manifest.json."""
    from reconciler.state.store import open_store

    report = open_store(state).export_to(directory)
    click.echo(
        f"exported {len(report.rows)} table(s), {sum(report.rows.values())} row(s) "
        f"(schema version {report.schema_version}) from {state} to {directory}"
    )


@state_group.command("import")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@common_options
def state_import(directory: Path, config_dir: Path, state: str) -> None:
    """Build a new state file at --state from an export in DIRECTORY (never over a state)."""
    from reconciler.state.store import open_store

    report = open_store(state).import_from(directory)
    click.echo(
        f"imported {len(report.rows)} table(s), {sum(report.rows.values())} row(s) "
        f"from {directory} into {state}"
    )


@state_group.command("migrate")
@click.option(
    "--from",
    "source",
    required=True,
    help="The state to copy: a DuckDB file or a postgresql:// URL.",
)
@click.option(
    "--to",
    "target",
    required=True,
    help="A new DuckDB file, or a postgresql:// URL of an empty schema.",
)
def state_migrate(source: str, target: str) -> None:
    """Copy a state between a DuckDB file and PostgreSQL (either way), verified before commit."""
    from reconciler.state.store import open_store

    report = open_store(source).copy_to(open_store(target))
    click.echo(
        f"copied {len(report.rows)} table(s), {sum(report.rows.values())} row(s) from "
        f"{report.source} to {report.target} (row counts and coverage checked)"
    )
