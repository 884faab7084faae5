"""Outdated marks from version changes: a pipeline whose ``version`` changed, and that
asks for it (``refresh_on_version_change``), has every date of its schedule outdated.

The old version is the one in the applied config (``pipelines.config_json``), so the
change is seen once, by the sync that writes the new config.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date

from reconciler.core.spec import PipelineSpec
from reconciler.state.outdated_marks import OutdatedMark

VERSION_KEY = "version"  # (its key in the flat config)
NO_END = date.max  # the last date of a schedule without an end


def applied_version(config_json: str | None) -> str | None:
    """The version an applied config ran with, as text (None: none, or no config)."""
    if not config_json:
        return None
    try:
        found = json.loads(config_json)
    except json.JSONDecodeError:
        return None
    value = found.get(VERSION_KEY) if isinstance(found, dict) else None
    return None if value is None else str(value)


def version_marks(
    specs: Sequence[PipelineSpec], applied: Mapping[str, str | None]
) -> list[OutdatedMark]:
    """Marks for the pipelines among ``specs`` whose version differs from the applied one
    (``applied``: config text per active pipeline; a pipeline new to the state has none,
    and nothing to mark)."""
    out: list[OutdatedMark] = []
    for spec in specs:
        if not spec.refresh_on_version_change or spec.id not in applied:
            continue
        if applied_version(applied[spec.id]) == spec.version:
            continue
        dates = (spec.schedule.start, spec.schedule.end or NO_END)
        out.append(OutdatedMark.from_version(spec.id, dates, spec.version))
    return out
