"""Scoring: section scores, weighted total, n/a renormalised, veto, the exact form version."""

from __future__ import annotations

from typing import Any

import pytest

from qa.forms import Form
from qa.scoring import Defect, Evaluation, ScoringError, parse_answer, score

ANSWERS: dict[str, Any] = {"a1": True, "a2": 4, "b1": False, "b2": True, "v1": True}


def evaluation(**changes: Any) -> Evaluation:
    return Evaluation("call-1", "t", 2, "qa1", {**ANSWERS, **changes}, (Defect("greeting", 3.5, "late"),), "smile")


def test_weighted_total(form: Form) -> None:
    result = score(form, evaluation())
    # A: (1*1 + 3*0.75) / 4 = 81.25; B: (0 + 1) / 2 = 50; total (60*81.25 + 40*50) / 100
    assert [(s.id, s.score) for s in result.sections] == [("a", 81.25), ("b", 50.0), ("v", None)]
    assert (result.total, result.unvetoed, result.veto, result.vetoed) == (68.75, 68.75, (), False)
    assert result.defects == (Defect("greeting", 3.5, "late"),) and result.coaching == "smile"


def test_na_items_are_renormalised(form: Form) -> None:
    assert score(form, evaluation(a2=None)).total == 80.0  # A = a1 alone = 100
    assert score(form, evaluation(b1="n/a")).total == 88.75  # B = b2 alone = 100


def test_a_section_with_every_item_na_leaves_the_total(form: Form) -> None:
    strict = form.model_copy(update={"sections": (form.sections[0], form.sections[2])})
    answers = {"a1": True, "a2": 1, "v1": True}
    result = score(strict, Evaluation("c", "t", 2, "qa1", answers))
    assert result.total == 25.0  # (1 + 3*0) / 4


def test_a_failed_veto_zeroes_the_score_and_is_named(form: Form) -> None:
    result = score(form, evaluation(v1=False))
    assert (result.total, result.unvetoed, result.veto, result.vetoed) == (0.0, 68.75, ("v1",), True)
    assert [s.score for s in result.sections] == [81.25, 50.0, None]


def test_scale_ends(form: Form) -> None:
    assert score(form, evaluation(a2=1, b1=True)).sections[0].score == 25.0
    assert score(form, evaluation(a2=5, b1=True)).total == 100.0


def test_the_form_version_must_match(form: Form) -> None:
    other = Evaluation("c", "t", 1, "qa1", ANSWERS)
    with pytest.raises(ScoringError, match="made on form 't' v1, not 't' v2"):
        score(form, other)


@pytest.mark.parametrize(("changes", "message"), [
    ({"a2": 6}, "item 'a2': 6 is outside the scale 1..5"),
    ({"a2": True}, "item 'a2': answer a whole point 1..5, not True"),
    ({"a2": 2.5}, "item 'a2': answer a whole point 1..5, not 2.5"),
    ({"a1": None}, "item 'a1': n/a is not allowed for this item"),
    ({"a1": 1}, "item 'a1': answer yes or no, not 1"),
    ({"a1": "perhaps"}, "item 'a1': cannot read the answer 'perhaps'"),
    ({"zz": True}, "form 't' v2 has no item 'zz'"),
])
def test_bad_answers_name_the_item(form: Form, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ScoringError) as caught:
        score(form, evaluation(**changes))
    assert str(caught.value) == message


def test_missing_answers_and_nothing_to_score(form: Form) -> None:
    answers = dict(ANSWERS)
    del answers["b2"], answers["v1"]
    with pytest.raises(ScoringError, match="no answer for item 'b2', 'v1'"):
        score(form, Evaluation("c", "t", 2, "qa1", answers))
    only_na = form.model_copy(update={"sections": (form.sections[0],)})
    only_na = only_na.model_copy(update={"sections": (only_na.sections[0].model_copy(update={"items": (form.sections[0].items[1],)}),)})
    with pytest.raises(ScoringError, match="every scoring item is n/a"):
        score(only_na, Evaluation("c", "t", 2, "qa1", {"a2": None}))


def test_answers_from_a_form_post(form: Form) -> None:
    a1, a2 = form.item("a1"), form.item("a2")
    assert a1 is not None and a2 is not None
    assert [parse_answer(a1, v) for v in ("yes", "No", "y", True)] == [True, False, True, True]
    assert [parse_answer(a2, v) for v in ("3", 5, "n/a", None)] == [3, 5, None, None]


def test_defects_are_checked() -> None:
    with pytest.raises(ScoringError, match="a defect needs a category"):
        Defect(" ")
    with pytest.raises(ScoringError, match="time in call cannot be negative"):
        Defect("hold", -1.0)
