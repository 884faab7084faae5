"""Command line: click commands, the one place that prints and chooses exit codes.

Heavy modules (pydantic, duckdb, httpx) are imported inside commands so that
``reconciler --help`` starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError

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


