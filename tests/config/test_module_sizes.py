"""The config package stays in small modules, each saying its job, imports unchanged."""

from __future__ import annotations

import ast
from pathlib import Path

import reconciler.config

LIMIT = 400
PACKAGE = Path(reconciler.config.__file__).parent


def test_every_config_module_is_small_and_says_its_job() -> None:
    for module in sorted(PACKAGE.glob("*.py")):
        text = module.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= LIMIT, f"{module.name} is over {LIMIT} lines"
        assert ast.get_docstring(ast.parse(text)), f"{module.name} has no docstring"


def test_the_quality_models_are_importable_from_both_modules() -> None:
    from reconciler.config import models, quality_models

    assert models.QualityCheckModel is quality_models.QualityCheckModel
    assert models.QualityModel is quality_models.QualityModel
    check = models.QualityCheckModel(name="c", sql="select true", reads=["data/"])
    assert models.PIPELINE_ADAPTER.validate_python(
        {
            "id": "p",
            "platform": "local",
            "trigger": {"command": ["true"]},
            "schedule": {"type": "daily", "start": "2026-01-01"},
            "quality": {"checks": [check.model_dump()]},
        }
    ).quality.checks == [check]
