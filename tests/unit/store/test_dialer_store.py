"""DialerStore on a real SQLite file: imports, due leads, the ledger (and a kill -9), DNC,
dispositions and callbacks."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from callfloor.store import Store
from callfloor.store.dialer import (
    AttemptClosedError,
    DialerStore,
    DispositionError,
    DuplicateAttemptError,
    NotDialableError,
    UnknownAttemptError,
    UnknownCampaignError,
    UnknownLeadError,
)
from dialer.campaign import Campaign, DispositionConfig
from dialer.eligibility import History, LeadState, decide
from dialer.leads import ImportReport, Lead, parse_leads
from dialer.records import ImportResult

T0 = 1_772_000_000.0  # 2026-02-25 06:13 UTC
NY, LDN = ("America/New_York", "US"), ("Europe/London", "GB")
CSV = (
    "number,name,plan\n"
    "(212) 555-0101,Avery,Gold\n"  # lead 1
    "(212) 555-0102,Jordan,\n"  # lead 2
    "+44 20 7946 0011,Oliver,Silver\n"  # lead 3
    "+86 10 5555 0101,王芳,金卡\n"  # lead 4
    "(208) 555-0111,Held,\n"  # lead 5: time zone unknown
)


def campaign(**changes: Any) -> Campaign:
    return Campaign(id="renewals", caller_id="+12125550100", max_attempts=3, **changes)


def report(text: str = CSV) -> ImportReport:
    return parse_leads(text, region="US", now=T0)


def raw(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """A second connection, as another process would see the file."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "callfloor.db"


@pytest.fixture
async def store(path: Path) -> AsyncIterator[Store]:
    s = await Store.open(path)
    yield s
    await s.close()


@pytest.fixture
async def dialer(store: Store) -> DialerStore:
    d = DialerStore(store)
    await d.sync_campaigns([campaign()], T0)
    await d.import_leads("renewals", report(), T0)
    return d


# -- campaigns and imports -----------------------------------------------------------------


async def test_sync_campaigns_writes_updates_and_deactivates(store: Store, path: Path) -> None:
    d = DialerStore(store)
    await d.sync_campaigns([campaign(), Campaign(id="surveys", caller_id="+12125550100")], T0)
    await d.sync_campaigns([campaign(name="Renewals 2026")], T0 + 10)
    rows = {r.id: r for r in await d.campaigns()}
    assert (rows["renewals"].name, rows["renewals"].active, rows["renewals"].updated_at) == ("Renewals 2026", True, T0 + 10)
    assert (rows["surveys"].active, rows["surveys"].created_at) == (False, T0)
    fresh = DialerStore(store)  # reads the settings back from the JSON config column
    assert await fresh.campaign("renewals") == campaign(name="Renewals 2026")
    with pytest.raises(UnknownCampaignError):
        await fresh.campaign("nope")


async def test_import_writes_every_lead(dialer: DialerStore, path: Path) -> None:
    rows = raw(path, "SELECT id, number, name, data, time_zone, country, status, attempts, import_line FROM leads ORDER BY id")
    assert rows == [
        (1, "+12125550101", "Avery", '{"plan": "Gold"}', "America/New_York", "US", "new", 0, 2),
        (2, "+12125550102", "Jordan", "{}", "America/New_York", "US", "new", 0, 3),
        (3, "+442079460011", "Oliver", '{"plan": "Silver"}', "Europe/London", "GB", "new", 0, 4),
        (4, "+861055550101", "王芳", '{"plan": "金卡"}', "Asia/Shanghai", "CN", "new", 0, 5),
        (5, "+12085550111", "Held", "{}", None, "US", "held", 0, 6),
    ]
    assert await dialer.lead_counts("renewals") == {"new": 4, "held": 1}
    assert await dialer.lead_zones("renewals") == [("America/New_York", "US"), ("Asia/Shanghai", "CN"), ("Europe/London", "GB")]


async def test_reimport_leaves_existing_leads_and_counts_dnc(dialer: DialerStore) -> None:
    await dialer.dnc_add("+12125550103", now=T0, reason="complaint", source="complaint")
    again = await dialer.import_leads("renewals", report("number\n212-555-0101\n212-555-0103\n"), T0 + 5)
    assert again == ImportResult(1, ((2, "+12125550101"),), 1, False, 0)
    preview = await dialer.preview_import("renewals", report("number\n212-555-0101\n212-555-0104\n(208) 555-0119\n"))
    assert preview == ImportResult(2, ((2, "+12125550101"),), 0, False, 1)
    assert sum((await dialer.lead_counts("renewals")).values()) == 6  # the preview wrote nothing


