"""How a check's SQL template becomes SQL with bound parameters, edge by edge."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from reconciler.config.sql_binding import TemplateError, bind

DAY = {"date": "2026-01-01"}


def run(sql: str) -> object:
    bound = bind(sql, DAY, "duckdb")
    return duckdb.connect().execute(bound.sql, bound.named).fetchone()


def test_a_type_word_in_a_comment_never_types_the_next_string() -> None:
    bound = bind("select 1 -- by date\n'{date}'", DAY, "duckdb")
    assert bound.sql == "select 1 -- by date\n$date"
    bound = bind("select 1 /* as of date */ '{date}'", DAY, "duckdb")
    assert bound.sql == "select 1 /* as of date */ $date"
    # a type word that is code still makes a typed literal, across a plain newline too
    assert bind("select date\n'{date}'", DAY, "duckdb").sql == "select CAST($date AS date)"
    assert run("select 1 -- by date\n, '{date}'") == (1, "2026-01-01")


@pytest.mark.parametrize(
    "sql", ["select $$x {date}$$", "select $tag$ it's {date} $tag$", "select $a$ $$ {date}$a$"]
)
def test_a_placeholder_in_a_dollar_quoted_string_is_refused(sql: str) -> None:
    with pytest.raises(TemplateError, match=r"\{date\} is inside a dollar-quoted string"):
        bind(sql, DAY, "duckdb")


def test_tagged_dollar_quotes_and_e_strings_are_read_through() -> None:
    assert run("select $tag$ it's $tag$, '{date}'") == (" it's ", "2026-01-01")
    assert run("select E'it\\'s', '{date}'") == ("it's", "2026-01-01")
    assert run("select E'a\\'{date}\\n'") == ("a'2026-01-01\n",)


def test_dollar_parameters_are_not_dollar_quotes() -> None:
    bound = bind("select $x, '{date}', $1", DAY, "duckdb")
    assert bound.sql == "select $x, $date, $1"


@pytest.mark.parametrize("placeholder", ["{date:>20}", "{date!r}", "{date!s:10}"])
def test_format_specs_and_conversions_are_refused(placeholder: str) -> None:
    with pytest.raises(TemplateError, match="takes no format spec or conversion"):
        bind(f"select '{placeholder}'", DAY, "duckdb")


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
      sql: SQL
"""


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "select $$x {date}$$",
            "{date} is inside a dollar-quoted string ($$...$$)",
        ),
        (
            "select '{date:>20}'",
            "{date:>20}",  # (refused by the template check before the binder sees it)
        ),
        (
            "select * from {param.dir}",
            "the SQL does not parse once its placeholders are parameters (Parser Error: "
            'syntax error at or near "$"); a placeholder stands for a value, never for a '
            "table, column or other name",
        ),
    ],
)
def test_validation_reports_sql_that_cannot_bind_at_its_line(
    tmp_path: Path, sql: str, expected: str
) -> None:
    from click.testing import CliRunner

    from reconciler.cli import main

    path = tmp_path / "orders.yaml"
    path.write_text(BASE.replace("SQL", sql) + "parameters:\n  dir: data\n")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert f"{path}:11:12: quality.checks[0].sql: {expected}" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_validation_accepts_sql_that_parses(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from reconciler.cli import main

    path = tmp_path / "orders.yaml"
    path.write_text(BASE.replace("SQL", "\"select count(*) = 0 from t where d = date '{date}'\""))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
