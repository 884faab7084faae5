"""Fixtures of the config tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from validate_support import Outcome, validate_text_factory


@pytest.fixture
def validate_text(tmp_path: Path) -> Callable[[str], tuple[Path, Outcome]]:
    """Write ``text`` to a pipeline file and validate it."""
    return validate_text_factory(tmp_path)
