"""The pipelines around some chosen ones in the dependency graph: a plan of some pipelines
reads their upstreams, and what a run changed changes what its dependants wait for."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.config.loading import LoadedPipeline


def upstreams_of(
    chosen: Sequence[LoadedPipeline], every: Sequence[LoadedPipeline]
) -> list[LoadedPipeline]:
    """The upstreams of ``chosen`` (transitively) that are not chosen: a plan of some
    pipelines reads what their inputs make available."""
    by_id = {p.id: p for p in every}
    seen = {p.id for p in chosen}
    out: list[LoadedPipeline] = []
    todo = list(chosen)
    while todo:
        for dep in todo.pop().spec.depends_on:
            up = by_id.get(dep.pipeline)
            if up is not None and up.id not in seen:
                seen.add(up.id)
                out.append(up)
                todo.append(up)
    return out


def dependants_of(
    chosen: Sequence[LoadedPipeline], every: Sequence[LoadedPipeline]
) -> list[LoadedPipeline]:
    """The pipelines that depend on ``chosen`` (transitively) and are not chosen."""
    users: dict[str, list[LoadedPipeline]] = {}
    for p in every:
        for dep in p.spec.depends_on:
            users.setdefault(dep.pipeline, []).append(p)
    seen = {p.id for p in chosen}
    out: list[LoadedPipeline] = []
    todo = [p.id for p in chosen]
    while todo:
        for user in users.get(todo.pop(), ()):
            if user.id not in seen:
                seen.add(user.id)
                out.append(user)
                todo.append(user.id)
    return out
