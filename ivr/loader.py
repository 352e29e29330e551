"""Flow files (TOML) → validated ``Flow`` objects, or a ``FlowError`` naming file and key.

Everything that can be wrong with a flow is found at start, not during a call: an unknown
verb or key, a bad value, an exit to a step that does not exist, an unreachable step, a loop
with no exit, a loop that never waits, a prompt with no file (or a file that cannot be
decoded), a queue or seat that is not configured, a number claimed by two flows.

A flow file::

    name = "demo"                 # optional: the file name without .toml
    numbers = ["+15550100"]       # the dialled numbers (DIDs) this flow answers
    start = "answer"
    prompts = "prompts"           # optional: prompts directory, relative to this file

    [steps.answer]
    verb = "answer"
    next = "welcome"
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ivr.context import digits_only
from ivr.flow import Flow, Step
from ivr.graph import check_graph
from ivr.params import ParamReader, Ref, StepError, keypath
from ivr.prompts import AUDIO_SUFFIXES, PromptLibrary
from ivr.verbs import VERBS

__all__ = ["FlowError", "FlowSet", "load_flow", "load_flows"]

_TOP_KEYS = ("name", "description", "numbers", "start", "prompts", "steps")
_STEP_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")
_NUMBER = re.compile(r"\+?[0-9 ()./-]+\Z")  # separators are allowed; digits are compared
T = TypeVar("T")


class FlowError(Exception):
    """Flows that cannot be used; each line of the message names the file and the key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@dataclass
class FlowSet:
    """Every flow of a directory, the prompts they play, and which number goes to which flow."""

    flows: dict[str, Flow] = field(default_factory=dict)
    prompts: PromptLibrary = field(default_factory=PromptLibrary)
    numbers: dict[str, str] = field(default_factory=dict)  # digits of a number → flow name

    def for_number(self, did: str) -> Flow | None:
        """The flow answering the dialled number ``did`` (the Request-URI user part, "+15550100"
        or "15550100": numbers are compared by their digits)."""
        name = self.numbers.get(digits_only(did))
        return self.flows[name] if name is not None else None


@dataclass
class _Problems:
    """Problems of one file, each line "file: key: message"."""

    source: str
    lines: list[str] = field(default_factory=list)

    def add(self, key: str, message: str) -> None:
        self.lines.append(f"{self.source}: {key}: {message}")


def load_flows(
    directory: Path,
    *,
    queues: Collection[str] | None = None,
    seats: Collection[str] | None = None,
) -> FlowSet:
    """Load and check every ``*.toml`` in ``directory``; all problems are reported together.

    ``queues``/``seats``: the configured names that steps may refer to (None: not checked).
    """
    if not directory.is_dir():
        raise FlowError([f"{directory}: not a directory of IVR flows"])
    flows = FlowSet()
    problems: list[str] = []
    claimed: dict[str, str] = {}  # digits → file that claimed it
    for path in sorted(directory.glob("*.toml")):
        try:
            flow = load_flow(path, queues=queues, seats=seats, library=flows.prompts)
        except FlowError as exc:
            problems += exc.problems
            continue
        if flow.name in flows.flows:
            other = flows.flows[flow.name].source
            problems.append(f"{path}: name: flow {flow.name!r} is already defined in {other}")
            continue
        flows.flows[flow.name] = flow
        for i, number in enumerate(flow.numbers):
            key = digits_only(number)
            if key in claimed:
                problems.append(f"{path}: numbers[{i}]: number {number!r} is already claimed "
                                f"by {claimed[key]}")
                continue
            claimed[key] = str(path)
            flows.numbers[key] = flow.name
    if problems:
        raise FlowError(problems)
    return flows


def load_flow(
    path: Path,
    *,
    queues: Collection[str] | None = None,
    seats: Collection[str] | None = None,
    library: PromptLibrary | None = None,
) -> Flow:
    """Load and check one flow file; its prompts are added to ``library``."""
    library = library if library is not None else PromptLibrary()
    found = _Problems(str(path))
    data = _read(path)
    name, numbers, start, prompts_dir, description = _top(data, path, found)
    steps, refs = _steps(data.get("steps"), found)
    for key, message in check_graph(steps, start) if steps and start else []:
        found.add(key, message)
    if prompts_dir is not None:
        _check_prompts(refs, prompts_dir, library, found)
    _check_names(refs, "queue", queues, found)
    _check_names(refs, "seat", seats, found)
    if found.lines:
        raise FlowError(found.lines)
    return Flow(name, path, start, steps, numbers, prompts_dir, description)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise FlowError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise FlowError([f"{path}: TOML syntax error: {exc}"]) from None


