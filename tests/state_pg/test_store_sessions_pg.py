"""The store session tests (``tests/state/test_store_sessions.py``) on PostgreSQL: the
same tests, with ``fresh_store`` over a new, empty schema."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from reconciler.state.postgres_store import PostgresStore
from reconciler.state.store import Store

_PATH = Path(__file__).parents[1] / "state" / "test_store_sessions.py"
_spec = importlib.util.spec_from_file_location("store_sessions_for_pg", _PATH)
assert _spec is not None and _spec.loader is not None
sessions = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = sessions
_spec.loader.exec_module(sessions)

globals().update({k: v for k, v in vars(sessions).items() if k.startswith("test_")})


@pytest.fixture
def fresh_store(pg_url: str) -> Store:
    return PostgresStore(pg_url)
