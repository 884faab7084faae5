"""The PostgreSQL server of the tests: ``RECONCILER_TEST_POSTGRES``, one schema per test.

``RECONCILER_TEST_POSTGRES`` defaults to the local server at 127.0.0.1:5432 (database
``test``). Without a reachable server the tests are skipped, except in CI (``CI=true``), where
they fail: a suite that silently skipped its database would prove nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

ENV = "RECONCILER_TEST_POSTGRES"
# The server every developer and CI machine of this project runs; used when ENV is unset.
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL tests need a server in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The server's URL (a database the tests may create schemas in)."""
    url = os.environ.get(ENV) or DEFAULT_URL
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        _unavailable(f"PostgreSQL at {url} is not reachable: {exc}")
    return url


def with_schema(url: str, schema: str) -> str:
    """``url`` with ``search_path`` set to ``schema`` (as a user would write it)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A state URL of its own: a fresh schema, dropped after the test."""
    import psycopg

    from reconciler.state import postgres

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield with_schema(pg_server, schema)
    postgres.close_all()
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
