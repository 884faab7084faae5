"""Modules load what they use when they use it, and each one still imports on its own.

Names used only in annotations are imported under ``TYPE_CHECKING``; these tests catch
one that is used at run time after all (a ``NameError`` when its module is imported
alone), and a pass with nothing to say loading the models or the HTTP client again.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import reconciler

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(reconciler.__path__, "reconciler.")
    if not m.ispkg and m.name != "reconciler.__main__"  # (it runs the CLI)
)


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    # one interpreter per module would take a minute: each module is imported first
    # in a child of its own, forked from an interpreter that has imported nothing yet
    code = textwrap.dedent(
        """
        import importlib, os, sys
        failed = []
        for name in sys.argv[1:]:
            pid = os.fork()
            if pid == 0:
                try:
                    importlib.import_module(name)
                except BaseException as exc:
                    print(f"{name}: {type(exc).__name__}: {exc}", flush=True)
                    os._exit(1)
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            if status:
                failed.append(name)
        sys.exit(1 if failed else 0)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *MODULES], capture_output=True, text=True, timeout=300
    )
    assert len(MODULES) > 80
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_local_pass_with_nothing_to_say_loads_no_models_or_http_client(
    tmp_path: Path,
) -> None:
    config = tmp_path / "pipelines.d"
    config.mkdir()
    (config / "p.yaml").write_text(
        "id: p\nplatform: local\ntrigger:\n  command: ['true']\n"
        "schedule:\n  type: daily\n  start: 2026-01-01\n"
    )
    state = tmp_path / "state.duckdb"
    args = ["--config-dir", str(config), "--state", str(state), "--now", "2026-01-03T12:00:00"]
    # the first pass runs the missed dates and fills the config cache
    first = subprocess.run(
        [sys.executable, "-m", "reconciler", "apply", "--wait", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    assert "3 run(s) started" in first.stdout
    code = textwrap.dedent(
        f"""
        import sys
        from reconciler.cli import main
        try:
            main(["apply", *{args!r}])
        except SystemExit as exc:
            assert not exc.code, exc.code
        print(sorted({{m.split(".")[0] for m in sys.modules}} & {{"pydantic", "httpx"}}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "0 run(s) started" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"
