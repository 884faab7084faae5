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
from reconciler.errors import ConfigError, ReconcilerError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_CONFIG_DIR = "pipelines.d"
DEFAULT_STATE = ".reconciler/state.duckdb"


class _Group(click.Group):
    """Turns ``ReconcilerError`` (and any surprise) into one line and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
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
        help="State store: a DuckDB file path.",
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
        raise click.BadParameter(
            f"expected an ISO-8601 instant, found {now_text!r}", param_hint="--now"
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
    help="Also save the plan as JSON to this file.",
)
def plan_command(
    config_dir: Path,
    state: str,
    now_text: str | None,
    fmt: str,
    pipelines: tuple[str, ...],
    detailed_exitcode: bool,
    out: Path | None,
) -> None:
    """Show what apply would do; never writes state, never calls a platform."""
    from reconciler.planning import make_plan
    from reconciler.render.plan_json import plan_to_json
    from reconciler.state.reading import open_reader

    # plan reads the clock once and writes nothing, so --now is taken exactly
    now = make_clock(now_text).now() if not now_text else parse_instant_option(now_text)
    reader = open_reader(state)
    try:
        result = make_plan(config_dir, reader, now, pipelines)
    finally:
        reader.close()
    if fmt == "json":
        click.echo(plan_to_json(result.plan), nl=False)
    elif fmt == "markdown":
        from reconciler.render.plan_markdown import render_markdown

        text = render_markdown(result.plan, result.adjacency())
        click.echo(text, nl=False)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(text + "\n")
    else:
        from reconciler.render.plan_text import render_text

        colour = use_colour()
        click.echo(render_text(result.plan, result.adjacency(), colour), nl=False, color=colour)
    if out is not None:
        out.write_text(plan_to_json(result.plan), encoding="utf-8")
    if detailed_exitcode and result.plan.has_changes:
        sys.exit(2)
