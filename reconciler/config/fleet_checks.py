"""Checks that need every pipeline of a config directory: each ``depends_on`` names a
pipeline that exists, and no pipelines depend on each other in a cycle.

Per-file checks (an upstream listed twice, a pipeline depending on itself) are in
``dependency_models``. These run after every file loaded, over the planner specs, so
pipelines answered from the config cache are checked as well; positions are looked up
only for the entries that are wrong.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.config.cycles import one_circle_each
from reconciler.errors import Problem

if TYPE_CHECKING:
    from reconciler.config.loading import LoadedPipeline


def dependency_problems(
    pipelines: Sequence[LoadedPipeline],
    where: str,
    *,
    context: Sequence[LoadedPipeline] = (),
    complete: bool = True,
) -> list[Problem]:
    """Every unknown upstream and every cycle among ``pipelines``, each located at the
    ``depends_on`` entry that causes it.

    ``where`` names the directory (or files) the upstreams were looked for in.
    ``context`` are further pipelines that count as known and may close a cycle, but are
    not reported on (``validate FILES`` checks the files against the config directory).
    ``complete`` is False when some files failed to load: an upstream may be defined by
    one of them, and the message says so.
    """
    known = {p.id: p for p in (*pipelines, *context)}
    problems: list[Problem] = []
    for pipeline in pipelines:
        for index, dependency in enumerate(pipeline.spec.depends_on):
            if dependency.pipeline not in known:
                problems.append(
                    _unknown(pipeline, index, dependency.pipeline, known, where, complete)
                )
    # only pipelines with upstreams can be on a cycle: a fleet without any costs nothing
    refs = {
        pid: [d.pipeline for d in p.spec.depends_on if d.pipeline in known]
        for pid, p in known.items()
        if p.spec.depends_on
    }
    reported = {p.id for p in pipelines} if context else known.keys()
    for circle in one_circle_each(list(refs), refs):
        if circle[0] in reported:
            problems.append(_cycle(circle, known))
    return problems


def _entry(pipeline: LoadedPipeline, upstream: str) -> int:
    return next(i for i, d in enumerate(pipeline.spec.depends_on) if d.pipeline == upstream)


def _problem(pipeline: LoadedPipeline, index: int, message: str) -> Problem:
    mark = pipeline.source.locate(("depends_on", index, "pipeline"))
    return Problem(
        file=pipeline.file,
        line=mark.line,
        col=mark.col,
        message=message,
        field=f"depends_on[{index}].pipeline",
    )


def _unknown(
    pipeline: LoadedPipeline,
    index: int,
    upstream: str,
    known: dict[str, LoadedPipeline],
    where: str,
    complete: bool,
) -> Problem:
    others = sorted(known.keys() - {pipeline.id})
    close = difflib.get_close_matches(upstream, others, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    which = "no file" if complete else "no valid file"
    return _problem(
        pipeline,
        index,
        f"unknown pipeline {upstream!r}: {pipeline.id!r} depends on it, but {which} in "
        f"{where} defines it{hint}",
    )


def _cycle(circle: list[str], known: dict[str, LoadedPipeline]) -> Problem:
    """``depends_on cycle: a (a.yaml:7) -> b (b.yaml:9) -> a`` at a's entry for b."""
    hops = []
    for name, upstream in itertools.pairwise(circle):
        pipeline = known[name]
        line = pipeline.source.locate(("depends_on", _entry(pipeline, upstream), "pipeline")).line
        hops.append(f"{name} ({pipeline.file}:{line})")
    text = " -> ".join([*hops, circle[-1]])
    first = known[circle[0]]
    return _problem(first, _entry(first, circle[1]), f"depends_on cycle: {text}")
