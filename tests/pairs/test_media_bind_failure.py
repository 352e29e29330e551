"""A call whose RTP port is taken by another program fails cleanly: the caller gets an answer,
the call-detail row is written in order (started, then ended) and nothing is left behind."""

from __future__ import annotations

import random
import socket
from pathlib import Path

from callfloor.sim import SimCarrier, SimPhone
from tests.integration.harness import CARRIER_HOST, floor, floor_settings, free_port


async def test_a_taken_rtp_port_fails_the_call_not_the_floor(tmp_path: Path) -> None:
    low = free_port(pair=True)
    squatter = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    squatter.bind(("127.0.0.1", low))  # the first port the pool hands out
    carrier_port = free_port(CARRIER_HOST)
    settings = floor_settings(tmp_path, trunk={"port": carrier_port}, rtp={"ports": f"{low}-{low + 7}"})
    try:
        async with floor(settings) as service:
            phone = SimPhone("1001", "secret1001", service.sip_address, answer_after=(0.1, 0.1),
                             rng=random.Random(1))
            carrier = SimCarrier((CARRIER_HOST, carrier_port), service.sip_address, rng=random.Random(2))
            assert await phone.start() == 200
            await carrier.start()
            try:
                failed = await carrier.call("+15550100", talk=(1.0, 1.0), ring_timeout=5)
                second = await carrier.call("+15550100", talk=(1.0, 1.0), ring_timeout=5)
            finally:
                await carrier.stop()
                await phone.stop()
            await service.executor.close()
            service.executor.start()
            rows = await service.store.calls()
            assert service.executor.failed_writes == 0
            assert not service.engine.calls
    finally:
        squatter.close()
    assert not failed.answered and failed.status >= 400, failed
    assert second.answered, second  # the next call takes the next ports
    by_reason = {row.end_reason for row in rows}
    assert by_reason == {"media_failed", "hangup"}, [(r.status, r.end_reason) for r in rows]
