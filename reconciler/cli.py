"""Command line: click commands, the one place that prints and chooses exit codes.

Heavy modules (pydantic, duckdb, httpx) are imported inside commands so that
``reconciler --help`` starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from reconciler import __version__
from reconciler.clock import Clock, OffsetClock, SystemClock, parse_instant
from reconciler.commands.report import DATE, check_window
from reconciler.commands.report import report as report_command
from reconciler.errors import ConfigError, ReconcilerError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_CONFIG_DIR = "pipelines.d"
DEFAULT_STATE = ".reconciler/state.duckdb"


class _Group(click.Group):
    """Turns ``ReconcilerError`` (and any surprise) into one line and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            exc.exit_code = 1  # type: ignore[misc]  # exit 2 is reserved for `plan --detailed-exitcode` changes
            raise
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except ConfigError as exc:
            if _debug(ctx):
                raise
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            if _on_github():
                from reconciler.render.annotations import error_annotation

                for problem in exc.problems:
                    click.echo(error_annotation(problem, "reconciler"))
            _fail(f"invalid configuration: {len(exc.problems)} problem(s)")
        except ReconcilerError as exc:
            if _debug(ctx):
                raise
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted")
        except Exception as exc:
            if _debug(ctx):
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")


def _debug(ctx: click.Context) -> bool:
    return bool(ctx.obj and ctx.obj.get("debug")) or os.environ.get("RECONCILER_DEBUG") == "1"


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
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
    try:
        return parse_instant(now_text)
    except ValueError as exc:
        raise click.ClickException(
            f"--now: expected an ISO-8601 instant such as 2026-04-01T06:00 (naive = UTC), "
            f"found {now_text!r}"
        ) from exc