async def test_strict_import_with_bad_rows_writes_nothing(store: Store, path: Path) -> None:
    d = DialerStore(store)
    await d.sync_campaigns([campaign()], T0)
    bad = report("number\n212-555-0101\n12\n")
    assert await d.import_leads("renewals", bad, T0, strict=True) == ImportResult(0, refused=True)
    assert raw(path, "SELECT count(*) FROM leads") == [(0,)]
    assert (await d.import_leads("renewals", bad, T0)).inserted == 1


async def test_a_failing_import_rolls_back_whole(store: Store, path: Path) -> None:
    d = DialerStore(store)
    await d.sync_campaigns([campaign()], T0)
    good = report("number\n212-555-0101\n212-555-0102\n")
    broken = Lead(9, "+12125550109", "US", "America/New_York", None, {"x": object()})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        await d.import_leads("renewals", replace(good, leads=(*good.leads, broken)), T0)
    assert raw(path, "SELECT count(*) FROM leads") == [(0,)]
    await store.record_event("after", "x", T0, {})  # the shared connection is usable again
    with pytest.raises(UnknownCampaignError):
        await d.import_leads("nope", good, T0)


# -- due leads -------------------------------------------------------------------------------


async def test_next_leads_order_callbacks_retries_new(dialer: DialerStore, path: Path) -> None:
    raw(path, "UPDATE leads SET status = 'retry', attempts = 1, next_at = ? WHERE id = 2", (T0 - 60,))
    await dialer.create_callback(3, T0 - 10, created_by="1001", now=T0 - 100)
    zones = [NY, LDN]
    got = await dialer.next_leads("renewals", 10, T0, zones)
    assert [(lead.id, lead.status) for lead in got] == [(3, "callback"), (2, "retry"), (1, "new")]
    assert [lead.id for lead in await dialer.next_leads("renewals", 2, T0, zones)] == [3, 2]
    assert got[2].data == {"plan": "Gold"} and got[2].reserved_seat is False


async def test_next_leads_filters(dialer: DialerStore, path: Path) -> None:
    everywhere = [NY, LDN, ("Asia/Shanghai", "CN")]
    raw(path, "UPDATE leads SET status = 'retry', attempts = 1, next_at = ? WHERE id = 2", (T0 + 60,))  # not due
    raw(path, "UPDATE leads SET status = 'retry', attempts = 3 WHERE id = 1")  # max attempts
    await dialer.dnc_add("+442079460011", now=T0, reason="complaint", campaign_id="renewals")
    assert [lead.id for lead in await dialer.next_leads("renewals", 10, T0, everywhere)] == [4]
    assert await dialer.next_leads("renewals", 10, T0, [NY, LDN]) == []  # Shanghai is closed
    await dialer.open_attempt(4, "call-4", "progressive", T0)
    assert await dialer.next_leads("renewals", 10, T0, everywhere) == []  # an attempt is open


async def test_callback_to_a_seat_waits_for_that_seat(dialer: DialerStore) -> None:
    await dialer.create_callback(3, T0 - 10, created_by="1001", now=T0 - 100, seat_id="1001")
    assert [lead.id for lead in await dialer.next_leads("renewals", 10, T0, [LDN])] == []
    got = await dialer.next_leads("renewals", 10, T0, [LDN], ready_seats={"1002", "1001"})
    assert [(lead.id, lead.callback_seat) for lead in got] == [(3, "1001")]


async def test_abandoned_number_is_flagged_for_a_reserved_seat(dialer: DialerStore) -> None:
    await dialer.sync_campaigns([campaign(retry={"abandoned": "10m"})], T0)  # a short delay, then a reserved seat
    attempt = await dialer.open_attempt(1, "call-1", "predictive", T0)
    await dialer.close_attempt(attempt, "abandoned", now=T0 + 30, sip_status=200, answered_at=T0 + 20)
    after = await dialer.lead(1)
    assert after is not None and (after.status, after.next_at) == ("retry", T0 + 630)
    later = T0 + 3600
    [lead] = [x for x in await dialer.next_leads("renewals", 10, later, [NY]) if x.id == 1]
    assert lead.reserved_seat is True
    assert 1 not in [x.id for x in await dialer.next_leads("renewals", 10, later, [NY], reserved=False)]
    assert await dialer.abandoned_within("+12125550101", 72, later)
    assert not await dialer.abandoned_within("+12125550101", 72, T0 + 30 + 72 * 3600)
    with pytest.raises(NotDialableError) as caught:
        await dialer.open_attempt(1, "call-2", "predictive", later)
    assert caught.value.reason == "reserved_seat"
    assert await dialer.open_attempt(1, "call-2", "predictive", later, seat_reserved=True) == 2


