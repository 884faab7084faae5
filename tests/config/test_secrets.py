"""Literal secrets: every shape is caught, and the quick text pre-check never hides one."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_strategies import pipelines

from reconciler.config.checks import SECRET_KEYS, may_hold_secrets, secret_problems
from reconciler.config.yaml_source import parse_yaml

SAMPLES = {
    "a Databricks token": "dapi0123456789abcdef0123456789abcdef",
    "a Slack token": "xoxb-1234567890-abcdefghij",
    "a Slack webhook URL": "https://hooks.slack.com/services/T000/B000/XXXX",
    "a GitHub token": "ghp_" + "a" * 36,
    "a private key": "-----BEGIN RSA PRIVATE KEY-----",
    "an AWS access key": "AKIAABCDEFGHIJKLMNOP",
    "a bearer token": "Bearer abcdefghijklmnopqrstuvwxyz",
    "a credential in a URL query": "https://api.example.com/run?api_key=abcdefgh1234",
}


@pytest.mark.parametrize("what, value", SAMPLES.items(), ids=list(SAMPLES))
def test_secret_shapes_are_found(what: str, value: str) -> None:
    raw = {"parameters": {"x": value}}
    assert [(path, what in message) for path, message in secret_problems(raw)] == [
        (("parameters", "x"), True)
    ]
    assert may_hold_secrets(yaml.safe_dump(raw))
    assert may_hold_secrets(yaml.safe_dump(raw).upper())


@pytest.mark.parametrize("key", [*SECRET_KEYS, "Token", "PASSWORD"])
def test_secret_keys_are_found(key: str) -> None:
    raw = {"trigger": {key: "x"}}
    problems = secret_problems(raw)
    assert [path for path, _ in problems] == [("trigger", key)]
    assert SECRET_KEYS[key.lower()] in problems[0][1]
    assert may_hold_secrets(yaml.safe_dump(raw))


def test_notification_url_is_a_secret_but_trigger_url_is_not() -> None:
    raw = {"notifications": [{"url": "https://x.example"}], "trigger": {"url": "https://x"}}
    assert [path for path, _ in secret_problems(raw)] == [("notifications", 0, "url")]


@pytest.mark.parametrize(
    "text",
    [
        "token_env: X\nurl_env: Y\nstatus_url: https://x\nsecret_env: Z\n",
        "password_env: SMTP_PASSWORD\nsql: select a = b\n",
    ],
)
def test_files_without_secrets_skip_the_scan(text: str) -> None:
    assert not may_hold_secrets(text)


def test_escapes_always_scan() -> None:
    assert may_hold_secrets('x: "\\x64api0123"\n')


@st.composite
def with_secret(draw: st.DrawFn) -> dict[str, Any]:
    raw = draw(pipelines())
    if draw(st.booleans()):
        value = draw(st.sampled_from(list(SAMPLES.values())))
        where = draw(st.sampled_from(["name", "parameters", "trigger", "schedule"]))
        casing = draw(st.sampled_from([str, str.upper, str.lower]))
        key = casing(draw(st.sampled_from([*SECRET_KEYS, "note"])))
        target = raw.setdefault(where, {}) if where != "name" else None
        if isinstance(target, dict):
            target[key] = value
        else:
            raw["name"] = value
    return raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(with_secret())
def test_pre_check_never_hides_a_secret(raw: dict[str, Any]) -> None:
    text = yaml.safe_dump(raw, allow_unicode=True)
    if secret_problems(parse_yaml(text).data):
        assert may_hold_secrets(text)