def use_colour() -> bool:
    """Colour only on a terminal, and never with NO_COLOR set."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def common_options(func: F) -> F:
    """``--config-dir`` and ``--state``, which every command takes."""
    return config_dir_option(state_option(func))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(__version__, prog_name="reconciler")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Keep data pipelines' date coverage complete, declaratively.

    Pipelines are YAML files in --config-dir; `plan` shows what is missing and what
    is due, `apply` makes it so.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _on_github() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@common_options
def validate(files: tuple[Path, ...], config_dir: Path, state: str) -> None:
    """Check pipeline files (all of --config-dir, or FILES); exit 1 on any problem."""
    from reconciler.config.loading import config_files, load_files
    from reconciler.render.annotations import error_annotation

    paths = list(files) if files else config_files(config_dir)
    if not paths:
        # an empty or mistyped directory must not pass CI as "valid"
        _fail(f"no pipeline files (*.yaml, *.yml) in {config_dir}")
    loaded, problems = load_files(paths)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems and _on_github():
        for problem in problems:
            click.echo(error_annotation(problem))
    if problems:
        bad_files = len({p.file for p in problems})
        _fail(f"{len(problems)} problem(s) in {bad_files} of {len(paths)} file(s)")
    click.echo(f"{len(loaded)} pipeline(s) in {len(paths)} file(s): valid.")


@main.command()
@click.option("--check", is_flag=True, help="Fail if the committed schemas are stale.")
@click.option(
    "--dir",
    "schema_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default="schemas",
    show_default=True,
    help="Where the committed schemas live.",
)
@click.option("--write", is_flag=True, help="Write the schemas into --dir.")
@common_options
def schema(check: bool, schema_dir: Path, write: bool, config_dir: Path, state: str) -> None:
    """Print the pipeline JSON Schema; --check compares it with the committed files."""
    from reconciler.schemas import committed_schemas

    expected = committed_schemas()
    if write:
        schema_dir.mkdir(parents=True, exist_ok=True)
        for name, text in expected.items():
            (schema_dir / name).write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(expected)} schema(s) to {schema_dir}")
        return
    if check:
        stale = []
        for name, text in expected.items():
            path = schema_dir / name
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current != text:
                stale.append(str(path))
        if stale:
            _fail(
                f"stale schema: {', '.join(stale)} differs from the models; "
                "run `reconciler schema --write` and commit the result"
            )
        click.echo(f"{len(expected)} schema(s) in {schema_dir} are up to date.")
        return
    click.echo(expected["pipeline.schema.json"], nl=False)


@main.command("plan")
@common_options
@now_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option("--pipeline", "pipelines", multiple=True, help="Only this pipeline (repeatable).")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also save the plan as JSON to this file, with a fingerprint for `apply --plan`.",
)
@click.option(
    "--compare-to",
    "compare_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Also plan the config in this directory (the base branch's) against the same "
    "state, and show what the change does.",
)
@click.option(
    "--compare-name",
    default=None,
    help="How to name the --compare-to config in the output (default: its directory).",
)
@click.option(
    "--max-new-dates",
    type=click.IntRange(min=0),
    default=None,
    help="With --compare-to: fail when the change adds more than N dates to run that no "
    "backfill request of the change declares.",
)
def plan_command(
    config_dir: Path,
    state: str,
    now_text: str | None,
    fmt: str,
    pipelines: tuple[str, ...],
    detailed_exitcode: bool,
    out: Path | None,
    compare_dir: Path | None,
    compare_name: str | None,
    max_new_dates: int | None,
) -> None:
    """Show what apply would do; never writes state, never calls a platform."""
    import gc

    # A short-lived process that builds up to 10^5 small objects and frees them at exit:
    # the cyclic collector would only rescan them (about a third of the planning time).
    gc.disable()
    from reconciler.planning import Comparison, compare_to, make_plan
    from reconciler.render.plan_compare import Guard
    from reconciler.state.reading import open_reader

    if max_new_dates is not None and compare_dir is None:
        raise click.UsageError("--max-new-dates counts the dates a change adds: give --compare-to")
    # plan reads the clock once and writes nothing, so --now is taken exactly
    now = make_clock(now_text).now() if not now_text else parse_instant_option(now_text)
    fingerprint_before = _state_fingerprint(state) if out is not None else None
    reader = open_reader(state)
    comparison: Comparison | None = None
    try:
        result = make_plan(config_dir, reader, now, pipelines)
        if compare_dir is not None:
            comparison = compare_to(result, compare_dir, reader, pipelines, compare_name)
    finally:
        reader.close()
    guard = Guard(max_new_dates) if max_new_dates is not None else None
    adjacency = comparison.adjacency(result) if comparison else result.adjacency()
    compare_doc = None
    if comparison is not None:
        from reconciler.render.plan_document import compare_to_dict

        compare_doc = compare_to_dict(comparison.result, comparison.label)
    if fmt == "json":
        _echo_json(result.plan, compare_doc)
    elif fmt == "markdown":
        from reconciler.render.coverage_strip import strips_for

        strip_for = strips_for(result.specs, result.plan)
        text = _markdown(result.plan, adjacency, comparison, guard, strip_for)
        click.echo(text, nl=False)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            try:
                with open(summary, "a", encoding="utf-8") as handle:
                    handle.write(text + "\n")
            except OSError as exc:
                # the plan is printed; a missing summary file must not change the exit code
                click.echo(
                    f"warning: cannot append to GITHUB_STEP_SUMMARY ({summary}): "
                    f"{exc.strerror or exc}",
                    err=True,
                )
    else:
        from reconciler.render.plan_text import render_text

        colour = use_colour()
        text = render_text(result.plan, adjacency, colour)
        if comparison is not None:
            from reconciler.render.plan_compare import render_compare_text

            text += "\n" + render_compare_text(
                comparison.result, comparison.label, adjacency, guard
            )
        click.echo(text, nl=False, color=colour)
    if out is not None:
        _save_plan(out, result, state, pipelines, compare_doc, fingerprint_before)
    if guard is not None and comparison is not None and guard.exceeded(comparison.result):
        from reconciler.render.plan_compare import guard_message

        if _on_github():
            _guard_annotations(result, comparison, guard)
        _fail(guard_message(comparison.result, guard))
    if detailed_exitcode and result.plan.has_changes:
        sys.exit(2)


def _guard_annotations(result: Any, comparison: Any, guard: Any) -> None:
    """Point each pipeline that trips the guard at the first changed field of its file."""
    from reconciler.render.plan_compare import guard_annotations

    where = {}
    for pipeline in result.pipelines:
        changed = list(comparison.result.changed_fields(pipeline.id))
        dated = [f for f in changed if f.startswith(("schedule.", "backfill."))]
        fields = dated or changed or ["schedule.start"]
        mark = pipeline.source.locate(tuple(fields[0].split(".")))
        where[pipeline.id] = (pipeline.file, mark.line, mark.col)
    for line in guard_annotations(comparison.result, guard, where):
        click.echo(line)


def _state_fingerprint(state: str) -> dict[str, Any]:
    from reconciler.state.summary import state_fingerprint

    return state_fingerprint(state)


def _echo_json(plan: Any, compare_doc: dict[str, Any] | None) -> None:
    if compare_doc is None:
        from reconciler.render.plan_json import plan_to_json

        click.echo(plan_to_json(plan), nl=False)
        return
    from reconciler.render.plan_document import document_json, plan_document

    click.echo(document_json(plan_document(plan, compare_doc)), nl=False)


def _markdown(plan: Any, adjacency: Any, comparison: Any, guard: Any, strip_for: Any = None) -> str:
    """The plan's markdown, with the comparison (if any) right under its headline."""
    from reconciler.render.plan_markdown import LIMIT, render_markdown

    if comparison is None:
        return render_markdown(plan, adjacency, strip_for=strip_for)
    from reconciler.render.plan_compare import HALF, render_compare_markdown

    section = render_compare_markdown(
        comparison.result, comparison.label, adjacency, guard, budget=LIMIT // HALF
    )
    text = render_markdown(plan, adjacency, limit=LIMIT - len(section), strip_for=strip_for)
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if line.startswith("_Planned at")), None)
    if at is None:  # (a layout without the "planned at" line: the section goes last)
        return text + "\n" + section
    # after the "planned at" line and the blank line that follows it
    return "".join(lines[: at + 2]) + section + "".join(lines[at + 2 :])


