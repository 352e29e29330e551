"""An amqtt MQTT broker run inside the callfloor process, for one-machine floors.

It lets any client in (anonymous), so it binds loopback only; a floor that spans several
machines points `bus.url` at Mosquitto or EMQX instead.
"""

from __future__ import annotations

import logging
import socket
from types import TracebackType
from typing import Any

from amqtt.broker import Broker
from amqtt.errors import BrokerError

from callfloor.bus.errors import BusError
from callfloor.settings.types import is_loopback_host

__all__ = ["EmbeddedBroker", "free_tcp_port"]

log = logging.getLogger("callfloor.bus")


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on `host` (for tests and port 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class EmbeddedBroker:
    """Async context manager: an in-process amqtt broker listening on host:port (loopback only)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        if not is_loopback_host(host):
            raise ValueError(f"the embedded broker allows anonymous clients; bind it to loopback, not {host!r}")
        self.host = host
        # amqtt cannot report the port the OS chose, so pick a free one ourselves.
        self.port = port or free_tcp_port(host)
        self._broker: Broker | None = None

    def _config(self) -> dict[str, Any]:
        bind = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        return {
            "listeners": {"default": {"type": "tcp", "bind": bind}},
            # Only the anonymous-auth plugin: no $SYS publisher, no packet logger.
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }

    @property
    def running(self) -> bool:
        """True between a successful start and stop."""
        return self._broker is not None

    async def start(self) -> None:
        """Bind and start serving; BusError when the address cannot be used."""
        if self._broker is not None:
            raise RuntimeError("the embedded broker is already running")
        broker = Broker(self._config())
        try:
            await broker.start()
        except BrokerError as exc:
            raise BusError(f"embedded MQTT broker cannot listen on {self.host}:{self.port}: {exc}") from exc
        self._broker = broker
        log.info("embedded MQTT broker listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Disconnect every client and close the listener; a no-op when not running."""
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()
            log.info("embedded MQTT broker on %s:%d stopped", self.host, self.port)

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
