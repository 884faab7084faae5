"""Warnings about ``exclude`` entries that are valid but probably not meant: an entry
with no scheduled date of the pipeline, or one overlapping an earlier entry. They are
printed by ``validate`` and never fail it."""

from __future__ import annotations

from reconciler.config.loading import LoadedPipeline
from reconciler.core.calendar import count_between
from reconciler.errors import Problem


def exclusion_warnings(loaded: LoadedPipeline) -> list[Problem]:
    """One located warning per doubtful entry, in file order."""
    spec = loaded.spec
    if not spec.exclude:
        return []
    found: list[tuple[int, str]] = []
    for index, entry in enumerate(spec.exclude):
        span = str(entry.first) if entry.first == entry.last else f"{entry.first}..{entry.last}"
        if not count_between(spec.schedule, entry.first, entry.last):
            found.append(
                (index, f"{span} holds no scheduled date of the pipeline: it excludes nothing")
            )
        for earlier, other in enumerate(spec.exclude[:index]):
            if entry.first <= other.last and other.first <= entry.last:
                found.append((index, f"{span} overlaps exclude[{earlier}]"))
                break
    source = loaded.source
    out: list[Problem] = []
    for index, message in found:
        mark = source.locate(("exclude", index))
        out.append(
            Problem(
                file=loaded.file,
                line=mark.line,
                col=mark.col,
                message=message,
                field=f"exclude[{index}]",
            )
        )
    return out