def _save_plan(
    out: Path,
    result: Any,
    state: str,
    pipelines: tuple[str, ...],
    compare_doc: dict[str, Any] | None,
    fingerprint_before: dict[str, Any] | None,
) -> None:
    """Write the plan with the fingerprint that `apply --plan` checks."""
    from reconciler.errors import PlanError
    from reconciler.render.plan_document import document_json, plan_document
    from reconciler.saved_plans import make_fingerprint

    fingerprint = make_fingerprint(result, state, pipelines)
    if fingerprint["state"] != fingerprint_before:
        raise PlanError(
            "the state changed while the plan was being made (an apply is running); "
            "plan again once it has finished"
        )
    doc = plan_document(result.plan, compare_doc, fingerprint)
    try:
        out.write_text(document_json(doc), encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"cannot write the plan to {out}: {exc.strerror or exc}") from exc


def _progress_printer() -> Callable[[Any, int], None] | None:
    """A live line on a terminal; nothing when piped."""
    if not sys.stderr.isatty():
        return None
    state = {"total": 0}

    def show(report: Any, total: int) -> None:
        state["total"] = max(state["total"], total)
        click.echo(
            f"\r\033[Kstarted {report.started}/{state['total']} runs "
            f"({report.started_dates} dates), {report.succeeded} succeeded, "
            f"{report.failed} failed",
            nl=False,
            err=True,
        )

    return show


