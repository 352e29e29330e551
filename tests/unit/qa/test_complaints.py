"""Complaint cases (pure): validation, the state machine over every (state, action) pair,
follow-up steps, and matching candidate calls by number and time."""

from __future__ import annotations

import itertools

import pytest

from qa.complaints import (
    TRANSITIONS,
    CallCandidate,
    CaseAction,
    CaseState,
    Channel,
    ComplaintError,
    FollowUpStep,
    Outcome,
    apply,
    check_step,
    match_calls,
    may_propose_blacklist,
    new_complaint,
    step_status,
)

T0 = 1_772_000_000.0
NUMBER = "+12125550101"


def case(state: CaseState = CaseState.OPEN):  # type: ignore[no-untyped-def]
    opened = new_complaint("(212) 555-0101", T0 - 3600, 900, "phone", "rude agent", opened_by="qa1", now=T0,
                           region="US")
    if state is CaseState.OPEN:
        return opened
    if state is CaseState.CLOSED:
        return apply(opened, CaseAction.CLOSE, T0, outcome="withdrawn")
    investigating = apply(opened, CaseAction.INVESTIGATE, T0)
    return investigating if state is CaseState.INVESTIGATING else apply(investigating, CaseAction.ASK_CUSTOMER, T0)


def test_new_complaint_normalises_the_number_and_starts_open() -> None:
    c = case()
    assert (c.number, c.approx_at, c.tolerance_s, c.channel, c.description, c.state, c.outcome) == (
        NUMBER, T0 - 3600, 900.0, Channel.PHONE, "rude agent", CaseState.OPEN, None)
    assert (c.opened_by, c.opened_at, c.updated_at, c.closed_at) == ("qa1", T0, T0, None)


@pytest.mark.parametrize(("changes", "message"), [
    ({"number": "12"}, "number '12': too short"),
    ({"number": "call me"}, "number 'call me': has letters"),
    ({"tolerance_s": 0}, "tolerance_s: between 0 and 604800 s, not 0"),
    ({"tolerance_s": 8 * 86400}, "tolerance_s: between 0 and 604800 s"),
    ({"channel": "fax"}, "channel: one of phone, email, web, letter, in_person, regulator, other, not 'fax'"),
    ({"description": "  "}, "description: must not be empty"),
    ({"approx_at": T0 + 7200}, "approx_at: the call cannot be in the future"),
])
def test_bad_cases_are_refused_naming_the_field(changes: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"number": "+12125550101", "approx_at": T0 - 60, "tolerance_s": 600.0,
                               "channel": "email", "description": "x"}
    args.update(changes)
    with pytest.raises(ComplaintError) as info:
        new_complaint(str(args["number"]), float(args["approx_at"]), float(args["tolerance_s"]),  # type: ignore[arg-type]
                      str(args["channel"]), str(args["description"]), opened_by="qa1", now=T0, region="US")
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(("state", "action"), list(itertools.product(CaseState, CaseAction)))
def test_every_state_and_action(state: CaseState, action: CaseAction) -> None:
    start = case(state)
    outcome = "groundless" if action is CaseAction.CLOSE else None
    if (state, action) not in TRANSITIONS:
        with pytest.raises(ComplaintError, match=f"cannot {action.value} a case that is {state.value}"):
            apply(start, action, T0 + 5, outcome=outcome)
        return
    after = apply(start, action, T0 + 5, outcome=outcome)
    assert after.state is TRANSITIONS[state, action]
    assert after.updated_at == T0 + 5
    assert after.outcome is (Outcome.GROUNDLESS if action is CaseAction.CLOSE else None)
    assert after.closed_at == (T0 + 5 if action is CaseAction.CLOSE else None)


