"""ComplaintStore on a real SQLite file with the real DialerStore: cases, steps, linked calls and
recording holds; blacklist records that the dialer's own next_leads / open_attempt honour, their
expiry and revocation, the suppression preview, and an audit row for every change."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from callfloor.store import Store
from callfloor.store.audit import AuditLog
from callfloor.store.blacklist import UnknownRecordError
from callfloor.store.complaints import ComplaintStore
from callfloor.store.db import CallStart, UnknownCallError
from callfloor.store.dialer import DialerStore, NotDialableError, UnknownCampaignError
from dialer.campaign import Campaign
from dialer.leads import parse_leads
from qa.blacklist import BlacklistError, RecordAction, RecordState
from qa.complaints import CaseAction, CaseState, ComplaintError, ComplaintSettings

T0 = 1_772_000_000.0
DAY = 86400.0
NUMBER = "+12125550101"
NY = [("America/New_York", "US")]
SETTINGS = ComplaintSettings()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "callfloor.db")
    yield s
    await s.close()


@pytest.fixture
async def dialer(store: Store) -> DialerStore:
    d = DialerStore(store)
    await d.sync_campaigns([Campaign(id=c, caller_id="+12125550100") for c in ("renewals", "winback")], T0)
    for c in ("renewals", "winback"):
        await d.import_leads(c, parse_leads("number\n(212) 555-0101\n(212) 555-0102\n", region="US", now=T0), T0)
    return d


@pytest.fixture
async def cs(store: Store, dialer: DialerStore) -> ComplaintStore:
    await store.call_started(CallStart("c-in", "sip-1", "inbound", "+12125550101", "+12125550100", None, "1001",
                                       T0 - 3700, "2026/c-in.wav"))
    await store.call_ended("c-in", T0 - 3500, "bye")
    await store.call_started(CallStart("c-out", "sip-2", "outbound", "+12125550100", "+12125550101", None, "1002",
                                       T0 - 3000, None))
    await store.call_ended("c-out", T0 - 2900, "bye")
    await store.call_started(CallStart("c-other", "sip-3", "inbound", "+12125550102", "100", None, "1001",
                                       T0 - 3600, None))
    return ComplaintStore(store)


async def leads(dialer: DialerStore, campaign: str, now: float = T0) -> list[str]:
    return [lead.number for lead in await dialer.next_leads(campaign, 10, now, NY)]


async def actions(store: Store) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.subject) for e in reversed(await AuditLog(store).entries(limit=100))
            if not e.action.startswith("user.")]


async def groundless(cs: ComplaintStore) -> int:
    case = await cs.open_case("(212) 555-0101", T0 - 3600, 900, "phone", "rude agent", by="qa1", now=T0, region="US")
    assert await cs.link_call(case.id, "c-in", by="qa1", now=T0 + 1)
    await cs.act(case.id, CaseAction.CLOSE, by="qa1", now=T0 + 2, outcome="groundless")
    return case.id


async def test_a_case_finds_links_holds_and_closes(cs: ComplaintStore, store: Store) -> None:
    case = await cs.open_case("212-555-0101", T0 - 3600, 900, "phone", "rude agent", by="qa1", now=T0, region="US")
    assert (case.id, case.number, case.state) == (1, NUMBER, CaseState.OPEN)
    found = await cs.candidates(case.number, case.approx_at, case.tolerance_s, region="US")
    assert [(m.call.call, m.distance_s, m.call.recording) for m in found] == [("c-in", 0.0, True), ("c-out", 600.0, False)]
    assert await cs.link_call(1, "c-in", by="qa1", now=T0 + 1)
    assert not await cs.link_call(1, "c-in", by="qa1", now=T0 + 1)
    with pytest.raises(UnknownCallError):
        await cs.link_call(1, "nope", by="qa1", now=T0 + 1)
    assert [c.uuid for c in await cs.linked_calls(1)] == ["c-in"] and await cs.cases_of_call("c-in") == [1]
    assert await cs.held_calls() == {"c-in"}
    await cs.act(1, CaseAction.INVESTIGATE, by="qa1", now=T0 + 2)
    step = await cs.add_step(1, "call the customer back", T0 + DAY, by="qa1", now=T0 + 3)
    done = await cs.step_done(1, step.id, by="qa2", now=T0 + 4)
    assert (done.done_at, done.done_by, done.due_at) == (T0 + 4, "qa2", T0 + DAY)
    with pytest.raises(ComplaintError, match="step 1 is done already"):
        await cs.step_done(1, step.id, by="qa2", now=T0 + 5)
    closed = await cs.act(1, CaseAction.CLOSE, by="qa1", now=T0 + 6, outcome="upheld", note="apologised")
    assert (closed.state, closed.outcome and closed.outcome.value, closed.closed_at) == (CaseState.CLOSED, "upheld", T0 + 6)
    assert await cs.held_calls() == set()  # closing the case releases its hold
    with pytest.raises(ComplaintError, match="complaint 1 is closed: reopen it to link calls"):
        await cs.link_call(1, "c-out", by="qa1", now=T0 + 7)
    await cs.act(1, CaseAction.REOPEN, by="lead1", now=T0 + 8)
    assert await cs.held_calls() == {"c-in"}
    assert [(h.reason, h.held_at, h.released_at) for h in await cs.holds("c-in")] == [
        ("complaint 1", T0 + 1, T0 + 6), ("complaint 1", T0 + 8, None)]
    assert await cs.unlink_call(1, "c-in", by="lead1", now=T0 + 9)
    assert await cs.held_calls() == set()
    assert [a for _, a, _ in await actions(store)] == [
        "complaint.open", "complaint.link", "complaint.investigate", "complaint.step", "complaint.step_done",
        "complaint.close", "complaint.reopen", "complaint.unlink"]
    assert [c.id for c in await cs.cases(state="investigating", number=NUMBER)] == [1]


async def test_preview_counts_pending_leads_per_campaign(cs: ComplaintStore, dialer: DialerStore) -> None:
    preview = await cs.preview_blacklist(NUMBER)
    assert (dict(preview.leads), preview.total, preview.listed) == ({"renewals": 1, "winback": 1}, 2, False)
    assert dict((await cs.preview_blacklist(NUMBER, "winback")).leads) == {"winback": 1}
    await dialer.dnc_add(NUMBER, now=T0, reason="asked", source="api", campaign_id="renewals")
    preview = await cs.preview_blacklist(NUMBER)
    assert (dict(preview.leads), preview.listed) == ({"winback": 1}, False)  # renewals stops it already
    assert (await cs.preview_blacklist(NUMBER, "renewals")).listed


async def test_an_approved_record_stops_the_dialer_and_expiry_lets_it_go(cs: ComplaintStore, dialer: DialerStore,
                                                                         store: Store) -> None:
    case_id = await groundless(cs)
    record, preview = await cs.propose_blacklist(
        NUMBER, campaign_id=None, reason="groundless complaint", complaint_id=case_id, call_uuid="c-in",
        expires_at=T0 + 30 * DAY, by="qa1", role="qa", now=T0 + 10, settings=SETTINGS)
    assert (record.id, record.state, preview.total) == (1, RecordState.PROPOSED, 2)
    assert await cs.held_calls() == {"c-in"}  # the record keeps the recording behind it
    assert await leads(dialer, "renewals") == [NUMBER, "+12125550102"]  # a proposal lists nothing
    with pytest.raises(BlacklistError, match="a second person approves it"):
        await cs.approve_blacklist(1, by="qa1", role="lead", now=T0 + 11, settings=SETTINGS)
    active = await cs.approve_blacklist(1, by="lead1", role="lead", now=T0 + 12, settings=SETTINGS)
    assert (active.state, active.approved_by) == (RecordState.ACTIVE, "lead1")
    [entry] = await dialer.dnc_check(NUMBER)
    assert (entry.campaign_id, entry.source, entry.added_by, entry.reason) == (
        "", "blacklist", "lead1", "blacklist 1: groundless complaint")
    assert await leads(dialer, "renewals") == await leads(dialer, "winback") == ["+12125550102"]
    with pytest.raises(NotDialableError) as refused:
        await dialer.open_attempt(1, "a-1", "predictive", T0 + 13)
    assert refused.value.reason == "dnc"
    assert await cs.expire_blacklist(T0 + 30 * DAY - 1) == []
    [gone] = await cs.expire_blacklist(T0 + 30 * DAY)
    assert (gone.state, gone.ended_by, gone.end_reason) == (RecordState.EXPIRED, "system:blacklist-expiry", "expired")
    assert await dialer.dnc_check(NUMBER) == []
    assert await leads(dialer, "renewals", T0 + 30 * DAY) == [NUMBER, "+12125550102"]
    assert await cs.held_calls() == set()
    audit = await AuditLog(store).entries(subject="blacklist:1")
    assert [(e.action, e.detail.get("dnc")) for e in reversed(audit)] == [
        ("blacklist.propose", None), ("blacklist.approve", "added"), ("blacklist.expire", "removed")]
    assert audit[-1].detail["suppresses"] == {"renewals": 1, "winback": 1}
    assert audit[1].detail["suppressed"] == {"renewals": 1, "winback": 1}


async def approved(cs: ComplaintStore, *, campaign: str | None = None, expires: float | None = T0 + DAY,
                   now: float = T0 + 10) -> int:
    record, _ = await cs.propose_blacklist(NUMBER, campaign_id=campaign, reason="groundless", complaint_id=None,
                                           call_uuid=None, expires_at=expires, by="qa1", role="qa", now=now,
                                           settings=SETTINGS)
    await cs.approve_blacklist(record.id, by="lead1", role="lead", now=now, settings=SETTINGS)
    return record.id


async def test_a_disposition_dnc_keeps_the_number_when_the_record_expires(cs: ComplaintStore,
                                                                          dialer: DialerStore) -> None:
    attempt = await dialer.open_attempt(1, "a-1", "predictive", T0)  # dialled before the complaint
    await dialer.close_attempt(attempt, "answered", now=T0 + 60, seat_id="1001")
    await approved(cs)
    await dialer.set_disposition(attempt, "1001", "dnc", T0 + 70)  # refused by the entry (ON CONFLICT)
    await cs.expire_blacklist(T0 + DAY)
    [entry] = await dialer.dnc_check(NUMBER)
    assert (entry.source, entry.added_by, entry.reason) == ("disposition", "1001", "disposition dnc")
    assert await leads(dialer, "winback", T0 + DAY) == ["+12125550102"]


async def test_entries_of_other_sources_and_other_records_stay(cs: ComplaintStore, dialer: DialerStore,
                                                               store: Store) -> None:
    await dialer.dnc_add(NUMBER, now=T0, reason="asked on the phone", source="cli", added_by="ann")
    first = await approved(cs)
    await cs.expire_blacklist(T0 + DAY)
    [entry] = await dialer.dnc_check(NUMBER)
    assert (entry.source, entry.added_by) == ("cli", "ann")
    await dialer.dnc_remove(NUMBER)
    second, third = await approved(cs, expires=None), await approved(cs, expires=None)
    await cs.end_blacklist(second, RecordAction.REVOKE, by="lead2", role="lead", now=T0 + 20, reason="paid",
                           settings=SETTINGS)
    assert [e.source for e in await dialer.dnc_check(NUMBER)] == ["blacklist"]  # the third still holds it
    await cs.end_blacklist(third, RecordAction.REVOKE, by="lead2", role="lead", now=T0 + 21, reason="paid",
                           settings=SETTINGS)
    assert await dialer.dnc_check(NUMBER) == []
    details = {e.subject: e.detail["dnc"] for e in await AuditLog(store).entries(action="blacklist.revoke")}
    assert details == {f"blacklist:{second}": "kept: another active record", f"blacklist:{third}": "removed"}
    assert (first, [r.state for r in await cs.blacklist_records(number=NUMBER)]) == (
        1, [RecordState.REVOKED, RecordState.REVOKED, RecordState.EXPIRED])


async def test_a_campaign_record_stops_only_that_campaign(cs: ComplaintStore, dialer: DialerStore) -> None:
    await approved(cs, campaign="renewals")
    assert [(e.campaign_id, e.source) for e in await dialer.dnc_check(NUMBER)] == [("renewals", "blacklist")]
    assert await leads(dialer, "renewals") == ["+12125550102"]
    assert await leads(dialer, "winback") == [NUMBER, "+12125550102"]
    with pytest.raises(UnknownCampaignError):
        await approved(cs, campaign="nope")


async def test_the_expiry_job_relists_an_entry_removed_by_hand(cs: ComplaintStore, dialer: DialerStore,
                                                               store: Store) -> None:
    record = await approved(cs, expires=None)
    assert await dialer.dnc_remove(NUMBER)
    assert await cs.expire_blacklist(T0 + 100) == []
    assert [e.source for e in await dialer.dnc_check(NUMBER)] == ["blacklist"]
    [entry] = await AuditLog(store).entries(action="blacklist.relist")
    assert (entry.actor, entry.subject) == ("system:blacklist-expiry", f"blacklist:{record}")


async def test_proposals_are_checked_against_the_case_and_the_call(cs: ComplaintStore) -> None:
    case = await cs.open_case(NUMBER, T0 - 3600, 900, "email", "x", by="qa1", now=T0, region=None)
    args: dict[str, Any] = {"campaign_id": None, "reason": "groundless", "call_uuid": None, "expires_at": None,
                            "by": "qa1", "role": "qa", "now": T0, "settings": SETTINGS}
    with pytest.raises(BlacklistError, match="complaint 1 is open: only a groundless complaint"):
        await cs.propose_blacklist(NUMBER, complaint_id=case.id, **args)
    with pytest.raises(UnknownRecordError, match="no complaint 99"):
        await cs.propose_blacklist(NUMBER, complaint_id=99, **args)
    case_id = await groundless(cs)
    with pytest.raises(UnknownRecordError, match="call c-out is not linked to complaint 2"):
        await cs.propose_blacklist(NUMBER, complaint_id=case_id, **{**args, "call_uuid": "c-out"})
    with pytest.raises(UnknownRecordError, match="no call ghost"):
        await cs.propose_blacklist(NUMBER, complaint_id=None, **{**args, "call_uuid": "ghost"})
    assert await cs.blacklist_records() == []  # every refusal rolled back


async def test_the_schema_refuses_an_unapproved_active_record(cs: ComplaintStore, store: Store) -> None:
    await approved(cs)
    with sqlite3.connect(store.path) as raw, pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        raw.execute("UPDATE blacklist SET approved_by = NULL")