@main.command()
@common_options
@now_option
@click.option(
    "--wait", is_flag=True, help="Return only when every run started or found has finished."
)
@click.option(
    "--max-parallel",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Runs in flight at once, over all pipelines.",
)
@click.option(
    "--allow-empty", is_flag=True, help="Allow an empty config dir to delete every pipeline."
)
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A plan saved by `plan --out`: refuse unless config and state are unchanged since.",
)
@click.option(
    "--max-plan-age",
    default="1h",
    show_default=True,
    help="With --plan: refuse a plan older than this (90s, 30m, 2h).",
)
def apply(
    config_dir: Path,
    state: str,
    now_text: str | None,
    wait: bool,
    max_parallel: int,
    allow_empty: bool,
    plan_file: Path | None,
    max_plan_age: str,
) -> None:
    """Carry out one reconcile pass: sync config, poll, start what the plan says."""
    from reconciler.apply import Applier, ApplyOptions

    clock = make_clock(now_text)
    if plan_file is not None:
        _check_saved_plan(plan_file, config_dir, state, clock, max_plan_age)
    progress = _progress_printer()
    applier = Applier(
        config_dir,
        state,
        clock,
        ApplyOptions(wait, max_parallel, allow_empty),
        progress,
    )
    report = applier.run()
    if progress:
        click.echo("", err=True)
    for pid, change in sorted(report.config_changes.items()):
        click.echo(f"config: {change} {pid}")
    for line in report.notifications:
        click.echo(f"notify: {line}")
    for line in report.skipped:
        click.echo(f"skipped: {line}")
    plan = report.plan
    summary = plan.summary if plan else {}
    click.echo(
        f"Applied: {report.started} run(s) started ({report.started_dates} dates), "
        f"{report.succeeded} succeeded, {report.failed} failed, "
        f"{report.adopted} adopted from an earlier pass, {report.still_running} still running; "
        f"{summary.get('gap', 0)} gap date(s), {len(plan.waiting) if plan else 0} waiting "
        "for a retry."
    )


def _check_saved_plan(
    plan_file: Path, config_dir: Path, state: str, clock: Clock, max_plan_age: str
) -> None:
    from datetime import timedelta

    from reconciler.core.durations import parse_duration
    from reconciler.saved_plans import check_saved, load_saved

    try:
        max_age = timedelta(seconds=parse_duration(max_plan_age))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--max-plan-age") from exc
    saved = load_saved(plan_file)
    check_saved(saved, config_dir, state, clock.now(), max_age)
    click.echo(
        f"saved plan {plan_file}: config and state unchanged since "
        f"{saved.plan.now.isoformat(timespec='seconds')}; applying it"
    )


@main.command()
@common_options
@now_option
@click.option(
    "--interval", default="5m", show_default=True, help="Time between passes (90s, 5m, 1h)."
)
@click.option("--max-parallel", type=click.IntRange(min=1), default=8, show_default=True)
def run(
    config_dir: Path, state: str, now_text: str | None, interval: str, max_parallel: int
) -> None:
    """Reconcile forever; stops cleanly between steps on SIGINT or SIGTERM."""
    import signal
    import time

    from reconciler.apply import Applier, ApplyOptions
    from reconciler.core.durations import parse_duration

    try:
        seconds = parse_duration(interval)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--interval") from exc
    stop = {"now": False}

    def request_stop(signum: int, _frame: Any) -> None:
        stop["now"] = True
        click.echo(f"received {signal.Signals(signum).name}; stopping after this step", err=True)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    clock = make_clock(now_text)
    while not stop["now"]:
        try:
            report = Applier(config_dir, state, clock, ApplyOptions(False, max_parallel)).run()
        except ReconcilerError as exc:
            click.echo(f"pass failed: {exc}", err=True)
            report = None
        if report is not None:
            for line in report.notifications:
                click.echo(f"notify: {line}")
            click.echo(
                f"{clock.now().isoformat(timespec='seconds')} pass: {report.started} started, "
                f"{report.succeeded} succeeded, {report.failed} failed"
            )
        deadline = time.monotonic() + seconds
        while not stop["now"] and time.monotonic() < deadline:
            time.sleep(0.2)


