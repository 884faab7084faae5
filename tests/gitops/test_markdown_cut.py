"""Markdown for pull requests stays under GitHub's comment limit, and says what it left out."""

from __future__ import annotations

from pathlib import Path

from reconciler.github.comment import GITHUB_LIMIT, MARKER
from reconciler.render.plan_markdown import LIMIT
from tests.gitops.helpers import NOW, invoke, pipeline

EVERY_OTHER_DAY = "  every: 2\n"


def test_a_huge_comparison_is_cut_to_fit(tmp_path: Path) -> None:
    base, head = tmp_path / "base", tmp_path / "head"
    for i in range(400):
        pid = f"pipeline_{i:03d}_with_a_rather_long_name"
        pipeline(base, pid, "2024-01-01", schedule=EVERY_OTHER_DAY)
        # each moved back by its own amount, with its own reason, so nothing compresses
        pipeline(head, pid, f"2023-{1 + i % 12:02d}-{1 + i % 27:02d}", schedule=EVERY_OTHER_DAY)
    result = invoke(
        [
            "plan",
            "--config-dir",
            str(head),
            "--state",
            str(tmp_path / "s.db"),
            "--now",
            NOW,
            "--compare-to",
            str(base),
            "--format",
            "markdown",
        ]
    )
    assert result.exit_code == 0
    text = result.output
    assert len(text) <= LIMIT < GITHUB_LIMIT
    assert text.startswith(MARKER)
    assert "#### What this change does" in text
    assert "> **Cut to fit:** left out" in text and "line(s) of the comparison" in text
    # the plan's own sections still have room after the comparison
    assert "| pipeline | run | retry | backfill |" in text
    assert text.count("<details>") == text.count("</details>")


def test_a_small_comparison_is_whole(tmp_path: Path) -> None:
    base, head = tmp_path / "base", tmp_path / "head"
    pipeline(base, "orders_daily", "2024-01-01")
    pipeline(head, "orders_daily", "2023-01-01")
    result = invoke(
        [
            "plan",
            "--config-dir",
            str(head),
            "--state",
            str(tmp_path / "s.db"),
            "--now",
            NOW,
            "--compare-to",
            str(base),
            "--format",
            "markdown",
        ]
    )
    assert "Cut to fit" not in result.output
