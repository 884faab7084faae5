"""Hypothesis strategies for valid pipeline files, as the dicts YAML would load them as."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from reconciler.config.checks import SECRET_KEYS
from reconciler.config.models import WEEKDAYS

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
RUN_PLACEHOLDERS = ["{date}", "{start_date}", "{end_date}", "{dates}", "{pipeline_id}", "{run_id}"]
EVENTS = ["failure", "sla_breach", "quality_failure", "backfill_complete", "success"]

# Any text YAML can carry, braces aside (templates are added on purpose below).
_CHARS = st.characters(
    blacklist_categories=("Cs",),  # surrogates cannot be encoded
    blacklist_characters="{}",
)
plain_text = st.text(_CHARS, max_size=30)
nonempty_text = st.text(_CHARS, min_size=1, max_size=30)
# names and reasons: one line, no control characters (they are printed in plans)
one_line_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="{}\u2028\u2029"),
    max_size=30,
)
LOWER = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"


def word(first: str, rest: str, max_size: int) -> st.SearchStrategy[str]:
    """``first`` then up to ``max_size`` of ``rest``: from_regex, but much faster."""
    return st.builds(
        lambda a, b: a + b,
        st.sampled_from(first),
        st.text(st.sampled_from(rest), max_size=max_size),
    )


identifier = word(LOWER, LOWER + DIGITS + "_", 15).filter(lambda s: s not in SECRET_KEYS)
env_name = word(LOWER.upper() + "_", LOWER.upper() + DIGITS + "_", 20)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
hhmm = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
email = st.builds(
    lambda user, host: f"{user}@{host}.example",
    word(LOWER, LOWER + DIGITS + ".", 10),
    word(LOWER, LOWER + DIGITS, 10),
)
https_url = st.builds(
    lambda host, path: f"https://{host}.example.com/{path}",
    word(LOWER + DIGITS, LOWER + DIGITS + "-", 12),
    st.text(st.sampled_from(LOWER + DIGITS + "/_.-"), max_size=20),
)
url = st.one_of(
    https_url,
    st.sampled_from(["http://127.0.0.1:8080/run", "http://localhost/x", "http://[::1]:9/"]),
)


def template(params: list[str]) -> st.SearchStrategy[str]:
    """Text with valid placeholders: run values and declared (or added) parameters."""
    names = RUN_PLACEHOLDERS + [f"{{param.{p}}}" for p in [*params, "run_date"]]
    piece = st.one_of(plain_text, st.sampled_from(names), st.just("{{literal}}"))
    return st.lists(piece, max_size=4).map("".join)


@st.composite
def schedules(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["daily", "weekly", "monthly"]))
    start = draw(dates)
    out: dict[str, Any] = {"type": kind, "start": start}
    if draw(st.booleans()):
        out["every"] = draw(st.integers(1, 12))
    if kind == "weekly" and draw(st.booleans()):
        out["days"] = draw(st.lists(st.sampled_from(WEEKDAYS), max_size=7, unique=True))
    if kind == "monthly" and draw(st.booleans()):
        day = st.one_of(st.integers(1, 31), st.integers(-31, -1))
        out["days"] = draw(st.lists(day, max_size=5))
    if draw(st.booleans()):
        out["end"] = start + timedelta(days=draw(st.integers(0, 4000)))
    if draw(st.booleans()):
        out["offset"] = draw(st.integers(0, 10))
    if draw(st.booleans()):
        out["at"] = draw(hhmm)
    if draw(st.booleans()):
        out["timezone"] = draw(st.sampled_from(ZONES))
    return out


unit = st.sampled_from(["second", "seconds", "minute", "minutes", "hour", "hours"])
retry_schedule = st.one_of(
    st.builds(lambda n, u: f"every {n} {u}", st.integers(1, 100), unit),
    st.builds(
        lambda n, m: f"exponential {n} seconds up to {n + m} seconds",
        st.integers(1, 100),
        st.integers(0, 10_000),
    ),
)


def json_values() -> st.SearchStrategy[Any]:
    """JSON-ish values for an http body: no nulls (``exclude_none`` drops them), no NaN."""
    leaves = st.one_of(
        st.booleans(),
        st.integers(-(10**12), 10**12),
        st.floats(allow_nan=False, allow_infinity=False),
        plain_text,
    )
    keys = identifier
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)
        ),
        max_leaves=8,
    )


@st.composite
def triggers(draw: st.DrawFn, platform: str, params: list[str]) -> dict[str, Any]:
    tpl = template(params)
    if platform == "local":
        out: dict[str, Any] = {"command": draw(st.lists(tpl, min_size=1, max_size=4))}
        if draw(st.booleans()):
            out["cwd"] = draw(plain_text)
        if draw(st.booleans()):
            out["timeout"] = draw(st.one_of(st.integers(1, 10**6), st.sampled_from(["30m", "2h"])))
        return out
    if platform == "databricks":
        return {"host": draw(https_url), "job_id": draw(st.integers(1, 10**12))}
    if platform == "dbt":
        out = {"account_id": draw(st.integers(1, 10**6)), "job_id": draw(st.integers(1, 10**6))}
        if draw(st.booleans()):
            out["steps"] = draw(st.lists(tpl, max_size=3))
        return out
    if platform == "snowflake":
        out = {
            "account": draw(word(LOWER + DIGITS, LOWER.upper() + LOWER + DIGITS + "._-", 19)),
            "statement": draw(nonempty_text),
        }
        for key in ("warehouse", "database", "schema", "role"):
            if draw(st.booleans()):
                out[key] = draw(plain_text)
        if draw(st.booleans()):
            out["token_type"] = draw(st.sampled_from(["KEYPAIR_JWT", "OAUTH"]))
        return out
    out = {"url": draw(url)}
    if draw(st.booleans()):
        out["method"] = draw(st.sampled_from(["POST", "PUT", "GET"]))
    if draw(st.booleans()):
        out["headers_env"] = draw(env_name)
    if draw(st.booleans()):
        values = st.one_of(json_values(), tpl)
        out["body"] = draw(st.dictionaries(identifier, values, max_size=4))
    if draw(st.booleans()):
        out["status_url"] = draw(url) + "{platform_run_id}"
    return out


@st.composite
def notifications(draw: st.DrawFn) -> dict[str, Any]:
    channel = draw(st.sampled_from(["slack", "webhook", "email", "stdout"]))
    out: dict[str, Any] = {"channel": channel}
    if channel in ("slack", "webhook"):
        out["url_env"] = draw(env_name)
    if channel == "webhook" and draw(st.booleans()):
        out["secret_env"] = draw(env_name)
    if channel == "email":
        out["smtp_host"] = draw(nonempty_text)
        out["from"] = draw(email)
        out["to"] = draw(st.lists(email, min_size=1, max_size=3))
        if draw(st.booleans()):
            out["smtp_port"] = draw(st.integers(1, 65535))
        if draw(st.booleans()):
            out["password_env"] = draw(env_name)
    if draw(st.booleans()):
        out["on"] = draw(st.lists(st.sampled_from(EVENTS), max_size=5))
    return out


@st.composite
def pipelines(draw: st.DrawFn) -> dict[str, Any]:
    """A valid pipeline file's data: every section optional, every platform."""
    names = draw(st.lists(identifier, max_size=4, unique=True))
    params: dict[str, str] = {}
    for i, name in enumerate(names):
        # a parameter may use the ones before it, never itself or later ones: no cycles
        params[name] = draw(template(names[:i]))
    platform = draw(st.sampled_from(["local", "databricks", "dbt", "snowflake", "http"]))
    out: dict[str, Any] = {
        "id": draw(word(LOWER, LOWER + DIGITS + "_", 63)),
        "platform": platform,
        "trigger": draw(triggers(platform, names)),
        "schedule": draw(schedules()),
    }
    if draw(st.booleans()):
        out["name"] = draw(one_line_text)
    if draw(st.booleans()):
        upstreams = draw(st.lists(word(LOWER, LOWER + DIGITS + "_", 20), max_size=3, unique=True))
        out["depends_on"] = [
            {
                "pipeline": upstream,
                "dates": draw(st.sampled_from(["period", "same", "latest"])),
                "offset": draw(st.integers(-366, 366)),
            }
            for upstream in upstreams
            if upstream != out["id"]
        ]
    if draw(st.booleans()):
        out["version"] = draw(st.one_of(one_line_text, st.integers(-(2**40), 2**40)))
    if draw(st.booleans()):
        out["batch"] = {"multi_date": draw(st.booleans()), "max_dates": draw(st.integers(1, 99))}
    if draw(st.booleans()):
        out["retry"] = {
            "enabled": draw(st.booleans()),
            "schedule": draw(retry_schedule),
            "max_retries": draw(st.integers(0, 10)),
        }
    if draw(st.booleans()):
        ids = draw(st.lists(word(LOWER + DIGITS, LOWER + DIGITS + "._-", 20), unique=True))
        requests = []
        for request_id in ids[:3]:
            start = draw(dates)
            request: dict[str, Any] = {
                "id": request_id,
                "from": start,
                "to": start + timedelta(days=draw(st.integers(0, 90))),
            }
            if draw(st.booleans()):
                request["priority"] = draw(st.integers(-100, 100))
            if draw(st.booleans()):
                request["reason"] = draw(one_line_text)
            requests.append(request)
        out["backfill"] = {
            "auto": draw(st.booleans()),
            "priority": draw(st.integers(-100, 100)),
            "order": draw(st.sampled_from(["oldest_first", "newest_first"])),
            "max_active_runs": draw(st.integers(1, 50)),
            "requests": requests,
            "refresh_on_upstream_change": draw(st.booleans()),
            "refresh_on_version_change": draw(st.booleans()),
        }
    if draw(st.booleans()):
        check_names = draw(st.lists(word(LOWER + "_", LOWER + DIGITS + "_.-", 20), unique=True))
        out["quality"] = {
            "checks": [
                {
                    "name": name,
                    "engine": draw(st.sampled_from(["duckdb", "snowflake"])),
                    # inside a string: validation parses a duckdb check's SQL
                    "sql": "select '" + draw(template(names)).replace("'", "''") + "'",
                    "on_fail": draw(st.sampled_from(["fail", "warn"])),
                }
                for name in check_names[:3]
            ]
        }
    if draw(st.booleans()):
        out["sla"] = {"time": draw(hhmm), "notify": draw(st.booleans())}
    if draw(st.booleans()):
        out["notifications"] = draw(st.lists(notifications(), max_size=3))
    if params:
        out["parameters"] = params
    return out