@main.command()
@click.argument("pipeline_id")
@common_options
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def history(pipeline_id: str, config_dir: Path, state: str, limit: int, fmt: str) -> None:
    """The runs of a pipeline, newest first."""
    import json

    from reconciler.state.reading import open_reader

    reader = open_reader(state)
    rows = reader.history(pipeline_id, limit)
    if not rows:
        # an unknown id is an error (as for plan --pipeline and backfill), not an empty list
        from reconciler.config.loading import config_files, load_files

        known = (
            {p.id for p in load_files(config_files(config_dir))[0]}
            if config_dir.is_dir()
            else set()
        )
        if pipeline_id not in known:
            _fail(
                f"no pipeline with id {pipeline_id!r} in {config_dir} and no runs of it in "
                f"the state (known: {', '.join(sorted(known)[:10]) or 'none'})"
            )
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "run_id": r.run_id,
                        "batch_id": r.batch_id,
                        "run_date": r.run_date.isoformat(),
                        "status": r.status,
                        "attempt": r.attempt,
                        "kind": r.kind,
                        "request_id": r.request_id,
                        "start_time": r.start_time.isoformat() if r.start_time else None,
                        "end_time": r.end_time.isoformat() if r.end_time else None,
                        "error_message": r.error_message,
                        "sla_met": r.sla_met,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return
    if not rows:
        click.echo(f"no runs recorded for {pipeline_id}")
        return
    click.echo(
        f"{'run date':<10}  {'status':<8} {'kind':<8} {'try':>3}  {'started':<20} "
        f"{'ended':<20} batch"
    )
    for r in rows:
        started = r.start_time.isoformat(timespec="seconds")[:19] if r.start_time else "-"
        ended = r.end_time.isoformat(timespec="seconds")[:19] if r.end_time else "-"
        click.echo(
            f"{r.run_date.isoformat():<10}  {r.status:<8} {r.kind:<8} {r.attempt:>3}  "
            f"{started:<20} {ended:<20} {r.batch_id}"
        )
        if r.error_message:
            click.echo(f"            error: {r.error_message.splitlines()[-1][:200]}")


@main.command()
@click.argument("pipeline_id")
@click.option("--from", "date_from", required=True, help="First date (YYYY-MM-DD).")
@click.option("--to", "date_to", required=True, help="Last date, inclusive.")
@click.option("--priority", type=int, default=None, help="Default: the pipeline's priority.")
@click.option("--reason", default="", help="Why; shown in plans and history.")
@click.option("--id", "request_id", default=None, help="Request id (default: generated).")
@common_options
@now_option
def backfill(
    pipeline_id: str,
    date_from: str,
    date_to: str,
    priority: int | None,
    reason: str,
    request_id: str | None,
    config_dir: Path,
    state: str,
    now_text: str | None,
) -> None:
    """Enqueue an ad-hoc backfill; the next apply plans it like a declared request."""
    from datetime import date

    from reconciler.config.loading import load_config
    from reconciler.core.spec import BackfillRequest
    from reconciler.state import duckdb_store as db
    from reconciler.state.connection import transaction

    try:
        start, end = date.fromisoformat(date_from), date.fromisoformat(date_to)
    except ValueError as exc:
        raise click.BadParameter(f"expected YYYY-MM-DD dates: {exc}") from exc
    if end < start:
        raise click.BadParameter(f"--to {end} is before --from {start}")
    pipelines = {p.id: p for p in load_config(config_dir)}
    if pipeline_id not in pipelines:
        _fail(f"no pipeline with id {pipeline_id!r} in {config_dir}")
    now = make_clock(now_text).now()
    rid = request_id or f"adhoc-{now:%Y%m%dT%H%M%S}"
    model = pipelines[pipeline_id].model
    request = BackfillRequest(
        rid, start, end, priority if priority is not None else model.backfill.priority, reason
    )
    with transaction(state) as conn:
        db.add_request(conn, pipeline_id, request, now)
    click.echo(
        f"queued backfill {rid} for {pipeline_id}: {start}..{end} "
        f"(priority {request.priority}); the next apply runs it"
    )


