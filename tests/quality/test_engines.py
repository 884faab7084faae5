"""Check engines: one boolean or failing rows, and checks that cannot run (never a crash)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from reconciler.config.models import PIPELINE_ADAPTER, AnyPipeline
from reconciler.errors import PermanentError
from reconciler.quality.checking import outcome_of
from reconciler.quality.results import QueryAnswer, verdict
from reconciler.quality.runner import run_checks

DATES = (date(2026, 1, 1), date(2026, 1, 2))


def pipeline(checks: list[dict[str, Any]], **extra: Any) -> AnyPipeline:
    data: dict[str, Any] = {
        "id": "p",
        "platform": "local",
        "trigger": {"command": ["true"]},
        "schedule": {"type": "daily", "start": "2026-01-01"},
        "quality": {"checks": checks},
        **extra,
    }
    model: AnyPipeline = PIPELINE_ADAPTER.validate_python(data)
    return model


def one(sql: str, **kw: Any) -> tuple[bool, str | None, bool]:
    kw.setdefault("reads", ["no/such/"])
    (result,) = run_checks(pipeline([{"name": "c", "sql": sql, **kw}]), DATES, "run1")
    return result.passed, result.details, result.could_run


@pytest.mark.parametrize(
    ("sql", "passed", "details"),
    [
        ("select true", True, None),
        ("select 1 = 2", False, "returned false"),
        ("select null::boolean", False, "returned NULL (expected true or false)"),
        ("select * from range(0)", True, None),
        ("select 42 as bad", False, "1 failing row; first: bad=42"),
    ],
)
def test_one_boolean_or_rows_that_fail(sql: str, passed: bool, details: str | None) -> None:
    got_passed, got_details, could_run = one(sql)
    assert (got_passed, could_run) == (passed, True)
    if details is None:
        assert got_details is None
    else:
        assert got_details is not None and got_details.startswith(details)


def test_failing_rows_are_counted_and_the_first_quoted() -> None:
    passed, details, _ = one("select range as id, 'x' as why from range(2500)")
    assert not passed
    assert details == "2500 failing rows; first: id=0, why=x; id=1, why=x; id=2, why=x"


def test_a_single_count_gets_a_hint() -> None:
    passed, details, _ = one("select count(*) from range(0)")
    assert not passed
    assert details is not None and "write `select count(*) = 0 ...`" in details


def test_templates_are_rendered_with_the_runs_values(tmp_path: Path) -> None:
    for day in DATES:
        (tmp_path / f"{day}.csv").write_text("n\n1\n2\n")
    sql = (
        "select count(*) = 4 from read_csv(["
        "'{param.dir}/{start_date}.csv', '{param.dir}/{end_date}.csv'])"
        " where '{pipeline_id}' = 'p' and '{run_id}' = 'run1' and '{dates}' <> ''"
    )
    check = {"name": "c", "sql": sql, "reads": ["{param.dir}/"]}
    model = pipeline([check], parameters={"dir": str(tmp_path)})
    (result,) = run_checks(model, DATES, "run1")
    assert result.passed, result.details


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("selec 1", "Parser Error: syntax error"),
        ("select * from read_csv('no/such/{date}.csv')", '"no/such/2026-01-01.csv"'),
        ("create table t (x int)", "the last statement is not a query"),
        ("select 1; selec 2", "Parser Error: syntax error"),
    ],
)
def test_a_check_that_cannot_run_is_a_failed_check(sql: str, message: str) -> None:
    passed, details, could_run = one(sql)
    assert (passed, could_run) == (False, False)
    assert details is not None and message in details


def test_a_check_that_runs_too_long_is_interrupted() -> None:
    model = pipeline([{"name": "slow", "sql": "select count(*) = 0 from range(10000000000)"}])
    (result,) = run_checks(model, DATES, "run1", timeout=0.2)
    assert (result.passed, result.could_run) == (False, False)
    assert result.details == "timed out after 0.2s and was interrupted"


def test_only_failing_fail_checks_fail_the_run() -> None:
    model = pipeline(
        [
            {"name": "ok", "sql": "select true"},
            {"name": "soft", "sql": "select false", "on_fail": "warn"},
            {"name": "hard", "sql": "select false", "on_fail": "fail"},
        ]
    )
    results = run_checks(model, DATES, "run1")
    assert [r.passed for r in results] == [True, False, False]
    outcome = outcome_of(results, __import__("datetime").datetime.now(), "x")
    assert not outcome.success
    assert outcome.error == "quality check hard failed: returned false"
    assert outcome_of(results[:2], __import__("datetime").datetime.now(), "x").success


SNOWFLAKE = {
    "platform": "snowflake",
    "trigger": {"account": "xy12345", "statement": "call x()"},
}


def snowflake_pipeline() -> AnyPipeline:
    return pipeline([{"name": "sf", "engine": "snowflake", "sql": "select count(*) > 0 from t"}],
                    **SNOWFLAKE)  # fmt: skip


def test_snowflake_without_an_adapter_is_a_clear_failed_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("reconciler.quality.snowflake_engine.find_adapter", lambda: None)
    (result,) = run_checks(snowflake_pipeline(), DATES, "run1")
    assert (result.passed, result.could_run) == (False, False)
    assert result.details is not None
    assert result.details.startswith("engine snowflake is not available in this build")


def test_snowflake_answers_are_read_as_text_cells() -> None:
    def answer(value: str) -> Any:
        def run(trigger: Any, sql: str, *, timeout: float, bindings: Any) -> Any:
            assert sql == "select count(*) > 0 from t" and trigger.account == "xy12345"
            return [("COUNT(*) > 0", "boolean")], [[value]]

        return run

    model = snowflake_pipeline()
    assert run_checks(model, DATES, "r", snowflake_query=answer("true"))[0].passed
    failed = run_checks(model, DATES, "r", snowflake_query=answer("false"))[0]
    assert (failed.passed, failed.details) == (False, "returned false")

    def refuse(trigger: Any, sql: str, *, timeout: float, bindings: Any) -> Any:
        raise PermanentError("HTTP 422: SQL compilation error: Object 'T' does not exist")

    broken = run_checks(model, DATES, "r", snowflake_query=refuse)[0]
    assert (broken.could_run, broken.details) == (
        False,
        "HTTP 422: SQL compilation error: Object 'T' does not exist",
    )


def test_snowflake_checks_need_a_snowflake_pipeline() -> None:
    model = pipeline([{"name": "sf", "engine": "snowflake", "sql": "select true"}])
    (result,) = run_checks(model, DATES, "r", snowflake_query=lambda *a, **k: ([], []))
    assert not result.could_run
    assert "runs on 'local'" in (result.details or "")


def test_verdict_reads_boolean_text_only_for_boolean_columns() -> None:
    assert verdict(
        QueryAnswer(columns=("x",), types=("text",), rows=(("true",),), row_count=1)
    ) == (
        False,
        "1 failing row; first: x=true (a check returns one boolean, or the rows that fail: "
        "a count is one failing row; write `select count(*) = 0 ...`)",
    )
