"""The store contract suite (``tests/state/test_store_contract.py``) on PostgreSQL.

The suite's tests run here unchanged with the ``store`` fixture made over a fresh
PostgreSQL schema instead of a DuckDB file.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from reconciler.state.postgres_store import PostgresStore
from reconciler.state.store import Store

_PATH = Path(__file__).parents[1] / "state" / "test_store_contract.py"
_spec = importlib.util.spec_from_file_location("store_contract_for_pg", _PATH)
assert _spec is not None and _spec.loader is not None
contract = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = contract
_spec.loader.exec_module(contract)

globals().update({k: v for k, v in vars(contract).items() if k.startswith("test_")})


@pytest.fixture
def store(pg_url: str) -> Store:
    made = PostgresStore(pg_url)
    with made.write() as w:
        w.sync_pipelines(
            [(contract.pipeline_row("p"), {"target": "x/{date}"})],
            contract.NOW - timedelta(days=30),
        )
    return made
