"""cancel: stop runs in flight (one run, a request's runs, or a pipeline's runs)."""

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
@click.argument("run_id", required=False)
@click.option("--request", "request_id", default=None, help="Cancel this request's runs.")
@click.option("--pipeline", "pipeline_id", default=None, help="Cancel this pipeline's runs.")
@click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the runs to stop before leaving them to the next apply.",
)
@click.option("--reason", default=None, help="Why; recorded with the cancel.")
@common_options
@now_option
@runs_dir_option
def cancel(
    run_id: str | None,
    request_id: str | None,
    pipeline_id: str | None,
    wait_seconds: float,
    reason: str | None,
    config_dir: Path,
    state: str,
    now_text: str | None,
    runs_dir: Path | None,
) -> None:
    """Cancel runs in flight on their platforms and record how they ended.

    RUN_ID is a batch id (as `status` and `history` show it) or a platform's run id.
    The cancel is recorded (with who asked, from GITHUB_ACTOR or USER) before any
    platform is asked, so one cut short is sent by the next apply. A cancelled run is
    recorded as canceled: never retried by policy; a new request runs its dates again.
    """
    from reconciler.commands.mark_cmd import who_ran_it
    from reconciler.config.loading import load_config
    from reconciler.reconcile.cancelling import Target, cancel_runs

    given = [v for v in (run_id, request_id, pipeline_id) if v is not None]
    if len(given) != 1:
        raise click.UsageError("name exactly one of RUN_ID, --request ID or --pipeline ID")
    target = Target(run_id=run_id, request_id=request_id, pipeline_id=pipeline_id)
    loaded = load_config(config_dir) if config_dir.is_dir() else []
    clock = make_clock(now_text)
    results = cancel_runs(
        loaded,
        state,
        target,
        clock,
        wait=wait_seconds,
        runs_dir=runs_dir,
        by=who_ran_it(),
        reason=reason,
    )
    refused = 0
    for item in results:
        batch = item.batch
        first, last = batch.dates[0].isoformat(), batch.dates[-1].isoformat()
        span = first if first == last else f"{first}..{last}"
        what = f"{batch.batch_id} ({batch.pipeline_id} {span})"
        if item.refused is not None:
            refused += 1
            click.echo(f"{what}: not cancelled: {item.refused}", err=True)
        elif item.outcome is None:
            click.echo(f"{what}: cancel requested; still stopping (the next apply records it)")
        elif item.outcome.canceled:
            click.echo(f"{what}: cancelled")
        else:
            how = "succeeded" if item.outcome.success else "failed"
            click.echo(f"{what}: had already ended ({how}); left as it ended")
    if refused:
        fail(f"{refused} of {len(results)} run(s) could not be cancelled")
