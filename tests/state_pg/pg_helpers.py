"""Local pipelines and table snapshots for the PostgreSQL state tests."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from reconciler.state.connection import reading
from reconciler.state.summary import state_tables

OK = [sys.executable, "-c", "pass"]
FAIL = [sys.executable, "-c", "import sys; sys.exit('boom: ' + sys.argv[1])", "{date}"]


def write_pipeline(config_dir: Path, pid: str, command: list[str], **sections: Any) -> None:
    """A local daily pipeline from 2026-01-01 (JSON is YAML); ``sections`` override."""
    config_dir.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "id": pid,
        "platform": "local",
        "trigger": {"command": command},
        "schedule": {"type": "daily", "start": "2026-01-01"},
        **sections,
    }
    (config_dir / f"{pid}.yaml").write_text(json.dumps(data, indent=2), encoding="utf-8")


def snapshot(location: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted (``schema_version`` and ``locks`` left out)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with reading(location) as conn:
        for table in state_tables(conn):
            if table in ("schema_version", "locks"):
                continue
            rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            out[table] = sorted((tuple(r) for r in rows), key=repr)
    return out


def suite_of(name: str) -> Any:
    """The module ``tests/state/<name>.py``, loaded under another name, so that a
    PostgreSQL test file can run its tests with its own fixtures."""
    import importlib.util

    path = Path(__file__).parents[1] / "state" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_for_pg", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def suite_tests(module: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(module).items() if k.startswith("test_")}