@main.command()
@common_options
@now_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
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

    from reconciler.config.loading import load_config
    from reconciler.config.specs import to_spec
    from reconciler.core.status import pipeline_status
    from reconciler.notify import failed as failed_notifications
    from reconciler.planning import select
    from reconciler.state.reading import open_reader

    now = parse_instant_option(now_text) if now_text else make_clock(None).now()
    if calendar:
        from reconciler.reporting import render_status_calendar

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
    loaded = select(load_config(config_dir), pipelines, config_dir)
    specs = [to_spec(p.model) for p in loaded]
    reader = open_reader(state)
    observed = reader.observe([s.id for s in specs])
    rows = [pipeline_status(s, observed.of(s.id), now) for s in specs]
    unsent = failed_notifications.failed_notifications(state, [s.id for s in specs])
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "now": now.isoformat(),
                    "pipelines": [
                        {
                            "pipeline_id": r.pipeline_id,
                            "coverage_pct": round(r.coverage_pct, 2),
                            "due_dates": r.due,
                            "covered": r.covered,
                            "missing": r.missing,
                            "in_flight": r.in_flight,
                            "failed": r.failed,
                            "last_covered": r.last_covered.isoformat() if r.last_covered else None,
                            "next_date": r.next_date.isoformat() if r.next_date else None,
                            "next_due_at": r.next_due_at.isoformat() if r.next_due_at else None,
                            "sla_breaches": r.sla_breaches,
                        }
                        for r in rows
                    ],
                    "failed_notifications": failed_notifications.as_json(unsent),
                },
                indent=2,
            )
        )
        return
    header = (
        f"{'pipeline':<24} {'coverage':>9} {'due':>6} {'missing':>7} {'flight':>6} "
        f"{'failed':>6} {'last covered':<12} {'next due':<17} {'SLA':>4}"
    )
    click.echo(header)
    for r in rows:
        nxt = r.next_due_at.strftime("%Y-%m-%d %H:%MZ") if r.next_due_at else "-"
        last = r.last_covered.isoformat() if r.last_covered else "-"
        click.echo(
            f"{r.pipeline_id:<24} {r.coverage_pct:>8.1f}% {r.due:>6} {r.missing:>7} "
            f"{r.in_flight:>6} {r.failed:>6} {last:<12} {nxt:<17} {r.sla_breaches:>4}"
        )
    for line in failed_notifications.as_text(unsent):
        click.echo(line)


@main.command("import-history")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@common_options
@now_option
def import_history_command(file: Path, config_dir: Path, state: str, now_text: str | None) -> None:
    """Adopt existing coverage from CSV or Parquet without re-running it (idempotent)."""
    from reconciler.config.loading import load_config
    from reconciler.state.importing import import_history

    known = {p.id for p in load_config(config_dir)}
    report = import_history(state, file, known, make_clock(now_text).now())
    click.echo(
        f"read {report.rows} row(s): {report.imported} imported, "
        f"{report.unchanged} already known, {report.bad_status} invalid "
        "(bad date or status)"
    )
    for pid, count in report.unknown.items():
        click.echo(f"skipped {count} row(s) of {pid!r}: no such pipeline in {config_dir}")


@main.group("state")
def state_group() -> None:
    """Move the state between runs: export it as Parquet files, import it into a new file."""


@state_group.command("export")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@common_options
def state_export(directory: Path, config_dir: Path, state: str) -> None:
    """Write every table of --state to DIRECTORY/<table>.parquet, plus manifest.json."""
    from reconciler.state.export import export_state

    report = export_state(state, directory)
    click.echo(
        f"exported {len(report.rows)} table(s), {sum(report.rows.values())} row(s) "
        f"(schema version {report.schema_version}) from {state} to {directory}"
    )


@state_group.command("import")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@common_options
def state_import(directory: Path, config_dir: Path, state: str) -> None:
    """Build a new state file at --state from an export in DIRECTORY (never over a state)."""
    from reconciler.state.export import import_state

    report = import_state(state, directory)
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
    from reconciler.state.migrate_copy import copy_state

    report = copy_state(source, target)
    click.echo(
        f"copied {len(report.rows)} table(s), {sum(report.rows.values())} row(s) from "
        f"{report.source} to {report.target} (row counts and coverage checked)"
    )


main.add_command(report_command)
