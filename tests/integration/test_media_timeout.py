"""Dead media: a seat whose phone answers but never sends RTP is hung up after
``sip.media_timeout``, both sides get a BYE, and the row says why."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.conftest import FloorOpener
from tests.integration.harness import free_port

pytestmark = pytest.mark.integration


async def test_silent_seat_is_hung_up_after_the_media_timeout(open_floor: FloorOpener) -> None:
    async with open_floor(sip={"media_timeout": 2.0}) as f:
        seat_port = free_port()
        registered = await f.register("1001", "secret1001", seat_port)
        assert registered.returncode == 0, registered.explain()
        # seat_answer.xml waits for the BYE; without -rtp_echo this phone sends no RTP at all.
        seat = await f.start_seat("seat_answer.xml", seat_port, echo=False)
        started = asyncio.get_running_loop().time()
        carrier = await f.carrier("carrier_wait_bye.xml")
        lasted = asyncio.get_running_loop().time() - started
        assert carrier.returncode == 0, carrier.explain()
        assert (await seat).returncode == 0
        rows = await f.calls_when_idle()
    assert 2.0 < lasted < 5.0, lasted
    [row] = rows
    assert (row.status, row.end_reason, row.hangup_by) == ("ended", "media_timeout", "seat")
    assert row.duration == pytest.approx(2.0, abs=0.6)
