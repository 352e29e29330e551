"""Checks on the shape of a flow: every exit leads to a step, every step is reachable, every
loop has a way out, and no loop can run without waiting for the caller.

Problems are ``(key, message)`` pairs; the loader puts the file name in front.
"""

from __future__ import annotations

from collections.abc import Mapping

from ivr.flow import Step
from ivr.verbs import VERBS

__all__ = ["check_graph"]

Problem = tuple[str, str]


def check_graph(steps: Mapping[str, Step], start: str) -> list[Problem]:
    """All the problems of the graph; the later checks run only when every exit resolves."""
    problems: list[Problem] = []
    if start not in steps:
        problems.append(("start", f"unknown step {start!r}"))
    for step in steps.values():
        for key, target in step.exits.items():
            if target not in steps:
                problems.append((f"steps.{step.name}.{key}", f"goes to unknown step {target!r}"))
    if problems:
        return problems
    reachable = _reachable(steps, start)
    for name in steps:
        if name not in reachable:
            problems.append((f"steps.{name}", f"is not reachable from the start step {start!r}"))
    problems += _loops_without_exit(steps, reachable)
    problems += _busy_loops(steps)
    return problems


def _reachable(steps: Mapping[str, Step], start: str) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for target in steps[todo.pop()].targets():
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _cycle(steps: Mapping[str, Step], first: str, inside: set[str]) -> str:
    """A cycle through steps of ``inside``, walking from ``first`` ("a -> b -> a")."""
    path = [first]
    while True:
        following = next((t for t in steps[path[-1]].targets() if t in inside), None)
        if following is None:
            return " -> ".join(path)
        if following in path:
            loop = path[path.index(following):] + [following]
            return " -> ".join(loop)
        path.append(following)


def _loops_without_exit(steps: Mapping[str, Step], reachable: set[str]) -> list[Problem]:
    """Steps from which no path ends the call: each such group is a loop nobody leaves."""
    can_end = {n for n, s in steps.items() if VERBS[s.verb].can_end(s.exits)}
    changed = True
    while changed:
        changed = False
        for name, step in steps.items():
            if name not in can_end and any(t in can_end for t in step.targets()):
                can_end.add(name)
                changed = True
    stuck = {n for n in steps if n not in can_end and n in reachable}
    problems: list[Problem] = []
    reported: set[str] = set()
    for name in steps:
        if name in stuck and name not in reported:
            cycle = _cycle(steps, name, stuck)
            reported.update(cycle.split(" -> "))
            problems.append((f"steps.{name}", f"loop with no exit ({cycle}): no path from it "
                             "hangs up, reaches a queue or a transfer, or ends the flow"))
    return problems


def _busy_loops(steps: Mapping[str, Step]) -> list[Problem]:
    """Cycles made only of steps that never wait: the session would spin through them."""
    busy = {n for n, s in steps.items() if not VERBS[s.verb].waits}
    problems: list[Problem] = []
    done: set[str] = set()
    for name in steps:
        if name not in busy or name in done:
            continue
        cycle = _find_cycle(steps, name, busy)
        done.add(name)
        if cycle:
            done.update(cycle)
            problems.append((f"steps.{cycle[0]}", "loop that never waits for the caller "
                             f"({' -> '.join(cycle + [cycle[0]])})"))
    return problems


def _find_cycle(steps: Mapping[str, Step], first: str, inside: set[str]) -> list[str]:
    """A cycle back to ``first`` through ``inside`` steps (depth first), or []."""
    stack: list[tuple[str, list[str]]] = [(first, [first])]
    seen: set[str] = set()
    while stack:
        name, path = stack.pop()
        for target in steps[name].targets():
            if target == first:
                return path
            if target in inside and target not in seen:
                seen.add(target)
                stack.append((target, path + [target]))
    return []
