"""Scoring an evaluation against the exact form version it was made on.

An item scores a fraction: yes 1, no 0, a scale point p as (p - min) / (max - min). A section
scores the weighted mean of its answered items (n/a items leave the mean, the other weights are
renormalised) times 100; the total is the weighted mean of the sections that have an answered
scoring item. A veto item answered "no" makes the total 0 and is named in ``Score.veto``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qa.forms import Form, Item, Section

__all__ = [
    "Answer",
    "Defect",
    "Evaluation",
    "Score",
    "ScoringError",
    "SectionScore",
    "parse_answer",
    "parse_answers",
    "score",
]

Answer = bool | int | None  # yes/no, a scale point, or None for n/a


class ScoringError(ValueError):
    """An evaluation that does not fit its form; the message names the item."""


@dataclass(frozen=True, slots=True)
class Defect:
    """A fault found in the call: its category, when in the call (seconds), and a note."""

    category: str
    at_s: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if not self.category.strip():
            raise ScoringError("a defect needs a category")
        if self.at_s is not None and self.at_s < 0:
            raise ScoringError(f"defect {self.category!r}: time in call cannot be negative ({self.at_s})")


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A reviewer's answers for one call on form (id, version), with defects and a coaching note."""

    call: str
    form_id: str
    form_version: int
    reviewer: str
    answers: Mapping[str, Any]  # as given: parse_answer reads bools, points, words and None
    defects: tuple[Defect, ...] = ()
    coaching: str = ""


@dataclass(frozen=True, slots=True)
class SectionScore:
    """One section's score (0-100), or None when every scoring item in it was n/a."""

    id: str
    weight: float
    score: float | None


@dataclass(frozen=True, slots=True)
class Score:
    """The scored evaluation: the total (0 on a failed veto), the total before any veto, sections."""

    total: float
    unvetoed: float
    sections: tuple[SectionScore, ...]
    veto: tuple[str, ...] = ()  # the veto items answered "no"
    defects: tuple[Defect, ...] = ()
    coaching: str = ""
    answers: Mapping[str, Answer] = field(default_factory=dict)

    @property
    def vetoed(self) -> bool:
        """True when a veto item failed."""
        return bool(self.veto)


_WORDS: dict[str, Answer] = {"yes": True, "y": True, "no": False, "n": False, "n/a": None, "na": None}


def parse_answer(item: Item, value: object) -> Answer:
    """An answer from JSON or a form post: yes/no as bool or word, a scale point, n/a as None."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _WORDS:
            value = _WORDS[text]
        elif text.lstrip("-").isdigit():
            value = int(text)
        else:
            raise ScoringError(f"item {item.id!r}: cannot read the answer {value!r}")
    if value is None:
        if not item.na:
            raise ScoringError(f"item {item.id!r}: n/a is not allowed for this item")
        return None
    if item.type == "yes_no":
        if not isinstance(value, bool):
            raise ScoringError(f"item {item.id!r}: answer yes or no, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ScoringError(f"item {item.id!r}: answer a whole point {item.min}..{item.max}, not {value!r}")
    if not item.min <= value <= item.max:
        raise ScoringError(f"item {item.id!r}: {value} is outside the scale {item.min}..{item.max}")
    return int(value)


def parse_answers(form: Form, raw: Mapping[str, Any]) -> dict[str, Answer]:
    """Every item's answer checked against the form; unknown and missing items are errors."""
    unknown = sorted(set(raw) - {i.id for i in form.items()})
    if unknown:
        raise ScoringError(f"form {form.id!r} v{form.version} has no item {', '.join(map(repr, unknown))}")
    missing = [i.id for i in form.items() if i.id not in raw]
    if missing:
        raise ScoringError(f"no answer for item {', '.join(map(repr, missing))}")
    return {i.id: parse_answer(i, raw[i.id]) for i in form.items()}


def _fraction(item: Item, answer: Answer) -> float:
    if item.type == "yes_no":
        return 1.0 if answer else 0.0
    assert isinstance(answer, int)
    return (answer - item.min) / (item.max - item.min)


def _section(section: Section, answers: Mapping[str, Answer]) -> SectionScore:
    used = [(i, answers[i.id]) for i in section.items if i.weight > 0 and answers[i.id] is not None]
    weight = sum(i.weight for i, _ in used)
    if not used:
        return SectionScore(section.id, section.weight, None)
    return SectionScore(section.id, section.weight, 100.0 * sum(i.weight * _fraction(i, a) for i, a in used) / weight)


def score(form: Form, evaluation: Evaluation) -> Score:
    """Score ``evaluation`` on ``form``, which must be the version it was made on."""
    if (evaluation.form_id, evaluation.form_version) != form.key:
        raise ScoringError(f"the evaluation was made on form {evaluation.form_id!r} v{evaluation.form_version},"
                           f" not {form.id!r} v{form.version}")
    answers = parse_answers(form, evaluation.answers)
    sections = tuple(_section(s, answers) for s in form.sections)
    counted = [s for s in sections if s.score is not None and s.weight > 0]
    if not counted:
        raise ScoringError("every scoring item is n/a: nothing to score")
    weight = sum(s.weight for s in counted)
    unvetoed = sum(s.weight * (s.score or 0.0) for s in counted) / weight
    veto = tuple(i.id for i in form.items() if i.veto and answers[i.id] is False)
    return Score(0.0 if veto else unvetoed, unvetoed, sections, veto, evaluation.defects,
                 evaluation.coaching, answers)
