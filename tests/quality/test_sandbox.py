"""Check SQL gets the run's values as bound parameters and reads only what it declares."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from reconciler.config.models import PIPELINE_ADAPTER, AnyPipeline
from reconciler.config.sql_binding import bind
from reconciler.core.check_results import CheckResult
from reconciler.quality.runner import run_checks

DATES = (date(2026, 1, 1), date(2026, 1, 2))
INJECTION = "us' or true or 'x"


def run_one(sql: str, parameters: dict[str, str] | None = None, **check: Any) -> CheckResult:
    data: dict[str, Any] = {
        "id": "p",
        "platform": "local",
        "trigger": {"command": ["true"]},
        "schedule": {"type": "daily", "start": "2026-01-01"},
        "quality": {"checks": [{"name": "c", "sql": sql, **check}]},
        "parameters": parameters or {},
    }
    model: AnyPipeline = PIPELINE_ADAPTER.validate_python(data)
    (result,) = run_checks(model, DATES, "run1")
    return result


@pytest.mark.parametrize(
    "sql",
    [
        "select '{param.region}' = 'us'",
        "select {param.region} = 'us'",
        "select 'x-{param.region}-y' = 'x-us-y'",
        "select count(*) = 0 from (select 1) where '{param.region}' <> 'us'",
    ],
)
def test_a_parameter_value_cannot_change_the_query(sql: str) -> None:
    result = run_one(sql, {"region": INJECTION})
    assert result.could_run, result.details
    assert not result.passed  # the value is a value: it is not 'us', whatever it says
    assert run_one(sql, {"region": "us"}).passed


def test_typed_literals_and_quotes_keep_working() -> None:
    sql = (
        "select date_diff('day', date '{start_date}', date '{end_date}') = 1"
        " and '{dates}' = '2026-01-01,2026-01-02' and 'it''s {{literal}}' = 'it''s {{literal}}'"
        " and interval '{param.n} days' = interval 3 days -- {date}"
    )
    result = run_one(sql, {"n": "3"})
    assert result.passed, result.details


def test_the_sql_carries_parameters_never_values() -> None:
    bound = bind(
        "select count(*) from read_csv('{param.dir}/{date}.csv') where x = date '{date}'",
        {"param.dir": INJECTION, "date": "2026-01-01"},
        "duckdb",
    )
    assert bound.sql == (
        "select count(*) from read_csv(($param_dir || '/' || $date || '.csv'))"
        " where x = CAST($date AS date)"
    )
    assert bound.named == {"param_dir": INJECTION, "date": "2026-01-01"}
    snow = bind("select '{date}' = ?x", {"date": "2026-01-01"}, "snowflake")
    assert (snow.sql, snow.positional) == ("select ? = ?x", ("2026-01-01",))


def test_a_placeholder_in_a_quoted_identifier_is_refused() -> None:
    result = run_one('select 1 as "{date}"')
    assert (result.passed, result.could_run) == (False, False)
    assert "inside a double-quoted identifier" in (result.details or "")


def test_a_check_reads_only_what_it_declares(tmp_path: Path) -> None:
    data, other = tmp_path / "data", tmp_path / "other"
    data.mkdir()
    other.mkdir()
    for folder in (data, other):
        (folder / "2026-01-01.csv").write_text("n\n1\n")
    sql = "select count(*) = 1 from read_csv('{param.dir}/{date}.csv')"
    ok = run_one(sql, {"dir": str(data)}, reads=["{param.dir}/"])
    assert ok.passed, ok.details
    for reads in ([], [str(data) + "/"], [str(data / "2026-01-02.csv")]):
        refused = run_one(sql, {"dir": str(other)}, reads=reads)
        assert (refused.passed, refused.could_run) == (False, False)
        assert refused.details is not None
        assert refused.details.startswith("Permission Error: Cannot access file")
        assert refused.details.endswith("a check reads only the paths listed in its `reads`")
    one_file = run_one(sql, {"dir": str(other)}, reads=[str(other / "2026-01-01.csv")])
    assert one_file.passed, one_file.details
    escape = run_one(
        "select count(*) = 1 from read_csv('{param.dir}/../other/2026-01-01.csv')",
        {"dir": str(data)},
        reads=["{param.dir}/"],
    )
    assert not escape.could_run and "Permission Error" in (escape.details or "")
    (data / "2026-01-02.csv").symlink_to(other / "2026-01-01.csv")  # a link out is refused
    linked = run_one(
        "select count(*) = 1 from read_csv('{param.dir}/2026-01-02.csv')",
        {"dir": str(data)},
        reads=["{param.dir}/"],
    )
    assert not linked.could_run and "Permission Error" in (linked.details or "")


LOCKED = "Invalid Input Error: Cannot change configuration option"


@pytest.mark.parametrize(
    ("before", "refusal"),
    [
        ("copy (select 42) to 'DIR/out.csv'", "COPY statements are not allowed"),
        ("copy (select 42) to '{param.dir}/out.csv'", "COPY statements are not allowed"),
        ("export database 'DIR/db'", "EXPORT statements are not allowed"),
        ("attach 'DIR/x.duckdb' as x", "ATTACH statements are not allowed"),
        ("install httpfs", "LOAD statements are not allowed"),
        ("pragma enable_profiling", "PRAGMA statements are not allowed"),
        ("set enable_external_access = true", LOCKED),
        ("set allowed_directories = ['/']", LOCKED),
        ("reset allowed_paths", LOCKED),
    ],
)
def test_a_check_never_writes_or_widens_its_access(
    tmp_path: Path, before: str, refusal: str
) -> None:
    sql = before.replace("DIR", str(tmp_path)) + "; select true"
    result = run_one(sql, {"dir": str(tmp_path)}, reads=["{param.dir}/"])
    assert (result.passed, result.could_run) == (False, False)
    assert result.details is not None and result.details.startswith(refusal), result.details
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "sql",
    [
        "create secret s (type s3, key_id 'a', secret 'b'); select true",
        "-- keys\nCREATE OR REPLACE PERSISTENT SECRET (type s3); select true",
        "drop temporary secret if exists s; select true",
        "select true; create secret s (type s3)",
    ],
)
def test_secrets_are_refused_with_their_own_message(sql: str) -> None:
    result = run_one(sql)
    assert (result.passed, result.could_run) == (False, False)
    assert (result.details or "").startswith("CREATE SECRET and DROP SECRET are not allowed")


def test_secrets_can_be_listed_without_touching_the_home_directory() -> None:
    result = run_one("select count(*) = 0 from duckdb_secrets()")
    assert result.passed, result.details
    assert run_one("create table secret as select 1 as n; select n = 1 from secret").passed


def test_in_memory_work_before_the_query_is_allowed() -> None:
    sql = (
        "create macro twice(x) as x * 2; create table t as select 21 as n;"
        " set variable d = '{date}'; select twice(n) = 42 and getvariable('d') = '2026-01-01'"
        " from t"
    )
    result = run_one(sql)
    assert result.passed, result.details


def test_settings_are_locked_even_through_functions() -> None:
    # the configuration is locked, so nothing in a query can widen the sandbox
    result = run_one("select * from duckdb_settings() where name = 'lock_configuration'"
                     " and value <> 'true'")  # fmt: skip
    assert result.passed, result.details


BASE = """\
id: orders
platform: local
trigger:
  command: [python, job.py]