def _top(
    data: Mapping[str, Any], path: Path, found: _Problems
) -> tuple[str, tuple[str, ...], str, Path | None, str]:
    """The file's own keys: name, numbers, start, prompts directory, description."""
    for key in data:
        if key not in _TOP_KEYS:
            found.add(key, f"unknown key (expected one of {', '.join(_TOP_KEYS)})")
    r = ParamReader(data, "")
    name = _value(found, lambda: r.text("name", path.stem), path.stem)
    start = _value(found, lambda: r.text("start"), "")
    prompts = _value(found, lambda: r.text("prompts", "prompts"), None)
    description = _value(found, lambda: r.text("description", ""), "")
    no_numbers: tuple[str, ...] = ()
    numbers = _value(found, lambda: r.texts("numbers", ()), no_numbers)
    for i, number in enumerate(numbers):
        if not _NUMBER.match(number) or not 3 <= len(digits_only(number)) <= 15:
            found.add(keypath("numbers", i), f"{number!r} is not a number (+ and 3-15 digits)")
    if "steps" not in data:
        found.add("steps", "missing (a flow needs at least one step)")
    prompts_dir = path.parent / prompts if prompts is not None else None
    return name, numbers, start, prompts_dir, description


def _value(found: _Problems, read: Callable[[], T], default: T) -> T:
    """``read()``, or ``default`` after reporting its problem."""
    try:
        return read()
    except StepError as exc:
        found.add(exc.key, exc.message)
        return default


def _steps(table: Any, found: _Problems) -> tuple[dict[str, Step], list[Ref]]:
    """Parse every step; a step with a problem is left out (and reported)."""
    if table is None:
        return {}, []
    if not isinstance(table, dict) or not table:
        found.add("steps", "must be a table of steps ([steps.<name>] verb = ...)")
        return {}, []
    steps: dict[str, Step] = {}
    refs: list[Ref] = []
    for name, body in table.items():
        try:
            step, step_refs = _step(name, body)
        except StepError as exc:
            found.add(exc.key, exc.message)
            continue
        steps[name] = step
        refs += step_refs
    if len(steps) < len(table):
        return {}, refs  # the graph cannot be judged with steps missing
    return steps, refs


def _step(name: str, body: Any) -> tuple[Step, list[Ref]]:
    where = keypath("steps", name)
    if not _STEP_NAME.match(name):
        raise StepError(where, "a step name is letters, digits, _ and -")
    if not isinstance(body, dict):
        raise StepError(where, "must be a table with a verb")
    verb = body.get("verb")
    if verb is None:
        raise StepError(f"{where}.verb", "missing")
    if verb not in VERBS:
        raise StepError(f"{where}.verb", f"unknown verb {verb!r} (known: {', '.join(VERBS)})")
    reader = ParamReader(body, where)
    params = VERBS[verb].parse(reader)
    reader.finish()
    return Step(name, verb, params, dict(reader.exits)), reader.refs


def _check_prompts(refs: list[Ref], directory: Path, library: PromptLibrary, found: _Problems) -> None:
    wanted = [ref for ref in refs if ref.kind == "prompt"]
    if not wanted:
        return
    if not directory.is_dir():
        found.add("prompts", f"no prompts directory {directory}")
        return
    for problem in library.add_directory(directory):
        found.add("prompts", problem)
    missing: dict[str, list[str]] = {}
    for ref in wanted:
        if ref.name not in library:
            missing.setdefault(ref.key, []).append(ref.name)
    for key, names in missing.items():
        listed = ", ".join(repr(n) for n in names)
        hint = " (name prompts without the file suffix)" if any(
            n.lower().endswith(AUDIO_SUFFIXES) for n in names) else ""
        what = "prompt" if len(names) == 1 else "prompts"
        found.add(key, f"{what} {listed} not found in {directory}{hint}")


def _check_names(
    refs: list[Ref], kind: str, known: Collection[str] | None, found: _Problems
) -> None:
    if known is None:
        return
    configured = ", ".join(sorted(known)) or "none"
    for ref in refs:
        if ref.kind == kind and ref.name not in known:
            found.add(ref.key, f"unknown {kind} {ref.name!r} (configured: {configured})")