def test_closing_needs_a_known_outcome_and_only_closing_takes_one() -> None:
    with pytest.raises(ComplaintError, match="outcome: closing needs one of upheld, partly_upheld, groundless, withdrawn"):
        apply(case(), CaseAction.CLOSE, T0)
    with pytest.raises(ComplaintError, match="outcome: one of .* not 'maybe'"):
        apply(case(), CaseAction.CLOSE, T0, outcome="maybe")
    with pytest.raises(ComplaintError, match="outcome: only closing sets one, not investigate"):
        apply(case(), CaseAction.INVESTIGATE, T0, outcome="upheld")
    closed = apply(case(CaseState.INVESTIGATING), CaseAction.CLOSE, T0 + 9, outcome="partly_upheld", note=" refund ")
    assert (closed.outcome, closed.outcome_note) == (Outcome.PARTLY_UPHELD, "refund")
    reopened = apply(closed, CaseAction.REOPEN, T0 + 10)
    assert (reopened.state, reopened.outcome, reopened.outcome_note, reopened.closed_at) == (
        CaseState.INVESTIGATING, None, None, None)


def test_only_groundless_may_lead_to_a_blacklist_proposal() -> None:
    assert [o.value for o in Outcome if may_propose_blacklist(o)] == ["groundless"]
    assert not may_propose_blacklist(None)


def test_steps_are_checked_and_have_a_status() -> None:
    assert check_step("  call the customer back ", T0 + 86400, now=T0) == ("call the customer back", T0 + 86400)
    with pytest.raises(ComplaintError, match="text: must not be empty"):
        check_step("", None, now=T0)
    with pytest.raises(ComplaintError, match="due_at: a step cannot be due more than a day before"):
        check_step("late", T0 - 2 * 86400, now=T0)
    step = FollowUpStep(1, 1, "call back", T0 + 100, None, None, "qa1", T0)
    assert [step_status(step, t) for t in (T0, T0 + 101)] == ["pending", "overdue"]
    assert step_status(FollowUpStep(1, 1, "x", T0, T0 + 1, "qa1", "qa1", T0), T0 + 500) == "done"
    assert step_status(FollowUpStep(2, 1, "x", None, None, None, "qa1", T0), T0 + 1e9) == "pending"


def call(uuid: str, direction: str, caller: str, callee: str, start: float, end: float | None) -> CallCandidate:
    return CallCandidate(uuid, direction, caller, callee, start, end, "1001", True)


def test_candidates_match_the_right_side_and_rank_by_distance() -> None:
    approx = T0
    calls = [
        call("in-during", "inbound", "+12125550101", "+12125550100", approx - 60, approx + 60),    # 0 s
        call("out-before", "outbound", "+12125550100", "2125550101", approx - 700, approx - 600),   # 600 s
        call("in-after", "inbound", "sip:+12125550101@trunk", "100", approx + 300, approx + 400),  # 300 s
        call("in-too-far", "inbound", "+12125550101", "100", approx + 901, approx + 960),           # outside
        call("out-wrong-side", "outbound", "+12125550101", "+12125550199", approx, approx + 10),     # caller is us
        call("in-other", "inbound", "+12125550102", "100", approx, approx + 10),
        call("internal", "internal", "+12125550101", "1002", approx, approx + 10),
        call("ringing-now", "inbound", "12125550101", "100", approx - 120, None),                   # 120 s
    ]
    found = match_calls(calls, NUMBER, approx, 900.0, region="US")
    assert [(m.call.call, m.distance_s) for m in found] == [
        ("in-during", 0.0), ("ringing-now", 120.0), ("in-after", 300.0), ("out-before", 600.0)]


def test_equal_distances_rank_by_start_then_uuid() -> None:
    calls = [call("b", "inbound", NUMBER, "1", T0 + 10, T0 + 20), call("a", "inbound", NUMBER, "1", T0 + 10, T0 + 20),
             call("c", "inbound", NUMBER, "1", T0 - 20, T0 - 10)]
    assert [m.call.call for m in match_calls(calls, NUMBER, T0, 60.0)] == ["c", "a", "b"]
