"""CANCEL: the customer hangs up while the seat's phone rings, and callfloor cancels the phone."""

from __future__ import annotations

import re

import pytest

from tests.integration.conftest import FloorOpener
from tests.integration.harness import free_port

pytestmark = pytest.mark.integration


def branches(trace: str, method: str) -> list[str]:
    """The Via branch of every ``method`` request sent in a SIPp message trace."""
    return re.findall(rf"message sent[^\n]*\n\n{method} [^\n]*\nVia: [^\n]*branch=([^;\s]+)", trace)


async def test_carrier_cancels_while_the_seat_rings(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        seat_port = free_port()
        assert (await f.register("1001", "secret1001", seat_port)).returncode == 0
        seat = await f.start_seat("seat_ring.xml", seat_port)
        carrier = await f.carrier("carrier_cancel.xml")
        assert carrier.returncode == 0, carrier.explain()
        seat_result = await seat
        assert seat_result.returncode == 0, seat_result.explain()
        rows = await f.calls_when_idle()
    # The carrier's CANCEL was answered 200 and its INVITE 487; it matched the INVITE's branch.
    assert re.search(r"SIP/2.0 200 OK\r?\n(?:[^\n]*\n)*?CSeq: 1 CANCEL", carrier.messages)
    assert re.search(r"SIP/2.0 487 [^\n]*\n(?:[^\n]*\n)*?CSeq: 1 INVITE", carrier.messages)
    assert branches(carrier.messages, "CANCEL") == branches(carrier.messages, "INVITE") != []
    # The seat's phone received callfloor's CANCEL for its INVITE (same branch, §9.1).
    received = re.findall(r"^(INVITE|CANCEL|ACK) sip:[^\n]*\nVia: [^\n]*branch=([^;\s]+)",
                          seat_result.messages, re.M)
    assert [m for m, _ in received] == ["INVITE", "CANCEL", "ACK"]
    assert len({b for _, b in received}) == 1
    assert len(rows) == 1
    row = rows[0]
    assert (row.status, row.end_reason, row.hangup_by, row.sip_status, row.answered_at, row.duration) == (
        "ended", "cancelled", "customer", 487, None, 0.0)
    assert row.recording_path is None
