"""Simulator scenarios: a TOML file of the floor and the calls to simulate, validated.

Required keys (see docs/pacing.md)::

    agents = 25
    mode = "predictive"            # or "progressive", "preview"
    target_abandon = 0.03
    shift_hours = 8
    answer_rate = 0.25             # share of dials answered by a live person
    ring_time = { min = 4, max = 20 }        # seconds to a live answer, uniform
    no_answer_time = { min = 4, max = 25 }   # seconds until an unanswered dial ends, uniform
    talk_time = { mean = 120, cv = 1.0 }     # seconds, lognormal
    wrap_up = 15                   # seconds, fixed
    grace = 2                      # seconds from answer to seat, else abandoned

Optional: ``name``, ``abandon_formula`` ("answers" or "connections"), ``amd_allowance``,
``machine_rate`` (share of dials answered by a machine, detected and hung up), ``amd_time``
(seconds from a machine's answer to the hang-up), ``preview_time`` (seconds a seat reads a lead
before its preview dial), ``warmup_answers`` (live answers before ``max_abandon_24h`` is kept),
``cancel_surplus`` and ``min_ring`` (predictive pacing may cancel a dial that has rung
``min_ring`` seconds when its answer would likely find no seat; as the campaign keys).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dialer.abandon import AbandonFormula
from dialer.pacing import Mode

__all__ = ["Range", "Scenario", "ScenarioError", "load_scenario", "parse_scenario"]

MAX_TARGET = 0.03  # the hard ceiling of a campaign's target abandonment
MIN_RING = 15.0  # FCC 47 CFR 64.1200(a)(6) and Ofcom: an unanswered call rings 15 s at least


class ScenarioError(ValueError):
    """A scenario file or key is invalid; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Range:
    """A uniform distribution on ``[min, max]`` seconds."""

    min: float
    max: float


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario."""

    agents: int
    mode: Mode
    target_abandon: float
    shift_hours: float
    answer_rate: float
    ring_time: Range
    no_answer_time: Range
    talk_mean: float
    talk_cv: float
    wrap_up: float
    grace: float
    name: str = "scenario"
    abandon_formula: AbandonFormula = AbandonFormula.ANSWERS
    amd_allowance: float = 0.0
    machine_rate: float = 0.0
    amd_time: float = 3.0
    preview_time: float = 10.0
    warmup_answers: int = 100
    cancel_surplus: bool = True
    min_ring: float = MIN_RING

    def with_mode(self, mode: Mode) -> Scenario:
        """The same scenario paced in another mode."""
        return replace(self, mode=mode)

    def to_dict(self) -> dict[str, Any]:
        """The scenario as the keys of its file."""
        return {
            "name": self.name, "agents": self.agents, "mode": self.mode.value,
            "target_abandon": self.target_abandon, "shift_hours": self.shift_hours,
            "answer_rate": self.answer_rate,
            "ring_time": {"min": self.ring_time.min, "max": self.ring_time.max},
            "no_answer_time": {"min": self.no_answer_time.min, "max": self.no_answer_time.max},
            "talk_time": {"mean": self.talk_mean, "cv": self.talk_cv},
            "wrap_up": self.wrap_up, "grace": self.grace,
            "abandon_formula": self.abandon_formula.value, "amd_allowance": self.amd_allowance,
            "machine_rate": self.machine_rate, "amd_time": self.amd_time,
            "preview_time": self.preview_time, "warmup_answers": self.warmup_answers,
            "cancel_surplus": self.cancel_surplus, "min_ring": self.min_ring,
        }


REQUIRED = ("agents", "mode", "target_abandon", "shift_hours", "answer_rate", "ring_time",
            "no_answer_time", "talk_time", "wrap_up", "grace")
OPTIONAL = ("name", "abandon_formula", "amd_allowance", "machine_rate", "amd_time",
            "preview_time", "warmup_answers", "cancel_surplus", "min_ring")


class _Reader:
    """Reads keys from the parsed TOML, raising errors that name the source and the key."""

    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def fail(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(f"{self.source}: {key}: {problem}")

    def number(self, key: str, value: Any, low: float, high: float, *, low_open: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(key, f"must be a number, not {value!r}")
        below = value <= low if low_open else value < low
        if below or value > high:
            bracket = "(" if low_open else "["
            raise self.fail(key, f"must be in {bracket}{low:g}, {high:g}], not {value!r}")
        return float(value)

    def top(self, key: str, low: float, high: float, *, low_open: bool = False,
            default: float | None = None) -> float:
        if key not in self.data:
            if default is None:
                raise self.fail(key, "missing")
            return default
        return self.number(key, self.data[key], low, high, low_open=low_open)

    def table(self, key: str, fields: tuple[str, str]) -> dict[str, float]:
        value = self.data.get(key)
        if value is None:
            raise self.fail(key, "missing")
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be a table like {{ {fields[0]} = ..., {fields[1]} = ... }}")
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise self.fail(f"{key}.{unknown[0]}", f"unknown key (expected {' and '.join(fields)})")
        result: dict[str, float] = {}
        for name in fields:
            if name not in value:
                raise self.fail(f"{key}.{name}", "missing")
            result[name] = self.number(f"{key}.{name}", value[name], 0.0, 86400.0)
        return result

    def range(self, key: str) -> Range:
        values = self.table(key, ("min", "max"))
        if values["max"] < values["min"]:
            raise self.fail(key, f"max ({values['max']:g}) is below min ({values['min']:g})")
        if values["max"] <= 0:
            raise self.fail(f"{key}.max", "must be > 0")
        return Range(values["min"], values["max"])

    def choice(self, key: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        if key not in self.data:
            if default is None:
                raise self.fail(key, "missing")
            return default
        value = self.data[key]
        if value not in allowed:
            raise self.fail(key, f"must be one of {', '.join(repr(a) for a in allowed)}, not {value!r}")
        return str(value)


def parse_scenario(data: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate parsed TOML; ``source`` (the file name) prefixes every error."""
    r = _Reader(data, source)
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise r.fail(unknown[0], "unknown key")
    agents = data.get("agents")
    if isinstance(agents, bool) or not isinstance(agents, int) or not 1 <= agents <= 10000:
        raise r.fail("agents", f"must be a whole number from 1 to 10000, not {agents!r}")
    talk = r.table("talk_time", ("mean", "cv"))
    if talk["mean"] <= 0 or talk["cv"] <= 0:
        raise r.fail("talk_time", "mean and cv must be > 0")
    answer_rate = r.top("answer_rate", 0.0, 1.0, low_open=True)
    machine_rate = r.top("machine_rate", 0.0, 1.0, default=0.0)
    if answer_rate + machine_rate > 1.0:
        raise r.fail("machine_rate", "answer_rate + machine_rate must not exceed 1")
    warmup = data.get("warmup_answers", 100)
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise r.fail("warmup_answers", f"must be a whole number >= 0, not {warmup!r}")
    cancel = data.get("cancel_surplus", True)
    if not isinstance(cancel, bool):
        raise r.fail("cancel_surplus", f"must be true or false, not {cancel!r}")
    name = data.get("name", Path(source).stem if source != "<scenario>" else "scenario")
    if not isinstance(name, str):
        raise r.fail("name", "must be a string")
    return Scenario(
        agents=agents,
        mode=Mode(r.choice("mode", tuple(m.value for m in Mode))),
        target_abandon=r.top("target_abandon", 0.0, MAX_TARGET, low_open=True),
        shift_hours=r.top("shift_hours", 0.0, 24.0, low_open=True),
        answer_rate=answer_rate,
        ring_time=r.range("ring_time"),
        no_answer_time=r.range("no_answer_time"),
        talk_mean=talk["mean"],
        talk_cv=talk["cv"],
        wrap_up=r.top("wrap_up", 0.0, 3600.0),
        grace=r.top("grace", 0.0, 60.0),
        name=name,
        abandon_formula=AbandonFormula(r.choice("abandon_formula", tuple(f.value for f in AbandonFormula),
                                                default="answers")),
        amd_allowance=r.top("amd_allowance", 0.0, 1.0, default=0.0),
        machine_rate=machine_rate,
        amd_time=r.top("amd_time", 0.0, 60.0, default=3.0),
        preview_time=r.top("preview_time", 0.0, 3600.0, default=10.0),
        warmup_answers=warmup,
        cancel_surplus=cancel,
        min_ring=r.top("min_ring", MIN_RING, 120.0, default=MIN_RING),
    )


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from exc
    return parse_scenario(data, str(path))
