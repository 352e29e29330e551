"""Disputes: the transition table, every (status, action) pair, and who may act."""

from __future__ import annotations

import itertools

import pytest

from qa.disputes import (
    DISPUTE_WINDOW,
    TRANSITIONS,
    Action,
    DisputeError,
    EvaluationCase,
    Status,
    apply,
    transition,
)

T0 = 1_772_000_000.0
CASE = EvaluationCase(7, seat="1001", reviewer="qa1", submitted_at=T0)


def test_dispute_then_revise() -> None:
    case = apply(CASE, Action.DISPUTE, by="1001", now=T0 + 60, note="the customer hung up, not me")
    assert (case.status, case.reason, case.disputed_at) == (Status.DISPUTED, "the customer hung up, not me", T0 + 60)
    case = apply(case, Action.ASSIGN, by="qa2", now=T0 + 120)
    assert (case.status, case.second_reviewer) == (Status.IN_REVIEW, "qa2")
    case = apply(case, Action.REVISE, by="qa2", now=T0 + 180, note="agreed")
    assert (case.status, case.decided_at, case.decision_note, case.final) == (Status.REVISED, T0 + 180, "agreed", True)


def test_dispute_then_uphold_and_never_again() -> None:
    case = apply(CASE, Action.DISPUTE, by="1001", now=T0, note="unfair")
    case = apply(apply(case, Action.ASSIGN, by="qa2", now=T0), Action.UPHOLD, by="qa2", now=T0)
    assert case.status is Status.UPHELD
    with pytest.raises(DisputeError, match="can be disputed once; this one is upheld"):
        apply(case, Action.DISPUTE, by="1001", now=T0, note="again")


def test_every_pair_is_in_the_table_or_refused() -> None:
    for status, action in itertools.product(Status, Action):
        if (status, action) in TRANSITIONS:
            assert transition(status, action) is TRANSITIONS[status, action]
        else:
            with pytest.raises(DisputeError):
                transition(status, action)
    final = {Status.UPHELD, Status.REVISED, Status.ACCEPTED}
    assert not any(s in final for s, _ in TRANSITIONS)


def test_who_may_act() -> None:
    with pytest.raises(DisputeError, match="only seat 1001 may dispute"):
        apply(CASE, Action.DISPUTE, by="1002", now=T0, note="x")
    with pytest.raises(DisputeError, match="needs a reason"):
        apply(CASE, Action.DISPUTE, by="1001", now=T0, note=" ")
    with pytest.raises(DisputeError, match="window closed 7 days after"):
        apply(CASE, Action.DISPUTE, by="1001", now=T0 + DISPUTE_WINDOW + 1, note="x")
    disputed = apply(CASE, Action.DISPUTE, by="1001", now=T0, note="x")
    for first in ("qa1", "1001"):
        with pytest.raises(DisputeError, match="someone else"):
            apply(disputed, Action.ASSIGN, by=first, now=T0)
    review = apply(disputed, Action.ASSIGN, by="qa2", now=T0)
    with pytest.raises(DisputeError, match="only the second reviewer qa2"):
        apply(review, Action.UPHOLD, by="qa3", now=T0)


def test_accept() -> None:
    assert apply(CASE, Action.ACCEPT, by="1001", now=T0).status is Status.ACCEPTED
    with pytest.raises(DisputeError, match="only seat 1001 accepts"):
        apply(CASE, Action.ACCEPT, by="lead", now=T0)
    closed = apply(CASE, Action.ACCEPT, by="scheduler", now=T0 + DISPUTE_WINDOW + 1)
    assert (closed.status, closed.decided_at) == (Status.ACCEPTED, T0 + DISPUTE_WINDOW + 1)
