"""The SIP side of the benchmark load: many seats registered at once, one seat-side agent that
answers every INVITE, and a carrier that places and ends many calls. Built on callfloor's own
SIP core (``callfloor.sim.agent.SipAgent``), the same code as the simulated phones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from callfloor.sim.agent import SipAgent
from callfloor.sim.register import Registration
from telephony.sip.dialog import Dialog
from telephony.sip.message import Headers, Request, Response
from telephony.sip.sdp import Codec, SdpError, SdpSession, SessionDescription
from telephony.sip.transaction import TxKey
from telephony.sip.transport import Peer, Transport
from telephony.sip.uri import user_part

__all__ = ["PCMU", "CarrierLoad", "ContactAgent", "CountingAgent", "SeatAnswerer", "register_all"]

PCMU = [Codec(0, "PCMU")]


class CountingAgent(SipAgent):
    """A SipAgent that counts retransmissions: datagrams byte-identical to one already received
    (the peer re-sent it: our answer was late or lost) or already sent (our timers fired)."""

    def __init__(self, name: str, **kwargs: object) -> None:
        super().__init__(name, **kwargs)  # type: ignore[arg-type]
        self.received_again = self.sent_again = 0
        self._seen_in: set[int] = set()  # hashes of the datagrams (a collision is 2**-64 per pair)
        self._seen_out: set[int] = set()
        produce = self.txl.datagrams_to_send

        def counted() -> list[Any]:
            out = produce()
            for item in out:
                h = hash(item.data)
                if h in self._seen_out:
                    self.sent_again += 1
                else:
                    self._seen_out.add(h)
            return out

        self.txl.datagrams_to_send = counted  # type: ignore[method-assign]

    def reset_counts(self) -> None:
        """Start counting afresh (after registration, say)."""
        self.received_again = self.sent_again = 0
        self._seen_in.clear()
        self._seen_out.clear()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        """Count a repeat, then handle the datagram as usual."""
        h = hash(data)
        if h in self._seen_in:
            self.received_again += 1
        else:
            self._seen_in.add(h)
        super().datagram_received(data, addr)


class ContactAgent(SipAgent):
    """A SipAgent whose Contact points elsewhere (at a SIPp UAS that answers for the seats)."""

    def __init__(self, name: str, contact_at: tuple[str, int], **kwargs: object) -> None:
        super().__init__(name, **kwargs)  # type: ignore[arg-type]
        self.contact_at = contact_at

    def contact(self, user: str) -> str:
        """The Contact registered for ``user``: the UAS address, not ours."""
        return f"<sip:{user}@{self.contact_at[0]}:{self.contact_at[1]}>"


async def register_all(agent: SipAgent, seats: Sequence[tuple[str, str]],
                       registrar: tuple[str, int], *, parallel: int = 100,
                       expires: int = 7200) -> dict[int, int]:
    """Register every (seat, password) from ``agent`` (digest auth); returns status -> count."""
    gate = asyncio.Semaphore(parallel)
    statuses: dict[int, int] = {}

    async def one(user: str, password: str) -> None:
        async with gate:
            reg = Registration(agent, user, password, registrar, expires=expires)
            status = await reg.register()
            statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(one(u, p) for u, p in seats))
    return statuses


class _Dialog:
    """Answers in-dialog requests (BYE from callfloor) with 200."""

    def __init__(self, agent: SipAgent, dialog_id: tuple[str, str], on_bye: Callable[[], None]) -> None:
        self.agent = agent
        self.dialog_id = dialog_id
        self.on_bye = on_bye

    def on_request(self, key: TxKey, request: Request) -> None:
        self.agent.respond(key, request, 200)
        if request.method == "BYE":
            self.agent.detach_dialog(self.dialog_id)
            self.on_bye()

    def on_ack(self, request: Request) -> None:
        pass


class SeatAnswerer:
    """Every seat's phone at once: answers each INVITE at once with PCMU on one shared RTP port.

    ``media[i]`` is where callfloor wants seat number ``i``'s RTP (the seat leg's relay port);
    the seat number comes from the Request-URI user (the registered Contact).
    """

    def __init__(self, agent: SipAgent, rtp: tuple[str, int], seat_index: Callable[[str], int], *,
                 on_answer: Callable[[Request, tuple[str, int]], None] | None = None,
                 on_bye: Callable[[str], None] | None = None) -> None:
        self.agent = agent
        self.rtp_port = rtp[1]
        self.sdp = SdpSession(rtp[0], int(time.time()), "bench-seat")
        self.seat_index = seat_index
        self.on_answer = on_answer  # (the INVITE, where callfloor wants our RTP), after the 200
        self.on_bye = on_bye  # the Call-ID of a call callfloor ended
        self.media: dict[int, tuple[str, int]] = {}
        self.invites = self.byes = self.refused = 0
        agent.on_request = self._on_request

    def _on_request(self, key: TxKey, request: Request, peer: Peer) -> None:
        if request.method != "INVITE":
            self.agent.respond(key, request, 200 if request.method == "OPTIONS" else 405)
            return
        self.invites += 1
        user = user_part(request.uri)
        try:
            index = self.seat_index(user)
            offer = SessionDescription.parse(request.body)
            answer, _ = self.sdp.answer(offer, self.rtp_port, PCMU)
        except (ValueError, SdpError):
            self.refused += 1
            self.agent.respond(key, request, 488)
            return
        media = offer.media[0]
        host = offer.connection_of(media) or peer.host
        tag = self.agent.ids.tag()
        self.agent.respond(key, request, 200, to_tag=tag, body=answer.to_bytes(),
                           headers=[("Contact", self.agent.contact(user))])
        dialog_id = (request.call_id, tag)
        call_id = request.call_id
        self.agent.attach_dialog(dialog_id, _Dialog(self.agent, dialog_id, lambda: self._bye(call_id)))
        self.media[index] = (host, media.port)
        if self.on_answer is not None:
            self.on_answer(request, (host, media.port))

    def _bye(self, call_id: str) -> None:
        self.byes += 1
        if self.on_bye is not None:
            self.on_bye(call_id)


@dataclass
class _Call:
    index: int
    invite: Request
    key: TxKey | None = None
    dialog: Dialog | None = None
    media: tuple[str, int] | None = None
    status: int = 0
    setup: float = 0.0
    placed_at: float = 0.0  # time.monotonic() of the INVITE
    event_pt: int | None = None  # the answer's telephone-event payload type
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)  # callfloor sent BYE


class CarrierLoad:
    """The trunk: places INVITEs (PCMU on one shared RTP port) to DIDs and ends them with BYE."""

    def __init__(self, agent: SipAgent, target: tuple[str, int], rtp: tuple[str, int]) -> None:
        self.agent = agent
        self.peer = Peer(Transport.UDP, target[0], target[1])
        self.rtp_port = rtp[1]
        self.sdp = SdpSession(rtp[0], int(time.time()), "bench-carrier")
        self.calls: dict[int, _Call] = {}
        self.remote_byes = 0
        agent.on_request = self._on_request

    def _on_request(self, key: TxKey, request: Request, peer: Peer) -> None:
        self.agent.respond(key, request, 200 if request.method == "OPTIONS" else 405)

    def place(self, index: int, number: str, *, caller: str | None = None,
              telephone_event_pt: int | None = None) -> _Call:
        """Send the INVITE for call ``index`` to ``number`` (offering RFC 4733 events when
        ``telephone_event_pt`` is set)."""
        agent, me = self.agent, self.agent.host
        caller = caller or f"+1555123{index:04d}"
        headers = Headers([
            ("Via", agent.via()), ("Max-Forwards", "70"),
            ("From", f"<sip:{caller}@{me}>;tag={agent.ids.tag()}"),
            ("To", f"<sip:{number}@{self.peer.host}>"), ("Call-ID", agent.ids.call_id(me)),
            ("CSeq", "1 INVITE"), ("Contact", f"<sip:{caller}@{me}:{agent.port}>"),
            ("Content-Type", "application/sdp"),
        ])
        body = self.sdp.offer(self.rtp_port, PCMU, telephone_event_pt=telephone_event_pt).to_bytes()
        invite = Request(method="INVITE", uri=f"sip:{number}@{self.peer.host}:{self.peer.port}",
                         headers=headers, body=body)
        call = _Call(index, invite, setup=time.monotonic())
        call.placed_at = call.setup
        self.calls[index] = call
        call.key = agent.send_request(invite, self.peer, lambda r: self._on_response(call, r))
        return call

    def _on_response(self, call: _Call, response: Response | None) -> None:
        if response is not None and response.status < 200:
            return
        if response is None or response.status >= 300:
            call.status = 408 if response is None else response.status
            call.answered.set()
            return
        if call.dialog is not None:
            return  # a retransmitted 2xx: the layer re-sends our ACK
        call.status = response.status
        call.setup = time.monotonic() - call.setup
        call.dialog = Dialog.as_uac(call.invite, response, self.peer)
        ack = call.dialog.new_request("ACK", self.agent.via(), cseq=1)
        assert call.key is not None
        self.agent.send_ack(call.key, ack, self.peer)
        dialog_id = (call.dialog.call_id, call.dialog.local_tag)
        self.agent.attach_dialog(dialog_id, _Dialog(self.agent, dialog_id, lambda: self._remote_bye(call)))
        try:
            answer = SessionDescription.parse(response.body)
            media = answer.media[0]
            call.media = (answer.connection_of(media) or self.peer.host, media.port)
            event = media.telephone_event
            call.event_pt = event.pt if event is not None else None
        except (SdpError, IndexError):
            call.status = 488
        call.answered.set()

    def _remote_bye(self, call: _Call) -> None:
        self.remote_byes += 1
        call.ended.set()

    async def place_all(self, numbers: Sequence[str], rate: float, timeout: float = 40.0) -> dict[int, int]:
        """Place one call per number at ``rate`` calls/s and wait for every answer; status -> count."""
        start = time.monotonic()
        for i, number in enumerate(numbers):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.place(i, number)
        pending = [c.answered.wait() for c in self.calls.values()]
        await asyncio.wait_for(asyncio.gather(*pending), timeout)
        statuses: dict[int, int] = {}
        for call in self.calls.values():
            statuses[call.status] = statuses.get(call.status, 0) + 1
        return statuses

    async def hangup(self, call: _Call) -> int:
        """BYE one answered call; the final status (408: no answer)."""
        assert call.dialog is not None
        self.agent.detach_dialog((call.dialog.call_id, call.dialog.local_tag))
        request = call.dialog.new_request("BYE", self.agent.via())
        response = await self.agent.request(request, self.peer)
        return 408 if response is None else response.status

    async def hangup_all(self, rate: float = 200.0, timeout: float = 20.0) -> dict[int, int]:
        """BYE every answered call at ``rate`` per second; status -> count (408: no answer)."""
        statuses: dict[int, int] = {}

        async def bye(call: _Call) -> None:
            status = await self.hangup(call)
            statuses[status] = statuses.get(status, 0) + 1

        tasks = []
        for call in self.calls.values():
            if call.dialog is not None:
                tasks.append(asyncio.ensure_future(bye(call)))
                await asyncio.sleep(1 / rate)
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        return statuses
