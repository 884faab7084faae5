"""Which environment variables each pipeline needs, and where a missing one is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config.env_secrets import blocked_pipelines, env_problems
from reconciler.config.loading import LoadedPipeline, load_config
from reconciler.errors import PermanentError
from reconciler.platforms.http_client import secret_from_env

SCHEDULE = "schedule:\n  type: daily\n  start: 2026-01-01\n"
FILES = {
    "loc": "id: loc\nplatform: local\ntrigger:\n  command: [run]\n" + SCHEDULE,
    "dbx": "id: dbx\nplatform: databricks\ntrigger:\n  host: https://x.example\n"
    "  job_id: 1\n" + SCHEDULE,
    "dbt": "id: dbt\nplatform: dbt\ntrigger:\n  account_id: 1\n  job_id: 2\n"
    "  token_env: T_DBT\n" + SCHEDULE,
    "snow": "id: snow\nplatform: snowflake\ntrigger:\n  account: acme\n"
    "  statement: select 1\n  token_env: T_SNOW\n" + SCHEDULE,
    "hook": "id: hook\nplatform: http\ntrigger:\n  url: https://h.example/x\n"
    "  headers_env: T_HOOK\n" + SCHEDULE,
    "bare_hook": "id: bare_hook\nplatform: http\ntrigger:\n  url: https://h.example/x\n" + SCHEDULE,
    "mail": "id: mail\nplatform: local\ntrigger:\n  command: [run]\n"
    + SCHEDULE
    + "notifications:\n  - channel: webhook\n    url_env: N_URL\n    secret_env: N_SIG\n"
    "  - channel: email\n    smtp_host: smtp.example.com\n    username_env: N_USER\n"
    "    password_env: N_PASS\n    from: a@example.com\n    to: [b@example.com]\n",
}


@pytest.fixture
def loaded(tmp_path: Path) -> list[LoadedPipeline]:
    for name, text in FILES.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    return sorted(load_config(tmp_path), key=lambda p: p.id)


def test_each_platform_needs_its_trigger_variable(loaded: list[LoadedPipeline]) -> None:
    found = {(p.pipeline_id, p.field, p.variable, p.blocking) for p in env_problems(loaded, {})}
    assert found == {
        ("dbx", "trigger.token_env", "DATABRICKS_TOKEN", True),
        ("dbt", "trigger.token_env", "T_DBT", True),
        ("snow", "trigger.token_env", "T_SNOW", True),
        ("hook", "trigger.headers_env", "T_HOOK", True),
        ("mail", "notifications[0].url_env", "N_URL", False),
        ("mail", "notifications[0].secret_env", "N_SIG", False),
        ("mail", "notifications[1].username_env", "N_USER", False),
        ("mail", "notifications[1].password_env", "N_PASS", False),
    }
    assert blocked_pipelines(env_problems(loaded, {})) == {"dbx", "dbt", "snow", "hook"}


def test_set_variables_are_no_problem_and_blanks_are(loaded: list[LoadedPipeline]) -> None:
    env = dict.fromkeys(["DATABRICKS_TOKEN", "T_DBT", "T_SNOW", "T_HOOK", "N_URL"], "v")
    env |= {"N_SIG": "s", "N_USER": "u", "N_PASS": " \t"}
    assert [(p.pipeline_id, p.variable) for p in env_problems(loaded, env)] == [("mail", "N_PASS")]


def test_position_is_the_key_or_for_a_default_its_section(loaded: list[LoadedPipeline]) -> None:
    by_var = {p.variable: p for p in env_problems(loaded, {})}
    written = by_var["T_DBT"]
    assert (written.file.endswith("dbt.yaml"), written.line, written.col) == (True, 6, 3)
    default = by_var["DATABRICKS_TOKEN"]  # not written: the `trigger:` key
    assert (default.line, default.col) == (3, 1)
    password = by_var["N_PASS"]
    assert (password.line, password.col) == (15, 5)
    assert str(password).endswith(
        "pipeline mail: notifications[1].password_env: environment variable N_PASS is not "
        "set (it should hold an SMTP password)"
    )


def test_the_adapters_say_it_in_the_same_words(loaded: list[LoadedPipeline]) -> None:
    [problem] = [p for p in env_problems(loaded, {}) if p.variable == "T_SNOW"]
    with pytest.raises(PermanentError) as raised:
        secret_from_env("T_SNOW", "a Snowflake token", {})
    assert str(raised.value) == problem.message
