"""The store contract suite (``tests/state/test_store_contract.py``) on PostgreSQL.

The suite's tests run here unchanged with the ``store`` fixture made over a fresh
PostgreSQL schema instead of a DuckDB file.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pg_helpers import suite_of, suite_tests

from reconciler.state.postgres_store import PostgresStore
from reconciler.state.store import Store

contract = suite_of("test_store_contract")
globals().update(suite_tests(contract))


@pytest.fixture
def store(pg_url: str) -> Store:
    made = PostgresStore(pg_url)
    with made.write() as w:
        w.sync_pipelines(
            [(contract.pipeline_row("p"), {"target": "x/{date}"})],
            contract.NOW - timedelta(days=30),
        )
    return made