async def test_next_leads_agrees_with_decide(dialer: DialerStore, path: Path) -> None:
    """The SQL selection and the pure rules give the same leads."""
    await dialer.import_leads("renewals", report("number\n" + "".join(f"212-555-01{n}\n" for n in range(10, 30))), T0)
    raw(path, "UPDATE leads SET status = 'retry', attempts = id % 4, next_at = ? + (id % 3 - 1) * 600 WHERE id % 2 = 0", (T0,))
    raw(path, "UPDATE leads SET status = 'done' WHERE id % 7 = 0")
    for n in (11, 13, 17):
        await dialer.dnc_add(f"+121255501{n}", now=T0, reason="x", campaign_id="renewals" if n == 13 else None)
    await dialer.create_callback(9, T0 - 5, created_by="1001", now=T0 - 50, seat_id="1002")
    await dialer.create_callback(15, T0 - 5, created_by="1001", now=T0 - 50, seat_id="1001")
    await dialer.open_attempt(19, "open-19", "progressive", T0 - 1)
    zones, seats = [NY, LDN], {"1001"}
    got = {lead.id for lead in await dialer.next_leads("renewals", 100, T0, zones, ready_seats=seats)}
    expected = set()
    for (lead_id,) in raw(path, "SELECT id FROM leads"):
        row = await dialer.lead(lead_id)
        assert row is not None
        dnc = bool(await dialer.dnc_check(row.number, campaign_id="renewals"))
        dialing = any(a.state == "dialing" for a in await dialer.attempts(lead_id))
        window = ((row.time_zone, row.country) in zones, None)
        verdict = decide(LeadState.of(row), History(dialing=dialing), dnc=dnc, window=window, now=T0,
                         max_attempts=3, ready_seats=seats)
        if verdict.dial:
            expected.add(lead_id)
    assert got == expected and len(got) >= 5


# -- the ledger --------------------------------------------------------------------------------


async def test_open_attempt_is_committed_when_it_returns(dialer: DialerStore, path: Path) -> None:
    attempt = await dialer.open_attempt(1, "call-1", "progressive", T0)
    assert raw(path, "SELECT id, lead_id, number, call_uuid, mode, state, created_at FROM attempts") == [
        (attempt, 1, "+12125550101", "call-1", "progressive", "dialing", T0)
    ]
    assert raw(path, "SELECT attempts FROM leads WHERE id = 1") == [(1,)]


@pytest.mark.parametrize(
    ("setup", "lead_id", "reason"),
    [
        ("INSERT INTO dnc VALUES ('+12125550101', '', 'complaint', 'complaint', NULL, 0)", 1, "dnc"),
        ("INSERT INTO dnc VALUES ('+12125550101', 'renewals', 'asked', 'api', NULL, 0)", 1, "dnc"),
        ("UPDATE leads SET status = 'done' WHERE id = 1", 1, "done"),
        ("SELECT 1", 5, "held"),
    ],
)
async def test_open_attempt_refusals(dialer: DialerStore, path: Path, setup: str, lead_id: int, reason: str) -> None:
    raw(path, setup)
    with pytest.raises(NotDialableError) as caught:
        await dialer.open_attempt(lead_id, "call-x", "progressive", T0)
    assert caught.value.reason == reason
    assert raw(path, "SELECT count(*) FROM attempts") == [(0,)]


async def test_one_attempt_at_a_time_and_unique_uuids(dialer: DialerStore, path: Path) -> None:
    await dialer.open_attempt(1, "call-1", "progressive", T0)
    with pytest.raises(NotDialableError, match="dialing"):
        await dialer.open_attempt(1, "call-2", "progressive", T0)
    with pytest.raises(DuplicateAttemptError):
        await dialer.open_attempt(2, "call-1", "progressive", T0)
    assert raw(path, "SELECT id, attempts FROM leads WHERE id IN (1, 2) ORDER BY id") == [(1, 1), (2, 0)]
    with pytest.raises(UnknownLeadError):
        await dialer.open_attempt(99, "call-9", "progressive", T0)


