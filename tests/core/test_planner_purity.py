"""The planner is pure: ``reconciler.core`` imports only the standard library and itself."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "reconciler" / "core"
FORBIDDEN = ("duckdb", "httpx", "click", "yaml", "pydantic", "jsonschema")


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_core_modules_import_stdlib_and_core_only(path: Path) -> None:
    for name in imported(path):
        top = name.split(".")[0]
        if top == "reconciler":
            assert name.startswith("reconciler.core"), f"{path.name} imports {name}"
        else:
            assert top in sys.stdlib_module_names or top == "__future__", f"{path.name}: {name}"


def test_importing_the_core_loads_no_io_library() -> None:
    modules = [f"reconciler.core.{p.stem}" for p in sorted(CORE.glob("*.py"))]
    code = (
        f"import sys\nimport {', '.join(modules)}\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}"
        " or m in ('reconciler.clock', 'reconciler.state')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
