"""RFC 3261 §15 with real peers: the seat hangs up while the carrier's ACK for the floor's 200 is
still on its way; the floor's BYE to the carrier waits for that ACK (SIPp fails the scenario on a
BYE that comes during its pause before the ACK)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from tests.integration.harness import (
    CARRIER_HOST,
    SIPP_DIR,
    floor,
    floor_settings,
    free_port,
    run_sipp,
)
from tests.integration.peers.waits import until
from tests.integration.test_sipp_inbound import register_seat

pytestmark = pytest.mark.integration


async def test_bye_to_the_carrier_waits_for_its_late_ack(tmp_path: Path) -> None:
    settings = floor_settings(tmp_path, trunk={"port": free_port(CARRIER_HOST)})
    async with floor(settings) as service:
        sip = service.sip_address
        seat_port = free_port()
        await register_seat(sip, tmp_path / "reg", "1001", "secret1001", seat_port)
        seat_dir, carrier_dir = tmp_path / "seat", tmp_path / "carrier"
        seat_dir.mkdir()
        carrier_dir.mkdir()
        seat = asyncio.create_task(run_sipp(
            ["-sf", str(SIPP_DIR / "seat_answer_bye.xml"), "-i", "127.0.0.1", "-p", str(seat_port),
             "-mi", "127.0.0.1", "-mp", str(free_port(pair=True)), "-m", "1"],
            seat_dir, timeout=30))
        await asyncio.sleep(0.5)
        carrier = await run_sipp(
            [f"{sip[0]}:{sip[1]}", "-sf", str(SIPP_DIR / "carrier_late_ack.xml"), "-s", "+15550100",
             "-i", CARRIER_HOST, "-p", str(settings.trunk.port), "-mi", CARRIER_HOST,  # type: ignore[union-attr]
             "-mp", str(free_port(CARRIER_HOST, pair=True)), "-m", "1"],
            carrier_dir, timeout=30)
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
        sip = service.sip_address
        seat_port = free_port()
        await register_seat(sip, tmp_path / "reg", "1001", "secret1001", seat_port)
        seat_dir, carrier_dir = tmp_path / "seat", tmp_path / "carrier"
        seat_dir.mkdir()
        carrier_dir.mkdir()
        seat = asyncio.create_task(run_sipp(
            ["-sf", str(SIPP_DIR / "seat_answer.xml"), "-i", "127.0.0.1", "-p", str(seat_port),
             "-mi", "127.0.0.1", "-mp", str(free_port(pair=True)), "-m", "1"],
            seat_dir, timeout=40))
        carrier = asyncio.create_task(run_sipp(
            [f"{sip[0]}:{sip[1]}", "-sf", str(SIPP_DIR / "carrier_no_ack.xml"), "-s", "+15550100",
             "-i", CARRIER_HOST, "-p", str(settings.trunk.port), "-mi", CARRIER_HOST,  # type: ignore[union-attr]
             "-mp", str(free_port(CARRIER_HOST, pair=True)), "-m", "1"],
            carrier_dir, timeout=40))
        await until(lambda: any(getattr(leg, "ack_pending", False) for leg in service.engine.ctx.legs.values()),
                    "the floor's 200 to the carrier, not ACKed", timeout=15)
    # Leaving the block stopped the service: its drain sent the held BYE before the sockets closed.
    carrier_result, seat_result = await carrier, await seat
    assert carrier_result.returncode == 0, carrier_result.explain()
    assert seat_result.returncode == 0, seat_result.explain()
    assert re.search(r"^ACK sip:", carrier_result.messages, re.M) is None
    assert len(re.findall(r"^BYE sip:", carrier_result.messages, re.M)) == 1
    assert "calls still closing at shutdown" not in caplog.text
