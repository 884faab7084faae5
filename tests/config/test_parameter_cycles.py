"""The parameter-circle check: right answers, and work that grows with the file, not faster.

Work is counted in executed lines of ``reconciler/config`` (a deterministic measure,
unlike a stopwatch); timings at 10,000 parameters are in benchmarks/validate_bench.py.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import reconciler.config
from reconciler.config.checks import _parameter_cycles
from reconciler.config.loading import load_files

CONFIG_CODE = str(Path(reconciler.config.__file__).parent)
HEAD = """\
id: many
platform: local
trigger: {command: [run, "{param.p0}"]}
schedule: {type: daily, start: 2026-01-01}
parameters:
"""


class OverBudget(Exception):
    pass


def executed_lines(work: Callable[[], Any], budget: int) -> int:
    """Lines of ``reconciler/config`` that ``work()`` executes; stops past ``budget``."""
    count = 0

    def line(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
            if count > budget:
                raise OverBudget(f"more than {budget} lines")
        return line

    def call(frame: FrameType, event: str, arg: Any) -> Any:
        return line if frame.f_code.co_filename.startswith(CONFIG_CODE) else None

    sys.settrace(call)
    try:
        work()
    finally:
        sys.settrace(None)
    return count


def fanning(count: int) -> dict[str, str]:
    """Each parameter uses the two before it: 2^count paths, no circle."""
    return {
        f"p{i}": "/".join(f"{{param.p{j}}}" for j in range(max(0, i - 2), i)) or "base"
        for i in range(count)
    }


def chain_file(tmp_path: Path, params: dict[str, str]) -> Path:
    path = tmp_path / "many.yaml"
    lines = [f'  {name}: "{value}"' for name, value in params.items()]
    path.write_text(HEAD + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_36_fanning_parameters_validate_within_a_small_budget(tmp_path: Path) -> None:
    # 36 parameters, 1.3 KB: a search along every path never finishes
    path = chain_file(tmp_path, fanning(36))
    result: list[Any] = []
    lines = executed_lines(lambda: result.append(load_files([path])), budget=200_000)
    loaded, problems = result[0]
    assert problems == [] and [p.id for p in loaded] == ["many"]
    assert lines < 200_000


@pytest.mark.parametrize("shape", ["fanning", "ring"])
def test_the_circle_check_grows_linearly(shape: str) -> None:
    def params(count: int) -> dict[str, str]:
        if shape == "fanning":
            return fanning(count)
        return {
            f"p{i}": f"{{param.p{(i + 1) % count}}}/{{param.p{(i + 7) % count}}}"
            for i in range(count)
        }

    small, large = (
        executed_lines(lambda n=n: list(_parameter_cycles(params(n))), budget=10**7)
        for n in (1_000, 4_000)
    )
    # four times the parameters: about four times the work (a square would be 16)
    assert large < 5 * small


def test_every_parameter_on_a_circle_is_named_once() -> None:
    found = dict(
        _parameter_cycles(
            {
                "a": "{param.b}/x",
                "b": "{param.a}/y",
                "c": "{param.c}",
                "d": "{param.a}/{param.e}",
                "e": "z",
            }
        )
    )
    assert found == {
        ("parameters", "a"): "parameters refer to each other in a circle: a -> b -> a",
        ("parameters", "b"): "parameters refer to each other in a circle: b -> a -> b",
        ("parameters", "c"): "parameters refer to each other in a circle: c -> c",
    }


def test_a_ring_of_10000_parameters_is_reported_briefly() -> None:
    count = 10_000
    ring = {f"p{i}": f"{{param.p{(i + 1) % count}}}" for i in range(count)}
    found = list(_parameter_cycles(ring))
    assert len(found) == count
    path, message = found[0]
    assert path == ("parameters", "p0")
    assert message.startswith("parameters refer to each other in a circle: p0 -> p1 -> ... -> p0")
    assert "one of 10000 parameters" in message and len(message) < 200
