"""OPTIONS pings and malformed requests: callfloor answers both, and keeps serving."""

from __future__ import annotations

import re

import pytest

from tests.integration.conftest import FloorOpener

pytestmark = pytest.mark.integration


async def test_options_gets_200_with_allow(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        result = await f.seat_uac("options.xml")
        assert result.returncode == 0, result.explain()
    allow = re.search(r"^Allow: (.*?)\r?$", result.messages, re.M)
    assert allow is not None
    assert {m.strip() for m in allow[1].split(",")} >= {
        "INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "INFO", "UPDATE", "REGISTER"}
    assert re.search(r"^Accept: .*application/sdp", result.messages, re.M)


async def test_bad_cseq_gets_400_and_the_floor_keeps_serving(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        bad = await f.seat_uac("bad_cseq.xml")
        assert bad.returncode == 0, bad.explain()
        assert f.service.sip.bad_messages == 1
        good = await f.seat_uac("options.xml")
        assert good.returncode == 0, good.explain()
    assert "\nSIP/2.0 400 Bad Request" in bad.messages
    assert re.search(r"^Warning: 399 callfloor \"bad CSeq 'abc OPTIONS'\"", bad.messages, re.M)
