"""Which platform adapters a pass can use: the one place apply learns about platforms."""

from __future__ import annotations

from pathlib import Path

from reconciler.platforms.base import Platform
from reconciler.platforms.local import LocalPlatform


def runs_dir_for(state_path: str) -> Path:
    """Where local runs keep their status files: beside the state file."""
    p = Path(state_path)
    return p.parent / f"{p.stem}-runs"


def build_platforms(state_path: str, clock_offset: float) -> dict[str, Platform]:
    """Adapters by platform name; ``clock_offset`` keeps recorded times on the --now clock."""
    return {"local": LocalPlatform(runs_dir_for(state_path), clock_offset)}
