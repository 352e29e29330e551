"""Calibration: per-item spread and agreement, total-score spread, Fleiss' kappa."""

from __future__ import annotations

import math

import pytest

from qa.calibration import Rating, calibrate, fleiss_kappa
from qa.forms import Form
from qa.scoring import ScoringError

# Fleiss' kappa worked example (Wikipedia "Fleiss' kappa"): 10 subjects, 5 categories, 14 raters.
WIKIPEDIA = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]


def test_fleiss_kappa_worked_example() -> None:
    assert fleiss_kappa(WIKIPEDIA) == pytest.approx(0.20993, abs=1e-5)


def test_fleiss_kappa_edges() -> None:
    assert fleiss_kappa([[3, 0], [0, 3]]) == 1.0
    assert fleiss_kappa([[3, 0], [3, 0]]) is None  # one category only: chance agreement is 1
    assert fleiss_kappa([]) is None
    assert fleiss_kappa([[1, 0]]) is None
    with pytest.raises(ValueError, match="same number of ratings"):
        fleiss_kappa([[2, 1], [1, 1]])


def ratings() -> list[Rating]:
    return [
        Rating("qa1", {"a1": "yes", "a2": 4, "b1": "no", "b2": "yes", "v1": "yes"}),
        Rating("qa2", {"a1": True, "a2": 5, "b1": True, "b2": True, "v1": True}),
        Rating("qa3", {"a1": False, "a2": 4, "b1": None, "b2": True, "v1": True}),
    ]


def test_three_reviewers_on_one_call(form: Form) -> None:
    report = calibrate(form, ratings())
    assert dict(report.totals) == {"qa1": 68.75, "qa2": 100.0, "qa3": 73.75}
    assert report.total_spread == 31.25
    assert report.total_std == pytest.approx(math.sqrt(((68.75 - 80.833333) ** 2 + (100 - 80.833333) ** 2
                                                        + (73.75 - 80.833333) ** 2) / 2))
    items = {i.item: i for i in report.items}
    assert [i.item for i in report.items] == ["a1", "a2", "b1", "b2", "v1"]
    a2 = items["a2"]
    assert (a2.section, a2.type, a2.spread, a2.agreement, a2.pairs) == ("a", "scale", 1.0, 2 / 3, 1 / 3)
    assert a2.std == pytest.approx(math.sqrt(1 / 3))
    b1 = items["b1"]
    assert (dict(b1.answers), b1.spread, b1.agreement, b1.pairs) == ({"qa1": False, "qa2": True, "qa3": None}, 1.0, 1 / 3, 0.0)
    assert b1.std == pytest.approx(math.sqrt(0.5))
    assert (items["b2"].spread, items["b2"].std, items["b2"].agreement, items["b2"].pairs) == (0.0, 0.0, 1.0, 1.0)
    # yes/no items a1, b1, b2, v1 over yes/no/n-a: P̄ = 7/12, P_e = 86/144, kappa = -1/29
    assert report.kappa == pytest.approx(-1 / 29)


def test_one_reviewer_and_bad_ratings(form: Form) -> None:
    alone = calibrate(form, ratings()[:1])
    assert (alone.kappa, alone.total_std, alone.total_spread) == (None, None, 0.0)
    with pytest.raises(ScoringError, match="each reviewer rates a calibration call once"):
        calibrate(form, ratings() + ratings()[:1])
    bad = Rating("qa4", {"a1": "yes"})
    with pytest.raises(ScoringError, match="reviewer 'qa4': no answer for item 'a2'"):
        calibrate(form, [*ratings(), bad])
