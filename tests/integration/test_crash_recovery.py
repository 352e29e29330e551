"""kill -9 in the middle of 20 recorded calls, then a restart: 20 playable WAVs and 20 call rows
ended as 'lost'. The service runs as its own process (``callfloor run``), as in production."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
from pathlib import Path

import pytest
import soundfile

from callfloor.sim import SimCarrier, SimPhone
from tests.integration.harness import CARRIER_HOST, free_port, start_service

pytestmark = pytest.mark.integration

CALLS = 20


def _config(tmp_path: Path, sip_port: int, carrier_port: int) -> Path:
    seats = "\n".join(f'[[seats]]\nid = "{2000 + i}"\npassword = "pw{2000 + i}"\n' for i in range(CALLS))
    dids = ", ".join(f'"+1555300{i:04d}"' for i in range(CALLS))
    routes = "\n".join(f'"+1555300{i:04d}" = "{2000 + i}"' for i in range(CALLS))
    path = tmp_path / "callfloor.toml"
    path.write_text(f"""
[sip]
listen = "127.0.0.1:{sip_port}"
media_timeout = 120
{seats}
[trunk]
host = "{CARRIER_HOST}"
port = {carrier_port}
allow = ["{CARRIER_HOST}/32"]
did = [{dids}]
[routes]
{routes}
[storage]
data_dir = "{tmp_path / 'data'}"
[http]
listen = "127.0.0.1:{free_port()}"
[rtp]
ports = "{20000 + (os.getpid() % 50) * 200}-{20000 + (os.getpid() % 50) * 200 + 199}"
[bus]
embedded_listen = "127.0.0.1:{free_port()}"
""")
    return path


def _rows(db: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT status, end_reason, recording_path FROM calls").fetchall()


async def test_kill_nine_mid_call_loses_no_recording_and_no_row(tmp_path: Path) -> None:
    sip_port, carrier_port = free_port(), free_port(CARRIER_HOST)
    config = _config(tmp_path, sip_port, carrier_port)
    log = tmp_path / "callfloor.log"
    service = await start_service(config, log)
    phones = [SimPhone(f"{2000 + i}", f"pw{2000 + i}", ("127.0.0.1", sip_port), answer_after=(0.1, 0.3),
                       tone_hz=300.0 + 20 * i, rng=random.Random(i)) for i in range(CALLS)]
    carrier = SimCarrier((CARRIER_HOST, carrier_port), ("127.0.0.1", sip_port), rng=random.Random(99))
    calls = []
    try:
        assert [await p.start() for p in phones] == [200] * CALLS
        await carrier.start()
        calls = [carrier.new_call(f"+1555300{i:04d}") for i in range(CALLS)]
        for call in calls:
            await call.start()
        answered = await asyncio.gather(*(c.wait_answered(15) for c in calls))
        assert all(answered), log.read_text()[-3000:]
        await asyncio.sleep(3.0)  # every call is recorded for a few seconds
        service.send_signal(signal.SIGKILL)
        await service.wait()
    finally:
        if service.returncode is None:
            service.kill()
        for call in calls:
            call.abort("test over")
        # The service is gone: un-REGISTER and BYE would only time out, so give them 3 s in all.
        stops = [asyncio.ensure_future(agent.stop()) for agent in (carrier, *phones)]
        _, pending = await asyncio.wait(stops, timeout=3)
        for task in pending:
            task.cancel()

    db = tmp_path / "data" / "callfloor.db"
    before = _rows(db)
    assert len(before) == CALLS and {status for status, _, _ in before} == {"active"}
    restarted = await start_service(config, log)  # recovery runs before SIP comes up
    try:
        restarted.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(restarted.wait(), 20) == 0, log.read_text()[-3000:]
    finally:
        if restarted.returncode is None:
            restarted.kill()

    rows = _rows(db)
    assert len(rows) == CALLS
    assert {(status, reason) for status, reason, _ in rows} == {("lost", "lost")}
    recordings = tmp_path / "data" / "recordings"
    for _, _, path in rows:
        assert path is not None
        info = soundfile.info(str(recordings / path))
        # Written as it goes: at most the last second is lost of >= 3 s recorded.
        assert (info.channels, info.samplerate) == (2, 8000)
        assert info.duration >= 2.0, (path, info.duration)
        audio, _ = soundfile.read(str(recordings / path), dtype="int16")
        assert (abs(audio[:, 0]) > 100).mean() > 0.5 and (abs(audio[:, 1]) > 100).mean() > 0.5
    assert "20 calls were cut by the last stop" in log.read_text()
