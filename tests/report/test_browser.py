"""The report in a real browser: headless Chromium renders it, screenshots it, dumps its DOM.

Skipped only when no Chromium is installed (CI installs Debian's ``chromium``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_support import NOW, png_pixels, write_config, write_state

from reconciler.commands.report import report

pytestmark = pytest.mark.browser

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
# Okabe-Ito colours of covered, failed, retrying and in-flight cells
PALETTE = {"covered": (0, 114, 178), "failed": (213, 94, 0), "retrying": (230, 159, 0)}
PALETTE["in_flight"] = (86, 180, 233)


def find_chromium() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium found (apt-get install chromium); CI installs it")
    root = tmp_path_factory.mktemp("browser")
    write_config(root / "pipelines.d")
    write_state(root / "state.duckdb")
    out = root / "report.html"
    result = CliRunner().invoke(
        report,
        [
            *("--config-dir", str(root / "pipelines.d"), "--state", str(root / "state.duckdb")),
            *("--now", NOW.isoformat(), "--out", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    return chromium, out


def run_chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(profile)}  # nothing of the user's profile is touched
    return subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
    )


def test_screenshot_is_not_blank(page: tuple[str, Path], tmp_path: Path) -> None:
    chromium, html = page
    shot = tmp_path / "shot.png"
    done = run_chromium(
        chromium,
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1000,900",
        html.as_uri(),
    )
    assert shot.exists(), done.stderr[-2000:]
    width, height, rows = png_pixels(shot.read_bytes(), max_rows=900)
    assert (width, height) == (1000, 900)
    pixels: Counter[tuple[int, int, int]] = Counter()
    for row in rows[::2]:
        for i in range(0, len(row), 3 * 2):
            pixels[(row[i], row[i + 1], row[i + 2])] += 1
    total = sum(pixels.values())
    white = pixels[(255, 255, 255)]
    assert white < 0.97 * total, "the page is (almost) blank"
    assert len(pixels) > 20, "the page is a flat colour"

    def near(colour: tuple[int, int, int]) -> int:
        return sum(
            n
            for c, n in pixels.items()
            if all(abs(a - b) <= 8 for a, b in zip(c, colour, strict=True))
        )

    # the calendars are drawn: each state's own colour fills many pixels
    for state, colour in PALETTE.items():
        assert near(colour) > 30, f"no {state} cells visible"


def test_dom_has_one_calendar_per_pipeline(page: tuple[str, Path], tmp_path: Path) -> None:
    chromium, html = page
    done = run_chromium(chromium, tmp_path / "profile", "--dump-dom", html.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert dom.count('<svg class="calendar"') == 3
    for pid in ("alpha", "beta", "gamma"):
        assert f'data-pipeline="{pid}"' in dom
    assert "<script" not in dom
    # every scheduled date in view is a cell with a tooltip, as in the file itself
    assert dom.count("<title>") == html.read_text(encoding="utf-8").count("<title>")
