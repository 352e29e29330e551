"""Blacklist records (pure): proposals, the second-person approval, revocation and expiry, and
every (state, action) pair of the state machine."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import pytest

from qa.blacklist import (
    TRANSITIONS,
    BlacklistError,
    BlacklistRecord,
    RecordAction,
    RecordState,
    Suppression,
    act,
    approve,
    due_to_expire,
    propose,
    revoke,
)
from qa.complaints import CaseAction, ComplaintSettings, apply, new_complaint

T0 = 1_772_000_000.0
DAY = 86400.0
NUMBER = "+12125550101"
SETTINGS = ComplaintSettings()


def closed(outcome: str = "groundless"):  # type: ignore[no-untyped-def]
    opened = new_complaint(NUMBER, T0 - 3600, 900, "phone", "rude", opened_by="qa1", now=T0, region=None)
    return replace(apply(opened, CaseAction.CLOSE, T0, outcome=outcome), id=7)


def proposal(**changes: object) -> BlacklistRecord:
    args: dict[str, object] = {"campaign_id": None, "reason": "groundless complaint", "complaint": closed(),
                               "call_uuid": "call-1", "expires_at": None, "by": "qa1", "role": "qa", "now": T0,
                               "settings": SETTINGS}
    args.update(changes)
    return replace(propose(NUMBER, **args), id=3)  # type: ignore[arg-type]


def test_a_proposal_takes_the_default_expiry_and_scope() -> None:
    r = proposal()
    assert (r.number, r.campaign_id, r.scope, r.state, r.complaint_id, r.call_uuid) == (
        NUMBER, "", "global", RecordState.PROPOSED, 7, "call-1")
    assert (r.expires_at, r.proposed_by, r.proposed_at) == (T0 + 365 * DAY, "qa1", T0)
    assert proposal(campaign_id="renewals").scope == "campaign:renewals"
    never = ComplaintSettings(default_expiry_days=None)
    assert proposal(settings=never).expires_at is None
    assert proposal(expires_at=T0 + 30 * DAY).expires_at == T0 + 30 * DAY
    assert proposal(complaint=None).complaint_id is None


@pytest.mark.parametrize(("changes", "message"), [
    ({"complaint": closed("upheld")}, "complaint 7 is upheld: only a groundless complaint"),
    ({"complaint": replace(closed(), number="+12125550102")}, "complaint 7 is about +12125550102, not +12125550101"),
    ({"reason": " "}, "reason: must not be empty"),
    ({"expires_at": T0}, "expires_at: must be in the future"),
    ({"role": "seat"}, "a seat may not propose a blacklist record"),
])
def test_bad_proposals_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(BlacklistError, match=re.escape(message)):
        proposal(**changes)


def test_a_second_person_approves() -> None:
    with pytest.raises(BlacklistError, match="qa1 proposed record 3: a second person approves it"):
        approve(proposal(by="qa1", role="lead"), by="qa1", role="lead", now=T0 + 1, settings=SETTINGS)
    with pytest.raises(BlacklistError, match="a qa may not approve a blacklist record"):
        approve(proposal(), by="qa2", role="qa", now=T0 + 1, settings=SETTINGS)
    done = approve(proposal(), by="lead1", role="lead", now=T0 + 1, settings=SETTINGS)
    assert (done.state, done.approved_by, done.approved_at) == (RecordState.ACTIVE, "lead1", T0 + 1)
    assert approve(proposal(), by="root", role="admin", now=T0 + 1, settings=SETTINGS).state is RecordState.ACTIVE


def test_small_floors_may_allow_self_approval() -> None:
    small = ComplaintSettings(allow_self_approval=True, approver_roles=("qa", "lead"))
    done = approve(proposal(settings=small), by="qa1", role="qa", now=T0 + 1, settings=small)
    assert (done.state, done.proposed_by, done.approved_by) == (RecordState.ACTIVE, "qa1", "qa1")


def test_an_expired_proposal_cannot_be_approved() -> None:
    with pytest.raises(BlacklistError, match="record 3 expired before it was approved"):
        approve(proposal(expires_at=T0 + 10), by="lead1", role="lead", now=T0 + 10, settings=SETTINGS)


def test_revoking_and_withdrawing() -> None:
    active = approve(proposal(), by="lead1", role="lead", now=T0 + 1, settings=SETTINGS)
    gone = revoke(active, RecordAction.REVOKE, by="lead2", role="lead", now=T0 + 2, reason=" paid up ", settings=SETTINGS)
    assert (gone.state, gone.ended_by, gone.ended_at, gone.end_reason) == (RecordState.REVOKED, "lead2", T0 + 2, "paid up")
    with pytest.raises(BlacklistError, match="a qa may not revoke blacklist record 3"):
        revoke(active, RecordAction.REVOKE, by="qa1", role="qa", now=T0 + 2, reason="x", settings=SETTINGS)
    withdrawn = revoke(proposal(), RecordAction.REVOKE, by="qa1", role="qa", now=T0 + 2, reason="mistake", settings=SETTINGS)
    assert withdrawn.state is RecordState.REVOKED
    with pytest.raises(BlacklistError, match="reason: say why"):
        revoke(proposal(), RecordAction.REJECT, by="lead1", role="lead", now=T0, reason="", settings=SETTINGS)
    with pytest.raises(BlacklistError, match="approve is not a rejection or revocation"):
        revoke(proposal(), RecordAction.APPROVE, by="lead1", role="lead", now=T0, reason="x", settings=SETTINGS)


@pytest.mark.parametrize(("state", "action"), list(itertools.product(RecordState, RecordAction)))
def test_every_state_and_action(state: RecordState, action: RecordAction) -> None:
    record = replace(proposal(), state=state)
    if (state, action) in TRANSITIONS:
        assert act(record, action) is TRANSITIONS[state, action]
    else:
        with pytest.raises(BlacklistError, match=f"cannot {action.value} blacklist record 3: it is {state.value}"):
            act(record, action)


def test_expiry_is_due_for_active_records_only() -> None:
    active = approve(proposal(expires_at=T0 + DAY), by="lead1", role="lead", now=T0, settings=SETTINGS)
    assert [due_to_expire(active, t) for t in (T0 + DAY - 1, T0 + DAY)] == [False, True]
    assert not due_to_expire(replace(active, expires_at=None), T0 + 1e9)
    assert not due_to_expire(proposal(expires_at=T0 + DAY), T0 + 2 * DAY)


def test_suppression_totals() -> None:
    assert Suppression(NUMBER, "", {"a": 1, "b": 1}).total == 2
    assert Suppression(NUMBER, "a").total == 0