async def test_close_attempt_reschedules_by_outcome(dialer: DialerStore) -> None:
    first = await dialer.open_attempt(1, "a1", "progressive", T0)
    row = await dialer.close_attempt(first, "busy", now=T0 + 5, sip_status=486)
    assert (row.state, row.outcome, row.sip_status, row.closed_at) == ("closed", "busy", 486, T0 + 5)
    lead = await dialer.lead(1)
    assert lead is not None and (lead.status, lead.next_at, lead.last_outcome, lead.attempts) == ("retry", T0 + 605, "busy", 1)
    second = await dialer.open_attempt(1, "a2", "progressive", T0 + 700)
    await dialer.close_attempt(second, "no_answer", now=T0 + 730, sip_status=480)
    third = await dialer.open_attempt(1, "a3", "progressive", T0 + 5000)
    await dialer.close_attempt(third, "no_answer", now=T0 + 5030)
    lead = await dialer.lead(1)
    assert lead is not None and (lead.status, lead.next_at, lead.attempts) == ("done", None, 3)
    with pytest.raises(AttemptClosedError):
        await dialer.close_attempt(third, "answered", now=T0 + 5031)
    with pytest.raises(UnknownAttemptError):
        await dialer.close_attempt(99, "answered", now=T0)


async def test_answered_and_gone_numbers_are_done(dialer: DialerStore) -> None:
    answered = await dialer.open_attempt(1, "a1", "predictive", T0)
    row = await dialer.close_attempt(answered, "answered", now=T0 + 90, sip_status=200, answered_at=T0 + 8,
                                     connected_at=T0 + 9, seat_id="1001", amd="human")
    assert (row.answered_at, row.connected_at, row.seat_id, row.amd) == (T0 + 8, T0 + 9, "1001", "human")
    gone = await dialer.open_attempt(2, "a2", "predictive", T0)
    await dialer.close_attempt(gone, "rejected", now=T0 + 1, sip_status=404)
    assert [(x.status, x.last_outcome) for x in (await dialer.lead(1), await dialer.lead(2)) if x] == [
        ("done", "answered"), ("done", "rejected")
    ]


async def test_kill_9_between_open_and_close_then_recover(store: Store, path: Path) -> None:
    d = DialerStore(store)
    await d.sync_campaigns([campaign()], T0)
    await d.import_leads("renewals", report(), T0)
    await store.close()
    child = textwrap.dedent(f"""
        import asyncio, os, signal
        from pathlib import Path
        from callfloor.store import Store
        from callfloor.store.dialer import DialerStore

        async def main():
            store = await Store.open(Path({str(path)!r}))
            attempt = await DialerStore(store).open_attempt(1, "call-1", "predictive", {T0})
            print(attempt, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)  # the INVITE would leave now

        asyncio.run(main())
    """)
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert done.returncode == -9 and done.stdout == "1\n", done.stderr
    async with await Store.open(path) as reopened:
        d = DialerStore(reopened)
        lost = await d.recover(T0 + 100)
        assert [(a.id, a.call_uuid, a.state, a.outcome, a.closed_at) for a in lost] == [(1, "call-1", "closed", "lost", T0 + 100)]
        lead = await d.lead(1)
        assert lead is not None and (lead.status, lead.attempts, lead.next_at, lead.last_outcome) == ("retry", 1, T0 + 3700, "lost")
        assert [x.id for x in await d.next_leads("renewals", 10, T0 + 100, [NY])] == [2]  # not redialled yet
        with pytest.raises(DuplicateAttemptError):
            await d.open_attempt(1, "call-1", "predictive", T0 + 3700)  # never again as itself
        assert await d.recover(T0 + 200) == []
        assert await d.open_attempt(1, "call-1b", "predictive", T0 + 3700) == 2


# -- do-not-call, dispositions and callbacks --------------------------------------------------


async def test_dnc_lists(dialer: DialerStore) -> None:
    number = "+12125550102"
    assert await dialer.dnc_add(number, now=T0, reason="groundless complaint", source="complaint", added_by="qa1")
    assert not await dialer.dnc_add(number, now=T0 + 1, reason="again", source="api")
    assert await dialer.dnc_add(number, now=T0 + 2, reason="asked", campaign_id="renewals")
    entries = await dialer.dnc_check(number, campaign_id="renewals")
    assert [(e.campaign_id, e.reason, e.source, e.added_by, e.added_at, e.is_global) for e in entries] == [
        ("", "groundless complaint", "complaint", "qa1", T0, True),
        ("renewals", "asked", "api", None, T0 + 2, False),
    ]
    assert [e.campaign_id for e in await dialer.dnc_check(number, campaign_id="other")] == [""]
    assert await dialer.dnc_remove(number)
    assert not await dialer.dnc_remove(number)
    assert [e.campaign_id for e in await dialer.dnc_check(number)] == ["renewals"]


