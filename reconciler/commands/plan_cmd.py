"""plan: what apply would do, in text, JSON or markdown, optionally against a base config."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from reconciler.commands.options import (
    common_options,
    fail,
    make_clock,
    now_option,
    on_github,
    parse_instant_option,
    use_colour,
)


@click.command("plan")
@common_options
@now_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "json-v2", "json-v1", "markdown"]),
    default="text",
    show_default=True,
    help="json: the plan by date ranges (format_version 3); json-v2: expanded, one object "
    "per run with every date listed (format_version 2; json-v1 is the same output).",
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
    help="Also save the plan as JSON to this file, with a fingerprint for `apply --plan` "
    "(not with --pipeline: apply works on every pipeline).",
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
    "--check-env/--no-check-env",
    default=True,
    show_default=True,
    help="Note each pipeline whose trigger variable (token, headers) is missing or empty: "
    "apply would not start it. --no-check-env where the deploy's secrets are not set "
    "(a pull request's CI).",
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
    check_env: bool,
    max_new_dates: int | None,
) -> None:
    """Show what apply would do; never writes state, never calls a platform."""
    from reconciler import collector

    # up to 10^5 small objects that live until the command ends: the cyclic collector
    # would only rescan them (about a third of the planning time); click restores it
    click.get_current_context().with_resource(collector.paused())
    from reconciler.reconcile.planning import Comparison, apply_refusal, compare_to, make_plan
    from reconciler.render.plan_compare import Guard
    from reconciler.state.store import open_store

    if max_new_dates is not None and compare_dir is None:
        raise click.UsageError("--max-new-dates counts the dates a change adds: give --compare-to")
    if out is not None and pipelines:
        # refused here, before anything is printed, rather than by apply much later
        fail(
            "--out saves a plan for `apply --plan`, which works on every pipeline: "
            "drop --pipeline to save it (--pipeline only narrows what is shown)"
        )
    # plan reads the clock once and writes nothing, so --now is taken exactly
    now = make_clock(now_text).now() if not now_text else parse_instant_option(now_text)
    fingerprint_before = _state_fingerprint(state) if out is not None else None
    store = open_store(state)
    comparison: Comparison | None = None
    result = make_plan(config_dir, store, now, pipelines)
    if compare_dir is not None:
        comparison = compare_to(result, compare_dir, store, pipelines, compare_name)
    guard = Guard(max_new_dates) if max_new_dates is not None else None
    refusal = apply_refusal(result, config_dir, pipelines)
    missing = _missing_env(result, pipelines) if check_env else []
    adjacency = comparison.adjacency(result) if comparison else result.adjacency()
    compare_doc = None
    if comparison is not None:
        from reconciler.render.plan_document import compare_to_dict

        compare_doc = compare_to_dict(comparison.result, comparison.label)
    if fmt.startswith("json"):
        _echo_json(result.plan, compare_doc, missing, expanded=fmt != "json")
        if refusal:
            click.echo(f"warning: {refusal}", err=True)
    elif fmt == "markdown":
        from reconciler.render.coverage_strip import strips_for

        strip_for = strips_for(result.specs, result.plan)
        text = _markdown(result.plan, adjacency, comparison, guard, strip_for)
        if missing:
            from reconciler.render.env_notes import env_notes_markdown

            text += env_notes_markdown(missing)
        if refusal:
            text += f"\n> **Warning:** {refusal}\n"
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
        if missing:
            from reconciler.render.env_notes import env_notes_text

            text += env_notes_text(missing)
        if refusal:
            text += f"\nWarning: {refusal}\n"
        click.echo(text, nl=False, color=colour)
    if out is not None:
        _save_plan(out, result, state, pipelines, compare_doc, fingerprint_before)
    if guard is not None and comparison is not None and guard.exceeded(comparison.result):
        from reconciler.render.plan_compare import guard_message

        if on_github():
            _guard_annotations(result, comparison, guard)
        fail(guard_message(comparison.result, guard))
    if result.unplannable:
        from reconciler.core.fleet import unplannable_lines

        for line in unplannable_lines(result.unplannable):
            click.echo(line, err=True)
        sys.exit(1)
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
    from reconciler.reconcile.saved_plans import state_fingerprint

    return state_fingerprint(state)


def _missing_env(result: Any, wanted: tuple[str, ...]) -> list[Any]:
    """The variables the shown pipelines need that the environment lacks: a trigger's
    blocks the pipeline in apply, a notification's warns. They never change plan's exit
    code (a plan in CI often runs without the deploy's secrets)."""
    from reconciler.config.env_secrets import env_problems

    shown = [p for p in result.pipelines if not wanted or p.id in wanted]
    return env_problems(shown, os.environ)


def _echo_json(
    plan: Any, compare_doc: dict[str, Any] | None, missing: list[Any], expanded: bool
) -> None:
    """The JSON plan on stdout; ``expanded``: version 2, written as it is made."""
    extra: dict[str, Any] = {} if compare_doc is None else {"compare": compare_doc}
    if missing:
        extra["problems"] = [p.to_json() for p in missing]
    if expanded:
        from reconciler.render.plan_json_v2 import write_plan_v2

        write_plan_v2(plan, sys.stdout.write, extra or None)
        sys.stdout.flush()
        return
    from reconciler.render.plan_json import plan_to_json

    click.echo(plan_to_json(plan, extra or None), nl=False)


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
    from reconciler.reconcile.saved_plans import make_fingerprint
    from reconciler.render.plan_json import plan_to_json

    fingerprint = make_fingerprint(result, state, pipelines)
    if fingerprint["state"] != fingerprint_before:
        raise PlanError(
            "the state changed while the plan was being made (an apply is running); "
            "plan again once it has finished"
        )
    extra = {"fingerprint": fingerprint}
    if compare_doc is not None:
        extra = {"compare": compare_doc, **extra}
    try:
        out.write_text(plan_to_json(result.plan, extra), encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"cannot write the plan to {out}: {exc.strerror or exc}") from exc
