"""The store session tests (``tests/state/test_store_sessions.py``) on PostgreSQL: the
same tests, with ``fresh_store`` over a new, empty schema."""

from __future__ import annotations

import pytest
from pg_helpers import suite_of, suite_tests

from reconciler.state.postgres_store import PostgresStore
from reconciler.state.store import Store

sessions = suite_of("test_store_sessions")
globals().update(suite_tests(sessions))


@pytest.fixture
def fresh_store(pg_url: str) -> Store:
    return PostgresStore(pg_url)
