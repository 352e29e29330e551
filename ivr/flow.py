"""The flow model: a flow is a graph of named steps, each one verb with parameters and exits.

A step's ``exits`` map an exit key, spelled as in the flow file ("next", "options.3",
"branches.vip"), to the name of the step it leads to. An optional exit a step does not name
ends the call there (the flow hangs up), so every path has a defined end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Flow", "Step"]


@dataclass(frozen=True)
class Step:
    """One named step: its verb, the verb's validated parameters and its exits."""

    name: str
    verb: str
    params: Any  # the verb's own frozen dataclass (see ivr/verbs/)
    exits: Mapping[str, str] = field(default_factory=dict)

    def targets(self) -> list[str]:
        """The step names this step can lead to, in file order, without repeats."""
        return list(dict.fromkeys(self.exits.values()))


@dataclass(frozen=True)
class Flow:
    """A validated flow: where it came from, the numbers it answers, and its steps."""

    name: str
    source: Path
    start: str
    steps: Mapping[str, Step]
    numbers: tuple[str, ...] = ()
    prompts_dir: Path | None = None
    description: str = ""

    def step(self, name: str) -> Step:
        """The step called ``name`` (KeyError when there is none)."""
        return self.steps[name]
