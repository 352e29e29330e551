"""Mosquitto (Debian) as the floor's external MQTT broker: generated config, own process group."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tests.integration.harness import free_port, require_binary
from tests.integration.peers.process import stop_group

__all__ = ["MosquittoBroker", "mosquitto"]


@dataclass(frozen=True)
class MosquittoBroker:
    """A running broker: where to connect, and its log for assertion messages."""

    host: str
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        """The floor's ``bus.url`` for this broker."""
        return f"mqtt://{self.host}:{self.port}"

    def log(self) -> str:
        """What mosquitto logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextlib.asynccontextmanager
async def mosquitto(workdir: Path, *, ready_timeout: float = 10.0) -> AsyncIterator[MosquittoBroker]:
    """Mosquitto on a free 127.0.0.1 port, anonymous, no persistence; killed after the block."""
    binary = require_binary("mosquitto")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = workdir / "mosquitto.log"
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    f"log_dest file {log_path}\nlog_type all\n")
    broker = MosquittoBroker("127.0.0.1", port, log_path)
    process = await asyncio.create_subprocess_exec(
        binary, "-c", str(conf), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
    try:
        await _until_listening(broker, process, ready_timeout)
        yield broker
    finally:
        await stop_group(process)


async def _until_listening(broker: MosquittoBroker, process: asyncio.subprocess.Process,
                           timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if process.returncode is not None:
            raise RuntimeError(f"mosquitto exited {process.returncode}:\n{broker.log()}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection(broker.host, broker.port)
            writer.close()
            await writer.wait_closed()
            return
        if loop.time() > deadline:
            raise TimeoutError(f"mosquitto did not listen on {broker.port} within {timeout}s:\n{broker.log()}")
        await asyncio.sleep(0.05)
