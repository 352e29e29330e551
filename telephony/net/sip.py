"""SIP over UDP and TCP on one address (RFC 3261 §18): the only place SIP touches sockets.

Bytes that arrive are handed to ``on_data(data, peer)``; ``send(outgoing)`` writes to a UDP peer or
to the TCP connection of a peer (opening one when we are the client). A failed send is reported
through ``on_error(peer)`` so the transaction layer can fail its transactions (§17.1.4).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from telephony.sip.errors import ParseError
from telephony.sip.parser import StreamFramer
from telephony.sip.transport import Outgoing, Peer, Transport

__all__ = ["SipTransport"]

log = logging.getLogger("callfloor.sip.net")

DataHandler = Callable[[bytes, Peer], None]
ErrorHandler = Callable[[Peer], None]

UDP_BUFFER = 4 * 1024 * 1024


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, owner: SipTransport) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if data.strip(b"\r\n\x00 ") == b"":
            return  # RFC 5626 keep-alive / NAT ping
        self.owner.on_data(data, Peer(Transport.UDP, addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error: %s", exc)


class _Tcp(asyncio.Protocol):
    def __init__(self, owner: SipTransport, peer: Peer | None = None) -> None:
        self.owner = owner
        self.peer = peer
        self.framer = StreamFramer()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not subclasses
        if self.peer is None:
            host, port = transport.get_extra_info("peername")[:2]
            self.peer = Peer(Transport.TCP, host, port)
        self.owner.connections[self.peer] = self

    def data_received(self, data: bytes) -> None:
        assert self.peer is not None and self.transport is not None
        pings = self.framer.pings
        try:
            messages = self.framer.feed(data)
        except ParseError as err:
            log.info("closing TCP connection from %s:%s: %s", self.peer.host, self.peer.port, err.reason)
            self.transport.close()
            return
        if self.framer.pings > pings:
            self.transport.write(b"\r\n")  # RFC 5626 §4.4.1 pong
        for message in messages:
            self.owner.on_data(message, self.peer)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None and self.owner.connections.get(self.peer) is self:
            del self.owner.connections[self.peer]


class SipTransport:
    """UDP and TCP listeners on ``host:port`` and the TCP connections we accept or open."""

    def __init__(self, on_data: DataHandler, on_error: ErrorHandler) -> None:
        self.on_data = on_data
        self.on_error = on_error
        self.connections: dict[Peer, _Tcp] = {}
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None
        self._pending: dict[Peer, list[bytes]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen on UDP and TCP; port 0 picks one free port for both. Returns the bound address."""
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_BUFFER)
        sock.bind((host, port))
        port = sock.getsockname()[1]
        self._udp, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), sock=sock)
        self._server = await loop.create_server(lambda: _Tcp(self), host, port, reuse_address=True)
        return host, port

    def send(self, out: Outgoing) -> None:
        """Put ``out`` on the wire; TCP to a peer with no connection opens one first."""
        peer = out.peer
        if peer.transport is Transport.UDP:
            if self._udp is not None:
                self._udp.sendto(out.data, peer.addr)
            return
        conn = self.connections.get(peer)
        if conn is not None and conn.transport is not None and not conn.transport.is_closing():
            conn.transport.write(out.data)
            return
        queue = self._pending.setdefault(peer, [])
        queue.append(out.data)
        if len(queue) == 1:
            task = asyncio.get_running_loop().create_task(self._connect(peer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _connect(self, peer: Peer) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.create_connection(lambda: _Tcp(self, peer), peer.host, peer.port), 10)
        except (TimeoutError, OSError) as exc:
            log.info("TCP connection to %s:%s failed: %s", peer.host, peer.port, exc)
            self._pending.pop(peer, None)
            self.on_error(peer)
            return
        conn = self.connections.get(peer)
        for data in self._pending.pop(peer, []):
            if conn is not None and conn.transport is not None:
                conn.transport.write(data)

    async def close(self) -> None:
        """Close the listeners and every connection."""
        if self._udp is not None:
            self._udp.close()
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections.values()):
            if conn.transport is not None:
                conn.transport.close()
        if self._server is not None:
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
