"""apply and run: one reconcile pass, or one every interval."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.commands.options import (
    common_options,
    make_clock,
    now_option,
    runs_dir_option,
)
from reconciler.errors import ReconcilerError

if TYPE_CHECKING:
    from reconciler.clock import Clock
    from reconciler.commands.pass_observer import PassObserver
    from reconciler.reconcile.executor import Progress, Tally
    from reconciler.reconcile.pass_report import ApplyReport
    from reconciler.reconcile.saved_plans import SavedPlanCheck


def _progress_display(
    wait: bool,
) -> tuple[Progress | None, Callable[[ApplyReport | None], None]]:
    """With --wait: rich's live display when stdout is a terminal, plain lines on stderr
    otherwise; the callback for the executor, and what ends the display (with the
    pass's final counts)."""
    if not wait:
        return None, lambda report: None
    from reconciler.observe.progress import LiveProgress, PlainProgress

    display = LiveProgress(sys.stdout) if sys.stdout.isatty() else PlainProgress(sys.stderr)
    most = {"total": 0}

    def show(tally: Tally, total: int) -> None:
        most["total"] = max(most["total"], total)
        display.update(tally.started, tally.succeeded, tally.failed, most["total"])

    def finish(report: ApplyReport | None) -> None:
        if report is not None:
            total = max(most["total"], report.started)
            display.update(report.started, report.succeeded, report.failed, total)
        display.close()

    return show, finish


@contextmanager
def _stopping_on_signals(interrupted: threading.Event) -> Iterator[None]:
    """^C (or SIGTERM) sets ``interrupted``: the executor stops between two steps (a
    signal that landed in a state query would otherwise be lost there); a second one
    stops at once."""

    def stop(_signum: int, _frame: Any) -> None:
        if interrupted.is_set():
            raise KeyboardInterrupt
        interrupted.set()

    before = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


@click.command()
@common_options
@now_option
@runs_dir_option
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
@click.option(
    "--pushgateway",
    default=None,
    metavar="URL",
    help="Push the pass's metrics to this Prometheus Pushgateway (job reconciler).",
)
def apply(
    config_dir: Path,
    state: str,
    now_text: str | None,
    runs_dir: Path | None,
    wait: bool,
    max_parallel: int,
    allow_empty: bool,
    plan_file: Path | None,
    max_plan_age: str,
    pushgateway: str | None,
) -> None:
    """Carry out one reconcile pass: sync config, poll, start what the plan says."""
    from reconciler.commands.pass_observer import PassObserver
    from reconciler.reconcile.apply_pass import ApplyOptions, apply_pass

    clock = make_clock(now_text)
    saved = _saved_plan(plan_file, max_plan_age) if plan_file is not None else None
    progress, end_progress = _progress_display(wait)
    interrupted = threading.Event()
    options = ApplyOptions(
        wait=wait,
        max_parallel=max_parallel,
        allow_empty=allow_empty,
        runs_dir=runs_dir,
        interrupted=interrupted,
    )
    observer = PassObserver(config_dir, state, 0.0, measure=pushgateway is not None)
    try:
        observer.started(clock.now())
        report = None
        try:
            with _stopping_on_signals(interrupted):
                report = apply_pass(
                    config_dir, state, clock, options, progress=progress, saved=saved
                )
        except ReconcilerError as exc:
            observer.ended(None, str(exc), clock.now(), log_failure=False)
            raise
        finally:
            end_progress(report)
        observer.ended(report, None, clock.now())
        if pushgateway is not None:
            observer.push(pushgateway)
    finally:
        observer.close()
    if saved is not None:
        click.echo(
            f"saved plan {plan_file}: config and state unchanged since "
            f"{saved.saved.plan.now.isoformat(timespec='seconds')}; applied it"
        )
    for pid, change in sorted(report.config_changes.items()):
        click.echo(f"config: {change} {pid}")
    for line in report.notifications:
        click.echo(f"notify: {line}")
    for line in report.skipped:
        click.echo(f"skipped: {line}")
    for line in report.cancels:
        click.echo(f"cancel: {line}")
    for line in report.held_elsewhere:
        click.echo(f"in flight elsewhere: {line}")
    click.echo(applied_line(report))
    blocked = echo_env_problems(report)
    if report.unplannable:
        from reconciler.core.fleet import unplannable_lines

        for line in unplannable_lines(report.unplannable):
            click.echo(line, err=True)
    if report.unplannable or blocked:
        sys.exit(1)


def echo_env_problems(report: ApplyReport) -> bool:
    """One line on stderr per variable missing from the environment (its name, never a
    value); whether one of them blocked a pipeline. A notification's only warns."""
    for problem in report.env_problems:
        line = f"{problem}; {problem.consequence}"
        click.echo(line if problem.blocking else f"warning: {line}", err=True)
    return any(p.blocking for p in report.env_problems)


def applied_line(report: ApplyReport) -> str:
    """The closing summary: what the pass did, then what the state holds after it.

    ``report.after`` is counted after a pass whose runs ended; a pass that recorded no
    outcome left the state as its plan saw it, less the dates it started. Refreshes and
    dates waiting for their upstream are named only when there are any.
    """
    from dataclasses import replace

    from reconciler.reconcile.pass_report import AfterPass, plan_dates

    after = report.after
    if after is None and report.plan is not None:
        seen = plan_dates(report.plan, lambda pid: True)
        after = replace(seen, due=max(seen.due - report.started_dates, 0))
    if after is None:
        after = AfterPass(gap=0, waiting=0, due=0)
    of_them = [f"{after.refresh} of them refreshes"] if after.refresh else []
    of_them += [f"{after.paused} of them paused"] if after.paused else []
    refresh = f" ({', '.join(of_them)})" if of_them else ""
    upstream = (
        f", {after.upstream} date(s) waiting for their upstream dates" if after.upstream else ""
    )
    return (
        f"Applied: {report.started} run(s) started ({report.started_dates} dates), "
        f"{report.succeeded} succeeded, {report.failed} failed, "
        f"{report.adopted} adopted from an earlier pass, {report.still_running} still running; "
        f"after it: {after.gap} gap date(s), {after.waiting} date(s) waiting for a retry, "
        f"{after.due} date(s) due{refresh}{upstream}."
    )


def _saved_plan(plan_file: Path, max_plan_age: str) -> SavedPlanCheck:
    """The saved plan to verify under the pass's lock (read and parsed here, outside it)."""
    from datetime import timedelta

    from reconciler.core.durations import parse_duration
    from reconciler.reconcile.saved_plans import SavedPlanCheck, load_saved

    try:
        max_age = timedelta(seconds=parse_duration(max_plan_age))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--max-plan-age") from exc
    return SavedPlanCheck(saved=load_saved(plan_file), max_age=max_age)


@click.command()
@common_options
@now_option
@runs_dir_option
@click.option(
    "--interval", default="5m", show_default=True, help="Time between passes (90s, 5m, 1h)."
)
@click.option("--max-parallel", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--metrics-addr",
    default=None,
    metavar="HOST:PORT",
    help="Serve /metrics (Prometheus), /healthz and /readyz here (127.0.0.1:9108).",
)
def run(
    config_dir: Path,
    state: str,
    now_text: str | None,
    runs_dir: Path | None,
    interval: str,
    max_parallel: int,
    metrics_addr: str | None,
) -> None:
    """Reconcile forever; stops cleanly between steps on SIGINT or SIGTERM."""
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
    observer = _observer(config_dir, state, seconds, metrics_addr)
    try:
        _run_loop(config_dir, state, clock, runs_dir, max_parallel, seconds, stop, observer)
    finally:
        observer.close()


def _observer(config_dir: Path, state: str, seconds: float, address: str | None) -> PassObserver:
    from reconciler.commands.pass_observer import PassObserver
    from reconciler.observe.health_server import parse_address

    observer = PassObserver(config_dir, state, seconds)
    if address is None:
        return observer
    try:
        where = parse_address(address)
        port = observer.serve(where)
    except (ValueError, OSError) as exc:
        observer.close()
        raise click.BadParameter(str(exc), param_hint="--metrics-addr") from exc
    click.echo(f"serving /metrics, /healthz and /readyz on {where[0]}:{port}", err=True)
    return observer


def _run_loop(
    config_dir: Path,
    state: str,
    clock: Clock,
    runs_dir: Path | None,
    max_parallel: int,
    seconds: float,
    stop: dict[str, bool],
    observer: PassObserver,
) -> None:
    import time

    from reconciler.reconcile.apply_pass import ApplyOptions, apply_pass

    while not stop["now"]:
        observer.started(clock.now())
        try:
            options = ApplyOptions(wait=False, max_parallel=max_parallel, runs_dir=runs_dir)
            report = apply_pass(config_dir, state, clock, options)
            error = None
        except ReconcilerError as exc:  # logged by the observer ("pass failed: ...")
            report, error = None, str(exc)
        observer.ended(report, error, clock.now())
        if report is not None:
            echo_env_problems(report)
        if report is not None and report.unplannable:
            from reconciler.core.fleet import unplannable_lines

            for line in unplannable_lines(report.unplannable):
                click.echo(line, err=True)
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
