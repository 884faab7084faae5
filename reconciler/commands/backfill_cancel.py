"""backfill --cancel: drop an ad-hoc request, and with --cancel-running stop its runs.

The request is removed and its runs in flight get a recorded cancel in one transaction;
the platforms are asked after it. A crash in between leaves recorded cancels that the
next apply sends, so the request's runs are stopped either way.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.commands.options import fail, make_clock


def cancel_request(
    pipeline_id: str,
    request_id: str,
    cancel_running: bool,
    config_dir: Path,
    state: str,
    now_text: str | None,
    runs_dir: Path | None,
    reason: str,
) -> None:
    """Remove ad-hoc request ``request_id`` of ``pipeline_id``; see the module doc."""
    from reconciler.commands.mark_cmd import who_ran_it
    from reconciler.config.loading import load_config
    from reconciler.errors import StateError
    from reconciler.reconcile.cancelling import NothingToCancel, Target, cancel_runs
    from reconciler.state.store import open_store

    loaded = load_config(config_dir) if config_dir.is_dir() else []
    pipelines = {p.id: p for p in loaded}
    pipeline = pipelines.get(pipeline_id)
    if pipeline is not None and any(r.id == request_id for r in pipeline.spec.requests):
        fail(
            f"request {request_id!r} of {pipeline_id} is declared in {pipeline.file}: "
            "remove it from the file (with cancel_running: true its runs in flight are "
            "cancelled too)"
        )
    clock = make_clock(now_text)
    now = clock.now()
    who = who_ran_it()
    why = reason or f"backfill request {request_id} cancelled"
    try:
        with open_store(state).write() as session:
            session.remove_request(pipeline_id, request_id, now)
            flying = [
                b
                for b in session.in_flight()
                if b.pipeline_id == pipeline_id and b.request_id == request_id
            ]
            if cancel_running:
                session.record_cancels(flying, now, who, why)
    except StateError as exc:
        fail(str(exc))
    click.echo(
        f"cancelled backfill {request_id} of {pipeline_id}: its dates not started are dropped"
    )
    if not flying:
        return
    if not cancel_running:
        click.echo(
            f"{len(flying)} run(s) in flight go on (--cancel-running stops them; so does "
            f"`reconciler cancel --request {request_id}`)"
        )
        return
    target = Target(request_id=request_id, pipeline_id=pipeline_id)
    try:
        results = cancel_runs(
            loaded, state, target, clock, wait=30.0, runs_dir=runs_dir, by=who, reason=why
        )
    except NothingToCancel:
        return  # they ended meanwhile
    for item in results:
        what = f"{item.batch.batch_id} ({pipeline_id})"
        if item.refused is not None:
            click.echo(f"{what}: not cancelled: {item.refused}", err=True)
        elif item.outcome is None:
            click.echo(f"{what}: cancel requested; still stopping (the next apply records it)")
        elif item.outcome.canceled:
            click.echo(f"{what}: cancelled")
        else:
            click.echo(f"{what}: had already ended; left as it ended")
