"""The ledger's history query on a real SQLite file: a campaign's closed attempts since a time,
the newest first and at most N, read through the campaign's index."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callfloor.store import Store
from callfloor.store.dialer import DialerStore
from callfloor.store.dialer.ledger import HISTORY
from dialer.campaign import Campaign
from dialer.leads import parse_leads
from dialer.records import AttemptRow

T0 = 1_772_000_000.0
CSV = "number\n" + "".join(f"(212) 555-01{i:02d}\n" for i in range(1, 9))


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[tuple[DialerStore, Path]]:
    path = tmp_path / "callfloor.db"
    store = await Store.open(path)
    d = DialerStore(store)
    await d.sync_campaigns([Campaign(id="a", caller_id="+12125550100"),
                            Campaign(id="b", caller_id="+12125550100")], T0)
    await d.import_leads("a", parse_leads(CSV, region="US", now=T0), T0)  # leads 1-8
    await d.import_leads("b", parse_leads(CSV, region="US", now=T0), T0)  # leads 9-16
    yield d, path
    await store.close()


async def test_closed_attempts_since_newest_first(ledger: tuple[DialerStore, Path]) -> None:
    d, _ = ledger
    # (lead, created, outcome or None to leave it open); lead 9 is campaign b's.
    plan = [(1, -500.0, "busy"), (2, -400.0, "answered"), (3, -300.0, "no_answer"),
            (4, -300.0, "abandoned"), (5, -200.0, None), (6, -100.0, "machine"), (9, -50.0, "busy"),
            (7, -1000.0, "busy")]
    ids = {}
    for lead, created, outcome in plan:
        attempt = await d.open_attempt(lead, f"call-{lead}", "predictive", T0 + created)
        ids[lead] = attempt
        if outcome is not None:
            answered = T0 + created + 8.0 if outcome in ("answered", "abandoned", "machine") else None
            await d.close_attempt(attempt, outcome, now=T0 + created + 30.0,  # type: ignore[arg-type]
                                  sip_status=486 if outcome == "busy" else None, answered_at=answered,
                                  connected_at=T0 + created + 9.0 if outcome == "answered" else None,
                                  seat_id="1001" if outcome == "answered" else None)

    got = await d.closed_attempts("a", T0 - 600.0, 10)
    # 5 is open, 7 too old, 9 another campaign's; 3 and 4 were created together: the later id first.
    assert [a.lead_id for a in got] == [6, 4, 3, 2, 1]
    assert got[3] == AttemptRow(ids[2], 2, "a", "+12125550102", "call-2", "predictive", "closed",
                                "answered", None, T0 - 400.0, T0 - 392.0, T0 - 391.0, "1001", None,
                                T0 - 370.0)
    assert [a.lead_id for a in await d.closed_attempts("a", T0 - 600.0, 2)] == [6, 4]
    assert [a.lead_id for a in await d.closed_attempts("a", T0 - 300.0, 10)] == [6]  # after, not at
    assert [a.lead_id for a in await d.closed_attempts("a", T0 - 2000.0, 10)] == [6, 4, 3, 2, 1, 7]
    assert [a.lead_id for a in await d.closed_attempts("b", T0 - 600.0, 10)] == [9]
    assert await d.closed_attempts("nobody", T0 - 600.0, 10) == []


async def test_the_query_reads_the_campaign_index_and_needs_no_sort(
        ledger: tuple[DialerStore, Path]) -> None:
    _, path = ledger
    with sqlite3.connect(path) as conn:
        plan = conn.execute(f"EXPLAIN QUERY PLAN {HISTORY}", ("a", T0, 10)).fetchall()
    assert [step[-1] for step in plan] == [
        "SEARCH attempts USING INDEX attempts_campaign (campaign_id=? AND created_at>?)"]
