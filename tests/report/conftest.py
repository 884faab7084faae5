"""The ``browser`` marker: tests that drive a real headless Chromium (CI installs it)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: opens pages in headless Chromium; skipped only if none is installed"
    )
