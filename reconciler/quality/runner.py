"""Running a pipeline's checks for one finished run: values bound, engines called."""

from __future__ import annotations

from datetime import date

from reconciler.config.models import AnyPipeline, QualityCheckModel
from reconciler.config.run_values import run_values
from reconciler.config.sql_binding import TemplateError, bind
from reconciler.config.templates import render
from reconciler.core.check_results import CheckResult
from reconciler.quality.duckdb_engine import CheckCannotRun, run_duckdb
from reconciler.quality.results import QueryAnswer, verdict
from reconciler.quality.snowflake_engine import QueryFunction, run_snowflake

CHECK_TIMEOUT = 600.0  # seconds one check may take before it is interrupted


def run_check(
    pipeline: AnyPipeline,
    check: QualityCheckModel,
    values: dict[str, str],
    *,
    timeout: float = CHECK_TIMEOUT,
    snowflake_query: QueryFunction | None = None,
) -> CheckResult:
    """One check; never raises for a check that cannot run (that is a failed check)."""
    try:
        answer: QueryAnswer
        if check.engine == "snowflake":
            bound = bind(check.sql, values, "snowflake")
            answer = run_snowflake(pipeline, bound, timeout, snowflake_query)
        else:
            bound = bind(check.sql, values, "duckdb")
            reads = [render(path, values) for path in check.reads]
            answer = run_duckdb(bound.sql, bound.named, reads, timeout)
    except (CheckCannotRun, TemplateError) as exc:
        return CheckResult(
            name=check.name,
            engine=check.engine,
            on_fail=check.on_fail,
            passed=False,
            details=str(exc),
            could_run=False,
        )
    except (KeyError, ValueError) as exc:  # load time rejects bad templates; be safe anyway
        error = f"the SQL template cannot be rendered: {exc}"
        return CheckResult(
            name=check.name,
            engine=check.engine,
            on_fail=check.on_fail,
            passed=False,
            details=error,
            could_run=False,
        )
    passed, details = verdict(answer)
    return CheckResult(
        name=check.name, engine=check.engine, on_fail=check.on_fail, passed=passed, details=details
    )


def run_checks(
    pipeline: AnyPipeline,
    dates: tuple[date, ...],
    run_id: str,
    *,
    timeout: float = CHECK_TIMEOUT,
    snowflake_query: QueryFunction | None = None,
) -> list[CheckResult]:
    """Every check of the pipeline, in order, for a run of ``dates``."""
    values = run_values(pipeline, dates, run_id)
    return [
        run_check(pipeline, c, values, timeout=timeout, snowflake_query=snowflake_query)
        for c in pipeline.quality.checks
    ]
