"""Circles in a reference graph (parameters that use each other, pipelines that depend on
each other), found in linear time.

A depth-first search from every name, as a naive check does, follows every path of
a graph whose references fan out: 36 parameters that each use the two before them
have billions of paths. Tarjan's strongly connected components visit each name and
each reference once; every name in a component with a circle is reported, with a
shortest circle through it when the component is small enough to search from each.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence

# Components up to this size get a shortest circle per name (one search each, so
# the work stays linear); larger ones, which no hand-written file has, a short form.
SMALL_COMPONENT = 64


def components(nodes: Sequence[str], refs: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan, iterative: no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []

    def enter(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)

    for root in nodes:
        if root in index:
            continue
        enter(root)
        work = [(root, iter(refs.get(root, ())))]
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    enter(child)
                    work.append((child, iter(refs.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(component)
    return found


def _shortest_circle(start: str, members: set[str], refs: Mapping[str, Sequence[str]]) -> list[str]:
    """The shortest path from ``start`` back to itself inside one component."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in refs.get(node, ()):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if child in members and child not in parent:
                parent[child] = node
                queue.append(child)
    raise AssertionError("a component with a circle has a circle through each member")


def circles(nodes: Sequence[str], refs: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """``(name, "a -> b -> a")`` for every name on a circle, in the order of ``nodes``."""
    text: dict[str, str] = {}
    for component in components(nodes, refs):
        members = set(component)
        if len(component) == 1 and component[0] not in refs.get(component[0], ()):
            continue  # one name that does not use itself: no circle
        for name in component:
            if len(component) <= SMALL_COMPONENT:
                text[name] = " -> ".join(_shortest_circle(name, members, refs))
            else:
                after = next(n for n in refs.get(name, ()) if n in members)
                text[name] = (
                    f"{name} -> {after} -> ... -> {name} "
                    f"(one of {len(component)} parameters that refer to each other)"
                )
    return [(name, text[name]) for name in nodes if name in text]


def one_circle_each(nodes: Sequence[str], refs: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """One shortest circle per component that has one, ``[a, b, a]``, starting at the
    member that comes first in ``nodes``; components in the order of their first members."""
    order = {name: i for i, name in enumerate(nodes)}
    found: list[list[str]] = []
    for component in components(nodes, refs):
        if len(component) == 1 and component[0] not in refs.get(component[0], ()):
            continue
        first = min(component, key=lambda name: order.get(name, len(order)))
        found.append(_shortest_circle(first, set(component), refs))
    return sorted(found, key=lambda circle: order.get(circle[0], len(order)))
