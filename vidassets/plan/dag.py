"""Graph helpers over job IDs: topological order, cycle detection, descendants.

Kept free of pydantic and Dagster so the executor and the validator share one tested piece.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence


def find_cycle(edges: Mapping[str, Sequence[str]]) -> list[str] | None:
    """Return one cycle as a list of IDs (first == last), or None. ``edges[n]`` = n's dependencies."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = {node: WHITE for node in edges}
    for start in edges:
        if colour[start] != WHITE:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                colour[node] = GREY
                path.append(node)
            deps = [d for d in edges.get(node, ()) if d in edges]
            if i < len(deps):
                stack.append((node, i + 1))
                nxt = deps[i]
                if colour[nxt] == GREY:
                    return path[path.index(nxt):] + [nxt]
                if colour[nxt] == WHITE:
                    stack.append((nxt, 0))
            else:
                colour[node] = BLACK
                path.pop()
    return None


def topological_order(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Kahn's algorithm, stable with respect to the mapping's order. Raises on a cycle."""
    indegree = {n: sum(1 for d in deps if d in edges) for n, deps in edges.items()}
    dependents: dict[str, list[str]] = {n: [] for n in edges}
    for node, deps in edges.items():
        for dep in deps:
            if dep in edges:
                dependents[dep].append(node)
    ready = deque(n for n in edges if indegree[n] == 0)
    order: list[str] = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for child in dependents[node]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    if len(order) != len(edges):
        raise ValueError("plan has a cycle")
    return order


def descendants(edges: Mapping[str, Sequence[str]], roots: Iterable[str]) -> set[str]:
    """Every node that (transitively) depends on one of ``roots``, roots included."""
    dependents: dict[str, list[str]] = {n: [] for n in edges}
    for node, deps in edges.items():
        for dep in deps:
            dependents.setdefault(dep, []).append(node)
    seen: set[str] = set()
    todo = deque(roots)
    while todo:
        node = todo.popleft()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(dependents.get(node, ()))
    return seen


def sinks(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Nodes nothing depends on, in mapping order: the plan's final outputs."""
    used = {dep for deps in edges.values() for dep in deps}
    return [n for n in edges if n not in used]
