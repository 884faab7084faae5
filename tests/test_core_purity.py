"""reconciler/core is pure: no I/O libraries, no config or state layers, no reading the clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1] / "reconciler" / "core"
MODULES = sorted(CORE.glob("*.py"))
FORBIDDEN = (
    "duckdb",
    "httpx",
    "click",
    "yaml",
    "pydantic",
    "pydantic_core",
    "subprocess",
    "socket",
    "requests",
    "urllib.request",
    "reconciler.clock",
    "reconciler.cli",
    "reconciler.state",
    "reconciler.platforms",
    "reconciler.config",
    "reconciler.reconcile.apply_pass",
    "reconciler.notify",
)
# "now" is passed in, never read (docs/architecture.md, Time)
CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "localtime"),
    ("time", "gmtime"),
}


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def imports(tree: ast.AST, module: str) -> list[str]:
    """Absolute names of everything a module imports, at any depth (lazy imports too)."""
    package = module.rsplit(".", 1)[0]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names.append(target)
            names += [f"{target}.{alias.name}" for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "__import__"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.append(str(node.args[0].value))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
        ):
            names.append("importlib.import_module")
    return names


def clock_calls(tree: ast.AST) -> list[str]:
    """Calls such as ``datetime.now()``, ``date.today()``, ``time.time()``, however spelt."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = (
                owner.id
                if isinstance(owner, ast.Name)
                else owner.attr
                if isinstance(owner, ast.Attribute)
                else ""
            )
            if (owner_name, node.func.attr) in CLOCK_CALLS:
                found.append(f"line {node.lineno}: {owner_name}.{node.func.attr}()")
    for node in ast.walk(tree):
        # ``from time import time`` / ``from datetime import datetime as dt`` then dt.now()
        if isinstance(node, ast.ImportFrom) and node.module == "time":
            found += [f"line {node.lineno}: from time import {a.name}" for a in node.names]
    return found


def test_there_are_core_modules() -> None:
    assert len(MODULES) >= 3


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_core_module_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = f"reconciler.core.{path.stem}"
    bad = sorted({name for name in imports(tree, module) if _forbidden(name)})
    assert bad == [], f"{path.name} imports {bad}"
    assert "importlib.import_module" not in imports(tree, module)
    assert clock_calls(tree) == []


def test_the_checker_catches_what_it_should() -> None:
    source = (
        "import yaml\n"
        "from ..config import models\n"
        "from reconciler.state.store import X\n"
        "def f():\n"
        "    import duckdb\n"
        "    from datetime import datetime\n"
        "    return datetime.now(), date.today(), time.time()\n"
    )
    tree = ast.parse(source)
    names = [n for n in imports(tree, "reconciler.core.x") if _forbidden(n)]
    assert {"yaml", "reconciler.config", "reconciler.state.store", "duckdb"} <= set(names)
    assert len(clock_calls(tree)) == 3
