"""RFC 3261 §15 with real peers: the seat hangs up while the carrier's ACK for the floor's 200 is
still on its way; the floor's BYE to the carrier waits for that ACK (SIPp fails the scenario on a
BYE that comes during its pause before the ACK). A carrier that never ACKs still gets the BYE
when the floor stops: the drain sends it rather than never."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from callfloor.app import Running
from callfloor.settings import Settings
from tests.integration.harness import (
    CARRIER_HOST,
    SIPP_DIR,
    SippResult,
    floor,
    floor_settings,
    free_port,
    run_sipp,
)
from tests.integration.peers.waits import until
from tests.integration.test_sipp_inbound import register_seat

pytestmark = pytest.mark.integration


async def seat_and_carrier(service: Running, settings: Settings, tmp_path: Path, seat_scenario: str,
                           carrier_scenario: str) -> tuple[asyncio.Task[SippResult], asyncio.Task[SippResult]]:
    """Seat 1001 registered with SIPp and answering with ``seat_scenario``, then the carrier's
    SIPp calling the DID with ``carrier_scenario``; both as tasks."""
    sip = service.sip_address
    seat_port = free_port()
    await register_seat(sip, tmp_path / "reg", "1001", "secret1001", seat_port)
    seat_dir, carrier_dir = tmp_path / "seat", tmp_path / "carrier"
    seat_dir.mkdir()
    carrier_dir.mkdir()
    seat = asyncio.create_task(run_sipp(
        ["-sf", str(SIPP_DIR / seat_scenario), "-i", "127.0.0.1", "-p", str(seat_port),
         "-mi", "127.0.0.1", "-mp", str(free_port(pair=True)), "-m", "1"],
        seat_dir, timeout=40))
    await asyncio.sleep(0.5)  # the seat's SIPp listening before the call comes
    assert settings.trunk is not None
    carrier = asyncio.create_task(run_sipp(
        [f"{sip[0]}:{sip[1]}", "-sf", str(SIPP_DIR / carrier_scenario), "-s", "+15550100",
         "-i", CARRIER_HOST, "-p", str(settings.trunk.port), "-mi", CARRIER_HOST,
         "-mp", str(free_port(CARRIER_HOST, pair=True)), "-m", "1"],
        carrier_dir, timeout=40))
    return seat, carrier


async def test_bye_to_the_carrier_waits_for_its_late_ack(tmp_path: Path) -> None:
    settings = floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)})
    async with floor(settings) as service:
        seat, carrier_task = await seat_and_carrier(service, settings, tmp_path, "seat_answer_bye.xml",
                                                    "carrier_late_ack.xml")
        carrier = await carrier_task
        seat_result = await seat
        assert seat_result.returncode == 0, seat_result.explain()
        assert carrier.returncode == 0, carrier.explain()
        for _ in range(50):
            if not service.engine.calls:
                break
            await asyncio.sleep(0.1)
        await service.executor.close()
        service.executor.start()
        rows = await service.store.calls()
    ack = re.search(r"^ACK sip:", carrier.messages, re.M)
    bye = re.search(r"^BYE sip:", carrier.messages, re.M)
    assert ack is not None and bye is not None and ack.start() < bye.start(), carrier.messages
    assert len(re.findall(r"^BYE sip:", carrier.messages, re.M)) == 1
    assert [(r.direction, r.seat_id, r.status, r.end_reason, r.hangup_by) for r in rows] == [
        ("inbound", "1001", "ended", "hangup", "seat")]


async def test_a_stopping_floor_sends_the_bye_it_held_for_an_ack_that_never_comes(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)})
    async with floor(settings) as service:
        seat, carrier = await seat_and_carrier(service, settings, tmp_path, "seat_answer.xml", "carrier_no_ack.xml")
        await until(lambda: any(getattr(leg, "ack_pending", False) for leg in service.engine.ctx.legs.values()),
                    "the floor's 200 to the carrier, not ACKed", timeout=15)
    # Leaving the block stopped the service: its drain sent the held BYE before the sockets closed.
    carrier_result, seat_result = await carrier, await seat
    assert carrier_result.returncode == 0, carrier_result.explain()
    assert seat_result.returncode == 0, seat_result.explain()
    assert re.search(r"^ACK sip:", carrier_result.messages, re.M) is None
    assert len(re.findall(r"^BYE sip:", carrier_result.messages, re.M)) == 1
    assert "calls still closing at shutdown" not in caplog.text