schedule:
  type: daily
  start: 2026-01-01
quality:
  checks:
    - name: rows
      sql: select true
"""


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "      reads: [data/*.csv]\n",
            ":12:15: quality.checks[0].reads[0]: 'data/*.csv' is a pattern; reads takes "
            "directories and files (declare the directory: data/)",
        ),
        (
            "      reads: ['{day}/']\n",
            ":12:15: quality.checks[0].reads[0]: unknown placeholder {day}",
        ),
        (
            "      engine: snowflake\n      reads: [data/]\n",
            ":13:14: quality.checks[0].reads: only duckdb checks read local files; remove reads",
        ),
    ],
)
def test_reads_are_validated(tmp_path: Path, extra: str, expected: str) -> None:
    from click.testing import CliRunner

    from reconciler.cli import main

    path = tmp_path / "orders.yaml"
    path.write_text(BASE + extra)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}{expected}" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_placeholder_naming_a_column_fails_validation(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from reconciler.cli import main

    path = tmp_path / "orders.yaml"
    path.write_text(BASE.replace("sql: select true", "sql: 'select 1 as \"{date}\"'"))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert (
        f"{path}:11:12: quality.checks[0].sql: {{date}} is inside a double-quoted identifier"
        in result.stderr
    ), result.stderr
