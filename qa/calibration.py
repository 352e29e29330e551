"""Calibration: several reviewers score the same call; how far apart are they?

Per item: the answers, their range and sample standard deviation (yes = 1, no = 0, a scale in
its own points; n/a answers are left out of range and deviation), the share of reviewers giving
the most common answer (n/a counted as an answer), and Fleiss' per-subject agreement P_i (the
share of agreeing reviewer pairs). Over the yes/no items: Fleiss' kappa with the categories yes,
no and n/a (Fleiss 1971, "Measuring nominal scale agreement among many raters"). Per reviewer:
the total score; across reviewers: its range and standard deviation.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qa.forms import Form
from qa.scoring import Answer, Evaluation, ScoringError, score

__all__ = ["CalibrationReport", "ItemSpread", "Rating", "calibrate", "fleiss_kappa"]


@dataclass(frozen=True, slots=True)
class Rating:
    """One reviewer's answers for the calibration call."""

    reviewer: str
    answers: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ItemSpread:
    """How the reviewers answered one item."""

    item: str
    section: str
    type: str
    answers: Mapping[str, Answer]  # reviewer -> answer
    spread: float | None  # max - min of the answered values; None when all n/a
    std: float | None  # sample standard deviation; None with fewer than 2 answered values
    agreement: float  # share of reviewers giving the most common answer
    pairs: float  # Fleiss' P_i: share of reviewer pairs that agree


@dataclass(frozen=True, slots=True)
class CalibrationReport:
    """The whole session: items, each reviewer's total, the totals' spread, kappa."""

    form_id: str
    form_version: int
    items: tuple[ItemSpread, ...]
    totals: Mapping[str, float]  # reviewer -> total score (0 on a failed veto)
    total_spread: float
    total_std: float | None
    kappa: float | None  # Fleiss' kappa over the yes/no items; None when undefined


def fleiss_kappa(table: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa from a subjects x categories table of rater counts (same count per row).

    None when it is undefined: no subjects, fewer than 2 raters, or every rating in one category.
    """
    if not table:
        return None
    raters = sum(table[0])
    if any(sum(row) != raters for row in table):
        raise ValueError("every subject needs the same number of ratings")
    if raters < 2:
        return None
    subjects = len(table)
    p_j = [sum(row[j] for row in table) / (subjects * raters) for j in range(len(table[0]))]
    p_i = [(sum(c * c for c in row) - raters) / (raters * (raters - 1)) for row in table]
    p_bar = sum(p_i) / subjects
    p_e = sum(p * p for p in p_j)
    if p_e >= 1:
        return None
    return (p_bar - p_e) / (1 - p_e)


def _value(answer: Answer) -> float | None:
    if answer is None:
        return None
    return float(answer)  # True -> 1.0, a scale point as itself


def _pairs(counts: Counter[Answer], raters: int) -> float:
    if raters < 2:
        return 1.0
    return (sum(c * c for c in counts.values()) - raters) / (raters * (raters - 1))


def calibrate(form: Form, ratings: Sequence[Rating]) -> CalibrationReport:
    """Compare the reviewers' ratings of one call on ``form``; each rating must be complete."""
    reviewers = [r.reviewer for r in ratings]
    if len(set(reviewers)) != len(reviewers):
        raise ScoringError("each reviewer rates a calibration call once")
    scored = {}
    for rating in ratings:
        evaluation = Evaluation("calibration", form.id, form.version, rating.reviewer, rating.answers)
        try:
            scored[rating.reviewer] = score(form, evaluation)
        except ScoringError as exc:
            raise ScoringError(f"reviewer {rating.reviewer!r}: {exc}") from None
    items = []
    kappa_rows = []
    for section in form.sections:
        for item in section.items:
            answers = {r: s.answers[item.id] for r, s in scored.items()}
            values = [v for v in map(_value, answers.values()) if v is not None]
            counts = Counter(answers.values())
            items.append(ItemSpread(
                item.id, section.id, item.type, answers,
                max(values) - min(values) if values else None,
                statistics.stdev(values) if len(values) > 1 else None,
                max(counts.values()) / len(answers) if answers else 1.0,
                _pairs(counts, len(answers)),
            ))
            if item.type == "yes_no":
                kappa_rows.append([counts[True], counts[False], counts[None]])
    totals = {r: s.total for r, s in scored.items()}
    values = list(totals.values())
    return CalibrationReport(
        form.id, form.version, tuple(items), totals,
        max(values) - min(values) if values else 0.0,
        statistics.stdev(values) if len(values) > 1 else None,
        fleiss_kappa(kappa_rows) if len(ratings) > 1 else None,
    )
