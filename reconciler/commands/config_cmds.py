"""validate and schema: checking pipeline files and publishing the JSON Schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reconciler.commands.options import (
    common_options,
    fail,
    on_github,
)


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--check-env",
    is_flag=True,
    help="Also fail when an environment variable the pipelines name (a trigger's token or "
    "headers, a notification's URL or password) is missing or empty; values are never shown.",
)
@common_options
def validate(files: tuple[Path, ...], check_env: bool, config_dir: Path, state: str) -> None:
    """Check pipeline files (all of --config-dir, or FILES); exit 1 on any problem."""
    from reconciler.config.loading import config_files, load_files, load_some_files
    from reconciler.render.annotations import error_annotation

    paths = list(files) if files else config_files(config_dir)
    if not paths:
        # an empty or mistyped directory must not pass CI as "valid"
        fail(f"no pipeline files (*.yaml, *.yml) in {config_dir}")
    if files:
        loaded, problems = load_some_files(paths, config_dir)
    else:
        loaded, problems = load_files(paths, where=str(config_dir))
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems and on_github():
        for problem in problems:
            click.echo(error_annotation(problem))
    missing = _missing_env(loaded) if check_env else []
    if problems:
        bad_files = len({p.file for p in problems})
        also = f"; {len(missing)} environment variable(s) missing" if missing else ""
        fail(f"{len(problems)} problem(s) in {bad_files} of {len(paths)} file(s){also}")
    from reconciler.config.exclusion_checks import exclusion_warnings

    for pipeline in loaded:
        for warning in exclusion_warnings(pipeline):
            click.echo(f"warning: {warning}", err=True)
            if on_github():
                click.echo(error_annotation(warning, level="warning"))
    if missing:
        fail(
            f"{len(missing)} environment variable(s) missing or empty, named by "
            f"{len({p.pipeline_id for p in missing})} of {len(loaded)} pipeline(s)"
        )
    click.echo(f"{len(loaded)} pipeline(s) in {len(paths)} file(s): valid.")
    if check_env:
        click.echo("environment: every variable the pipelines name is set.")


def _missing_env(loaded: list[Any]) -> list[Any]:
    """``--check-env``: one line per variable missing or empty (trigger and notification
    alike: a deploy check wants both), at its key; the environment only, no state."""
    import os

    from reconciler.config.env_secrets import env_problems
    from reconciler.render.annotations import error_annotation

    missing = env_problems(loaded, os.environ)
    for problem in missing:
        click.echo(str(problem), err=True)
    if missing and on_github():
        for problem in missing:
            click.echo(error_annotation(problem.as_problem()))
    return missing


@click.command()
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
        if not schema_dir.is_dir():
            # (outside the repository, most often: not the same as a stale schema)
            fail(
                f"no schemas directory at {schema_dir}: run from the repository root or "
                "pass --dir; `reconciler schema --write` creates it"
            )
        missing, stale = [], []
        for name, text in expected.items():
            path = schema_dir / name
            if not path.is_file():
                missing.append(path.as_posix())
            elif path.read_text(encoding="utf-8") != text:
                stale.append(path.as_posix())
        if missing or stale:
            told = [f"missing: {', '.join(missing)}"] if missing else []
            told += [f"stale: {', '.join(stale)} (differs from the models)"] if stale else []
            fail(
                f"schemas out of date ({'; '.join(told)}); "
                "run `reconciler schema --write` and commit the result"
            )
        click.echo(f"{len(expected)} schema(s) in {schema_dir} are up to date.")
        return
    click.echo(expected["pipeline.schema.json"], nl=False)