async def test_dnc_disposition_puts_the_number_on_the_global_list(dialer: DialerStore) -> None:
    attempt = await dialer.open_attempt(1, "a1", "predictive", T0)
    await dialer.close_attempt(attempt, "answered", now=T0 + 60, seat_id="1001")
    row = await dialer.set_disposition(attempt, "1001", "dnc", T0 + 70, note="asked twice")
    assert (row.kind, row.seat_id, row.note, row.lead_id) == ("dnc", "1001", "asked twice", 1)
    [entry] = await dialer.dnc_check("+12125550101")
    assert (entry.campaign_id, entry.source, entry.added_by, entry.reason) == ("", "disposition", "1001", "disposition dnc")
    lead = await dialer.lead(1)
    assert lead is not None and lead.status == "dnc"
    with pytest.raises(DispositionError, match="has a disposition already"):
        await dialer.set_disposition(attempt, "1001", "sale", T0 + 80)


async def test_callback_disposition_before_the_call_is_closed(dialer: DialerStore) -> None:
    attempt = await dialer.open_attempt(1, "a1", "predictive", T0)
    await dialer.set_disposition(attempt, "1001", "callback", T0 + 50, callback_at=T0 + 86400, callback_seat="1001")
    await dialer.close_attempt(attempt, "answered", now=T0 + 60, seat_id="1001")  # does not undo it
    lead = await dialer.lead(1)
    assert lead is not None and (lead.status, lead.next_at, lead.callback_seat) == ("callback", T0 + 86400, "1001")
    assert await dialer.due_callbacks(T0 + 86399) == []
    [due] = await dialer.due_callbacks(T0 + 86400, campaign_id="renewals")
    assert (due.lead_id, due.seat_id, due.created_by, due.state) == (1, "1001", "1001", "pending")
    await dialer.open_attempt(1, "a2", "preview", T0 + 86400)  # dialling it marks it done
    assert await dialer.due_callbacks(T0 + 86400) == []


async def test_conversion_disposition_and_disposition_errors(dialer: DialerStore) -> None:
    attempt = await dialer.open_attempt(2, "a1", "predictive", T0)
    with pytest.raises(DispositionError, match="no disposition 'maybe'"):
        await dialer.set_disposition(attempt, "1001", "maybe", T0)
    with pytest.raises(DispositionError, match="give its time"):
        await dialer.set_disposition(attempt, "1001", "callback", T0)
    with pytest.raises(UnknownAttemptError):
        await dialer.set_disposition(99, "1001", "sale", T0)
    await dialer.close_attempt(attempt, "answered", now=T0 + 60, seat_id="1001")
    assert (await dialer.set_disposition(attempt, "1001", "sale", T0 + 61)).kind == "conversion"
    lead = await dialer.lead(2)
    assert lead is not None and lead.status == "done"


async def test_campaign_dispositions_are_the_campaigns(store: Store) -> None:
    d = DialerStore(store)
    own = (DispositionConfig(code="renewed", label="Renewed", kind="conversion"),)
    await d.sync_campaigns([campaign(dispositions=own)], T0)
    await d.import_leads("renewals", report(), T0)
    attempt = await d.open_attempt(1, "a1", "predictive", T0)
    with pytest.raises(DispositionError):
        await d.set_disposition(attempt, "1001", "sale", T0)
    assert (await d.set_disposition(attempt, "1001", "renewed", T0)).code == "renewed"


async def test_callbacks(dialer: DialerStore, path: Path) -> None:
    first = await dialer.create_callback(2, T0 + 60, created_by="1002", now=T0)
    second = await dialer.create_callback(3, T0 + 30, created_by="1002", now=T0, seat_id="1002")
    assert [c.id for c in await dialer.due_callbacks(T0 + 60)] == [second, first]
    assert await dialer.callback_done(first) and not await dialer.callback_done(first)
    assert [c.id for c in await dialer.due_callbacks(T0 + 60)] == [second]
    raw(path, "UPDATE leads SET status = 'dnc' WHERE id = 4")
    with pytest.raises(NotDialableError):
        await dialer.create_callback(4, T0, created_by="1002", now=T0)
    with pytest.raises(UnknownLeadError):
        await dialer.create_callback(99, T0, created_by="1002", now=T0)


