"""re-INVITE: the seat, then the customer, put the call on hold and take it off again; the call
stays up through all of it and ends with the customer's BYE."""

from __future__ import annotations

import pytest

from tests.integration.conftest import FloorOpener
from tests.integration.harness import free_port

pytestmark = pytest.mark.integration


async def test_hold_and_resume_from_both_sides(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        seat_port = free_port()
        assert (await f.register("1001", "secret1001", seat_port)).returncode == 0
        async with f.bus_events() as events:
            seat = await f.start_seat("seat_hold.xml", seat_port)
            carrier = await f.carrier("carrier_hold.xml")
            assert carrier.returncode == 0, carrier.explain()
            seat_result = await seat
            assert seat_result.returncode == 0, seat_result.explain()
        rows = await f.calls_when_idle()
    # Each re-INVITE was answered inside its dialog, in order (the scenarios' ereg checked the
    # a=recvonly / a=sendrecv answers).
    for trace, cseqs in ((seat_result.messages, (1, 2)), (carrier.messages, (2, 3))):
        for cseq in cseqs:
            assert f"CSeq: {cseq} INVITE" in trace
    held = [(m.payload["event"], m.payload.get("side")) for m in events
            if m.payload["event"] in ("call.held", "call.media")]
    assert held == [("call.held", "seat"), ("call.media", "seat"),
                    ("call.held", "customer"), ("call.media", "customer")]
    assert [m.payload["event"] for m in events if m.payload["event"] == "call.ended"] == ["call.ended"]
    assert len(rows) == 1
    row = rows[0]
    assert (row.status, row.end_reason, row.hangup_by) == ("ended", "hangup", "customer")
    assert row.duration == pytest.approx(4.0, abs=1.0)
