"""Command line entry: the ``reconciler`` group and its one error boundary.

The commands live in ``reconciler/commands/`` and share ``commands.options``; this module
turns every ``ReconcilerError`` into one line and exit 1 (``--debug`` re-raises).
Heavy modules (pydantic, duckdb, httpx) are imported inside commands so that
``reconciler --help`` starts fast.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from reconciler import __version__
from reconciler.commands.apply_cmds import apply, run
from reconciler.commands.cancel_cmd import cancel
from reconciler.commands.config_cmds import schema, validate
from reconciler.commands.explain_cmd import explain
from reconciler.commands.inspect_cmds import history, status
from reconciler.commands.log_option import add_log_format_option
from reconciler.commands.mark_cmd import mark
from reconciler.commands.options import fail as _fail
from reconciler.commands.options import on_github as _on_github
from reconciler.commands.plan_cmd import plan_command
from reconciler.commands.report import report as report_command
from reconciler.commands.state_cmds import backfill, import_history_command, state_group
from reconciler.errors import ConfigError, ReconcilerError


class _Group(click.Group):
    """Turns ``ReconcilerError`` (and any surprise) into one line and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from reconciler.masking import MaskedStream, mask_uncaught_tracebacks

        # every line a command prints passes the secret mask (see reconciler/masking.py)
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = MaskedStream(out), MaskedStream(err)
        try:
            return self._invoke(ctx)
        except Exception:
            if _debug(ctx):  # re-raised: Python prints the traceback, past the streams
                mask_uncaught_tracebacks()
            raise
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout, sys.stderr = out, err

    def _invoke(self, ctx: click.Context) -> Any:
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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    envvar="RECONCILER_LOG_FORMAT",
    default=None,
    help="stderr as text (default) or one JSON object per line (any command takes it too).",
)
@click.version_option(__version__, prog_name="reconciler")
@click.pass_context
def main(ctx: click.Context, debug: bool, log_format: str | None) -> None:
    """Keep data pipelines' date coverage complete, declaratively.

    Pipelines are YAML files in --config-dir; `plan` shows what is missing and what
    is due, `apply` makes it so.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["log_format"] = log_format


main.add_command(validate)
main.add_command(schema)
main.add_command(plan_command)
main.add_command(apply)
main.add_command(run)
main.add_command(cancel)
main.add_command(history)
main.add_command(explain)
main.add_command(status)
main.add_command(backfill)
main.add_command(mark)
main.add_command(import_history_command)
main.add_command(state_group)
main.add_command(report_command)
add_log_format_option(main)