async def test_lead_results_join_the_last_attempt_disposition_and_callback(dialer: DialerStore) -> None:
    first = await dialer.open_attempt(1, "a1", "predictive", T0)
    await dialer.close_attempt(first, "no_answer", now=T0 + 30)
    second = await dialer.open_attempt(1, "a2", "predictive", T0 + 4000)
    await dialer.close_attempt(second, "answered", now=T0 + 4060, seat_id="1001")
    await dialer.set_disposition(second, "1001", "sale", T0 + 4070, note="gold, 2 years")
    booked = await dialer.open_attempt(3, "a3", "predictive", T0 + 100)
    await dialer.set_disposition(booked, "1002", "callback", T0 + 150, callback_at=T0 + 86400, callback_seat="1002")
    results = await dialer.lead_results("renewals")
    assert [r.lead.id for r in results] == [1, 2, 3, 4, 5]  # every lead, in import order
    sold, untouched, callback = results[0], results[1], results[2]
    assert (sold.lead.attempts, sold.lead.status, sold.last_attempt_at) == (2, "done", T0 + 4000)
    assert (sold.disposition, sold.disposition_kind, sold.note, sold.seat, sold.disposed_at) == (
        "sale", "conversion", "gold, 2 years", "1001", T0 + 4070)
    assert (untouched.last_attempt_at, untouched.disposition, untouched.callback_at) == (None, None, None)
    assert (callback.disposition_kind, callback.callback_at, callback.lead.status) == ("callback", T0 + 86400, "callback")
    with pytest.raises(UnknownCampaignError):
        await dialer.lead_results("nope")


async def test_recycling_gives_finished_unreached_leads_a_new_pass(store: Store, path: Path) -> None:
    d = DialerStore(store)
    await d.sync_campaigns([campaign().model_copy(update={"max_attempts": 1})], T0)
    await d.import_leads("renewals", report(), T0)
    for lead_id, outcome in ((1, "no_answer"), (2, "busy"), (3, "answered"), (4, "no_answer")):
        attempt = await d.open_attempt(lead_id, f"a{lead_id}", "predictive", T0)
        await d.close_attempt(attempt, outcome, now=T0 + 30, seat_id="1001" if outcome == "answered" else None)
    await d.set_disposition(3, "1001", "sale", T0 + 40)
    await d.dnc_add("+861055550101", now=T0 + 50, reason="complaint", source="complaint")  # lead 4
    statuses = {r.lead.id: r.lead.status for r in await d.lead_results("renewals")}
    assert statuses == {1: "done", 2: "done", 3: "done", 4: "done", 5: "held"}
    assert await d.recycle_leads("renewals", ["no_answer", "busy"], T0 + 60, dry_run=True) == 2
    assert (await d.lead(1)).status == "done"  # type: ignore[union-attr]  # a dry run changes nothing
    assert await d.recycle_leads("renewals", ["no_answer"], T0 + 60, not_before=T0 + 3600) == 1
    lead = await d.lead(1)
    assert lead is not None and (lead.status, lead.attempts, lead.next_at, lead.last_outcome) == (
        "retry", 0, T0 + 3600, "no_answer")
    assert [x.id for x in await d.next_leads("renewals", 5, T0 + 3599, [NY, ("Asia/Shanghai", "CN")])] == []
    assert [x.id for x in await d.next_leads("renewals", 5, T0 + 3600, [NY, ("Asia/Shanghai", "CN")])] == [1]
    # the sold lead (a disposition) and the one on do-not-call are never recycled
    assert await d.recycle_leads("renewals", ["busy", "no_answer"], T0 + 70) == 1  # lead 2 only
    assert {r.lead.id: r.lead.status for r in await d.lead_results("renewals")}[3] == "done"
    assert (await d.lead(4)).status == "done"  # type: ignore[union-attr]
    assert len(raw(path, "SELECT id FROM attempts")) == 4  # the ledger keeps every attempt
    with pytest.raises(ValueError, match="'answered': a person took the call"):
        await d.recycle_leads("renewals", ["answered"], T0)
    with pytest.raises(ValueError, match="got none"):
        await d.recycle_leads("renewals", [], T0)
    with pytest.raises(UnknownCampaignError):
        await d.recycle_leads("nope", ["busy"], T0)
