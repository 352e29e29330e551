"""The simulated agents against each other on 127.0.0.1: real SIP over UDP, real G.711 RTP.

A SimCarrier calls a SimPhone directly; registration runs against a mini registrar built here
from the core's DigestServer and Registrar on a bare SipAgent.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
import soundfile

from callfloor.sim import (
    AudioSource,
    CallState,
    EventKind,
    IncomingCall,
    MediaClock,
    OutgoingCall,
    RtpStream,
    SimCarrier,
    SimEvent,
    SimPhone,
    SipAgent,
)
from telephony.calls.ids import IdFactory
from telephony.rtp.tone import tone_power_db
from telephony.sip.digest import Algorithm, AuthResult, DigestServer, find_credentials
from telephony.sip.message import Headers, Request
from telephony.sip.registrar import Registrar
from telephony.sip.sdp import Codec, Direction, SessionDescription
from telephony.sip.transaction import TimerPolicy, TxKey
from telephony.sip.transport import Peer, Transport

pytestmark = pytest.mark.timeout(15)

PHONE_HZ = 440.0
CARRIER_HZ = 620.0
FAST = TimerPolicy(t1=0.02)  # Timer B/F/H/L in 1.28 s instead of 32 s


class MiniRegistrar:
    """A registrar for these tests: digest (RFC 7616/8760) in front of the core's Registrar."""

    def __init__(
        self,
        users: dict[str, str],
        *,
        algorithms: Sequence[Algorithm] = (Algorithm.SHA256, Algorithm.MD5),
        min_expires: int = 60,
        invite_status: int = 486,
    ) -> None:
        self.users = users
        self.invite_status = invite_status
        self.agent = SipAgent("registrar", ids=IdFactory(random.Random(99)))
        self.digest = DigestServer("sim.test", b"k" * 32, algorithms=algorithms)
        self.registrar = Registrar(min_expires=min_expires)
        self.requests: list[Request] = []
        self.accepted: list[tuple[Request, str]] = []  # (REGISTER, digest algorithm)
        self.agent.on_request = self._on_request

    def _on_request(self, key: TxKey, request: Request, peer: Peer) -> None:
        self.requests.append(request)
        if request.method == "INVITE":
            self.agent.respond(key, request, self.invite_status)
            return
        if request.method != "REGISTER":
            self.agent.respond(key, request, 405)
            return
        now = self.agent.now()
        creds = find_credentials(request, self.digest.realm)
        if creds is None:
            self._challenge(key, request, stale=False)
            return
        password = self.users.get(creds.username)
        result = self.digest.verify(creds, "REGISTER", password, now, request_uri=request.uri)
        if result is AuthResult.STALE:
            self._challenge(key, request, stale=True)
        elif result is not AuthResult.OK:
            self.agent.respond(key, request, result.status)
        else:
            self.accepted.append((request, creds.algorithm.value))
            outcome = self.registrar.register(creds.username, request,
                                              ("UDP", peer.host, peer.port), now)
            self.agent.respond(key, request, outcome.status, outcome.reason,
                               headers=outcome.headers)

    def _challenge(self, key: TxKey, request: Request, *, stale: bool) -> None:
        challenges = self.digest.challenges(self.agent.now(), stale=stale)
        headers = [("WWW-Authenticate", c.to_header()) for c in challenges]
        self.agent.respond(key, request, 401, headers=headers)


class Started(contextlib.AsyncExitStack):
    """Starts phones, carriers and bare agents and stops them on exit, failed test or not."""

    async def phone(self, phone: SimPhone) -> SimPhone:
        await phone.start()
        self.push_async_callback(phone.stop)
        return phone

    async def carrier(self, carrier: SimCarrier) -> SimCarrier:
        await carrier.start()
        self.push_async_callback(carrier.stop)
        return carrier

    async def agent(self, agent: SipAgent) -> SipAgent:
        await agent.open()
        self.push_async_callback(agent.close)
        return agent


@pytest.fixture
async def started() -> AsyncIterator[Started]:
    async with Started() as stack:
        yield stack


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` every 20 ms (one media frame) until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def phone_for(registrar: tuple[str, int] | None, **kwargs: object) -> SimPhone:
    options: dict[str, object] = {"answer_after": 0.2, "tone_hz": PHONE_HZ,
                                  "rng": random.Random(1)}
    options.update(kwargs)
    return SimPhone("1001", "s3cret", registrar, **options)  # type: ignore[arg-type]


def carrier_for(target: tuple[str, int], **kwargs: object) -> SimCarrier:
    options: dict[str, object] = {"tone_hz": CARRIER_HZ, "rng": random.Random(2)}
    options.update(kwargs)
    return SimCarrier(("127.0.0.1", 0), target, **options)  # type: ignore[arg-type]


def only_call(phone: SimPhone) -> IncomingCall:
    (call,) = phone.calls
    assert isinstance(call, IncomingCall)
    return call


# -- registration ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        ((Algorithm.SHA256, Algorithm.MD5), "SHA-256"),
        ((Algorithm.MD5,), "MD5"),
        ((Algorithm.MD5, Algorithm.SHA256), "MD5"),
    ],
)
async def test_register_answers_the_servers_first_algorithm(
    started: Started, offered: tuple[Algorithm, ...], chosen: str
) -> None:
    reg = MiniRegistrar({"1001": "s3cret"}, algorithms=offered)
    await started.agent(reg.agent)
    events: list[SimEvent] = []
    phone = phone_for(reg.agent.address, on_event=events.append)
    assert await phone.start() == 200
    try:
        assert phone.registered
        first, second = reg.requests
        assert "Authorization" not in first.headers
        assert (second.headers.get("Authorization") or "").startswith('Digest username="1001"')
        assert [alg for _, alg in reg.accepted] == [chosen]
        (binding,) = reg.registrar.lookup("1001", reg.agent.now())
        assert binding.contact.uri == f"sip:1001@127.0.0.1:{phone.address[1]}"
        assert binding.source == ("UDP", "127.0.0.1", phone.address[1])
        assert [e.kind for e in events] == [EventKind.REGISTERED]
        assert events[0].detail == f"expires=300 {chosen}"
    finally:
        await phone.stop()
    last, _ = reg.accepted[-1]
    assert last.headers.get("Expires") == "0"
    assert reg.registrar.lookup("1001", reg.agent.now()) == []
    assert events[-1].kind is EventKind.UNREGISTERED


async def test_wrong_password_is_a_status_not_an_exception(started: Started) -> None:
    reg = MiniRegistrar({"1001": "right"})
    await started.agent(reg.agent)
    events: list[SimEvent] = []
    phone = await started.phone(phone_for(reg.agent.address, on_event=events.append))
    assert phone.registration is not None and phone.registration.last_status == 403
    assert not phone.registered
    assert [(e.kind, e.status) for e in events] == [(EventKind.REGISTER_FAILED, 403)]
    assert reg.accepted == []


async def test_reregisters_before_the_binding_expires(started: Started) -> None:
    reg = MiniRegistrar({"1001": "s3cret"}, min_expires=1)
    await started.agent(reg.agent)
    phone = await started.phone(phone_for(reg.agent.address, expires=2))
    assert phone.registration is not None and phone.registration.granted == 2
    loop = asyncio.get_running_loop()
    first_at = loop.time()
    await until(lambda: len(reg.accepted) >= 2, timeout=4.0)
    # Refreshed at half the granted 2 s, so the binding never lapsed.
    assert 0.8 < loop.time() - first_at < 1.8
    (one, _), (two, _) = reg.accepted[:2]
    assert one.call_id == two.call_id
    assert two.cseq.number > one.cseq.number
    assert len(reg.registrar.lookup("1001", reg.agent.now())) == 1


# -- calls -------------------------------------------------------------------------------------
async def test_call_media_flows_both_ways_at_50_pps_and_bye_ends_both(started: Started) -> None:
    phone = await started.phone(phone_for(None, keep_pcm=True))
    carrier = await started.carrier(carrier_for(phone.address, keep_pcm=True))
    streams: list[RtpStream] = []
    carrier.on_event = lambda e: streams.append(carrier.active[e.call_id].stream) if (
        e.kind is EventKind.ANSWERED) else None

    result = await carrier.call("+15550100", talk=2.0)

    assert (result.status, result.answered, result.ended_by) == (200, True, "local")
    assert result.ring_time is not None and result.ring_time < 0.1
    assert result.setup_time is not None and 0.15 < result.setup_time < 0.5
    assert 1.9 < result.duration < 2.3
    for count in (result.packets_sent, result.packets_received):
        assert 0.85 * 50 * result.duration < count < 1.15 * 50 * result.duration
    call = only_call(phone)
    assert await call.wait_ended(2.0)
    seat = call.result()
    assert (seat.status, seat.answered, seat.ended_by, seat.reason) == (200, True, "remote", "BYE")
    assert seat.remote == "+15551230001"
    assert abs(seat.packets_received - result.packets_sent) <= 2
    assert abs(seat.packets_sent - result.packets_received) <= 2
    # Each side hears the other's tone, not its own.
    heard_by_seat = call.stream.received_pcm()
    assert tone_power_db(heard_by_seat, CARRIER_HZ) > -14
    assert tone_power_db(heard_by_seat, PHONE_HZ) < -40
    (carrier_stream,) = streams
    heard_by_carrier = carrier_stream.received_pcm()
    assert tone_power_db(heard_by_carrier, PHONE_HZ) > -14
    assert tone_power_db(heard_by_carrier, CARRIER_HZ) < -40
    assert phone.stats.answered == 1 and carrier.stats.answered == 1
    assert phone.active == {} and carrier.active == {}


async def test_phone_hangs_up_itself_after_hangup_after(started: Started) -> None:
    phone = await started.phone(phone_for(None, hangup_after=0.5))
    carrier = await started.carrier(carrier_for(phone.address))
    result = await carrier.call("+15550100", talk=None)
    assert (result.answered, result.ended_by, result.reason) == (True, "remote", "BYE")
    assert 0.4 < result.duration < 0.8
    call = only_call(phone)
    assert await call.wait_ended(1.0)  # once the 200 to its BYE is in
    assert (call.result().ended_by, call.result().reason) == ("local", "hangup")


async def test_cancel_before_answer(started: Started) -> None:
    phone = await started.phone(phone_for(None, answer_after=5.0))
    carrier = await started.carrier(carrier_for(phone.address))
    result = await carrier.call("+15550100", ring_timeout=0.5)
    assert (result.status, result.answered, result.ended_by) == (487, False, "cancel")
    assert result.ring_time is not None
    assert result.packets_sent == result.packets_received == 0
    call = only_call(phone)
    assert await call.wait_ended(1.0)
    seat = call.result()
    assert (seat.status, seat.answered, seat.ended_by) == (487, False, "cancel")
    assert seat.packets_sent == 0


@pytest.mark.parametrize("status", [486, 480, 503])
async def test_refusals_are_results(started: Started, status: int) -> None:
    far = MiniRegistrar({}, invite_status=status)
    await started.agent(far.agent)
    carrier = await started.carrier(carrier_for(far.agent.address))
    result = await carrier.call("+15550100")
    assert (result.status, result.answered, result.ended_by) == (status, False, "remote")
    assert carrier.stats.failed == 1 and carrier.active == {}


async def test_silence_times_out_as_408(started: Started) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as black_hole:
        black_hole.bind(("127.0.0.1", 0))
        carrier = await started.carrier(carrier_for(black_hole.getsockname(), timers=FAST))
        result = await carrier.call("+15550100")
    assert (result.status, result.answered, result.ended_by) == (408, False, "timeout")


async def test_offer_without_a_common_codec_gets_488(started: Started) -> None:
    phone = await started.phone(phone_for(None))
    carrier = await started.carrier(carrier_for(phone.address, codecs=[Codec(18, "G729")]))
    result = await carrier.call("+15550100")
    assert (result.status, result.answered) == (488, False)
    assert only_call(phone).result().status == 488


async def test_hold_is_mirrored_and_resume_restarts_media(started: Started) -> None:
    phone = await started.phone(phone_for(None))
    carrier = await started.carrier(carrier_for(phone.address))
    call = carrier.new_call("+15550100")
    await call.start()
    assert await call.wait_answered(2.0)
    seat = only_call(phone)

    assert await call.hold()
    assert seat.media is not None and seat.media.direction is Direction.RECVONLY
    assert call.media is not None and call.media.direction is Direction.SENDONLY
    assert not seat.stream.sending and call.stream.sending
    sent, heard = seat.stream.packets_sent, seat.stream.packets_received
    await until(lambda: seat.stream.packets_received >= heard + 10)
    assert seat.stream.packets_sent == sent  # the held seat sends nothing

    assert await call.resume()
    assert seat.result().answered and _direction(seat) is Direction.SENDRECV
    await until(lambda: seat.stream.packets_sent >= sent + 10)
    await call.hangup()
    assert await seat.wait_ended(1.0)


def _direction(call: IncomingCall) -> Direction | None:
    return call.media.direction if call.media is not None else None


async def test_rfc4733_digits_reach_the_other_side(started: Started) -> None:
    phone = await started.phone(phone_for(None))
    carrier = await started.carrier(carrier_for(phone.address))
    call = carrier.new_call("+15550100")
    await call.start()
    assert await call.wait_answered(2.0)
    assert call.send_dtmf("19#")
    seat = only_call(phone)
    await until(lambda: seat.stream.dtmf_received == "19#", timeout=3.0)
    await call.hangup()
    assert seat.result().dtmf == "19#" and call.result().dtmf == ""


async def test_options_outside_a_dialog(started: Started) -> None:
    phone = await started.phone(phone_for(None))
    probe = await started.agent(SipAgent("probe", ids=IdFactory(random.Random(5))))
    host, port = phone.address
    request = Request(method="OPTIONS", uri=f"sip:1001@{host}:{port}", headers=Headers([
        ("Via", probe.via()), ("Max-Forwards", "70"), ("From", "<sip:probe@127.0.0.1>;tag=p1"),
        ("To", "<sip:1001@127.0.0.1>"), ("Call-ID", "options-1"), ("CSeq", "1 OPTIONS"),
    ]))
    response = await probe.request(request, Peer(Transport.UDP, host, port))
    assert response is not None and response.status == 200
    assert "INVITE" in (response.headers.get("Allow") or "")
    assert response.to.tag


async def test_missing_ack_ends_the_call_with_bye(started: Started) -> None:
    phone = await started.phone(phone_for(None, answer_after=0.0, timers=FAST))
    rude = await started.agent(SipAgent("rude", ids=IdFactory(random.Random(6))))
    stream = RtpStream(rng=random.Random(7))
    try:
        offer = SessionDescription.parse(
            b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            b"m=audio " + str(stream.port).encode() + b" RTP/AVP 0\r\n"
        )
        host, port = phone.address
        invite = Request(method="INVITE", uri=f"sip:1001@{host}:{port}", headers=Headers([
            ("Via", rude.via()), ("Max-Forwards", "70"), ("From", "<sip:rude@127.0.0.1>;tag=r1"),
            ("To", "<sip:1001@127.0.0.1>"), ("Call-ID", "no-ack-1"), ("CSeq", "1 INVITE"),
            ("Contact", rude.contact("rude")), ("Content-Type", "application/sdp"),
        ]), body=offer.to_bytes())
        statuses: list[int] = []
        rude.send_request(invite, Peer(Transport.UDP, host, port),
                          lambda r: statuses.append(r.status) if r else None)
        call = await _first_call(phone)
        assert await call.wait_ended(4.0)  # 64*T1 = 1.28 s, then BYE
        assert 200 in statuses
        assert (call.result().ended_by, call.result().reason) == ("timeout", "no ACK")
    finally:
        stream.close()


async def _first_call(phone: SimPhone) -> IncomingCall:
    await until(lambda: len(phone.calls) == 1)
    return only_call(phone)


async def test_phone_dials_out_through_its_registrar(started: Started) -> None:
    carrier = await started.carrier(carrier_for(("127.0.0.1", 9), answer_after=0.1, talk=0.5))
    phone = await started.phone(phone_for(carrier.address))
    assert phone.registered and carrier.registrations == 1
    result = await phone.dial("915550199", talk=None)
    assert (result.status, result.answered, result.ended_by) == (200, True, "remote")
    assert 0.4 < result.duration < 0.8 and result.packets_received > 15
    (far,) = carrier.calls
    assert await far.wait_ended(1.0)
    assert far.remote == "1001" and far.result().ended_by == "local"


async def test_one_shared_clock_and_nothing_left_behind() -> None:
    phone = phone_for(None, max_calls=2)
    await phone.start()
    carrier = carrier_for(phone.address)
    await carrier.start()
    calls = [carrier.new_call("+15550100"), carrier.new_call("+15550101")]
    for call in calls:
        await call.start()
    for call in calls:
        assert await call.wait_answered(2.0)
    clock = MediaClock.shared()
    assert len(clock) == 4  # both ends of both calls on one 20 ms clock
    assert all(c.stream.attached for c in (*calls, *phone.calls))
    await carrier.stop()  # hangs both calls up
    assert all(c.state is CallState.ENDED for c in (*calls, *phone.calls))
    assert len(clock) == 0
    await phone.stop()
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_run_traffic_places_poisson_calls_until_stopped(started: Started) -> None:
    phone = await started.phone(phone_for(None, answer_after=0.05, max_calls=2))
    carrier = await started.carrier(carrier_for(phone.address))
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(1.5, stop.set)
    report = await carrier.run_traffic(["+15550100", "+15550101"], 600, 3, stop, talk=0.3)
    assert report.offered == report.placed + report.skipped
    assert report.placed == len(report.results) >= 5
    assert report.answered >= 3
    assert {r.status for r in report.results} <= {200, 486, 487}
    assert carrier.active == {} and isinstance(carrier.calls[0], OutgoingCall)


async def test_a_wav_is_resampled_and_played_once(started: Started, tmp_path: Path) -> None:
    # Half a second of 1 kHz at half scale, 44.1 kHz stereo: the source must make 8 kHz mono.
    t = np.arange(22050) / 44100
    wave = 0.5 * np.sin(2 * np.pi * 1000 * t)
    soundfile.write(tmp_path / "hello.wav", np.stack([wave, wave], axis=1), 44100)
    source = AudioSource.wav(tmp_path / "hello.wav", loop=False)
    assert len(source.pcm) == 4000
    assert [len(p) for p in source.payloads("PCMA")] == [160] * 25
    assert -7 < tone_power_db(source.pcm, 1000) < -5

    phone = await started.phone(phone_for(None, keep_pcm=True))
    carrier = await started.carrier(carrier_for(phone.address, audio=source))
    result = await carrier.call("+15550100", talk=1.0)
    assert result.answered and result.packets_sent == 25
    call = only_call(phone)
    assert await call.wait_ended(1.0)
    assert call.result().packets_received == 25
    heard = call.stream.received_pcm()
    assert len(heard) == 4000 and -7 < tone_power_db(heard, 1000) < -5


async def test_in_dialog_info_options_and_a_stray_bye(started: Started) -> None:
    phone = await started.phone(phone_for(None))
    carrier = await started.carrier(carrier_for(phone.address))
    call = carrier.new_call("+15550100")
    await call.start()
    assert await call.wait_answered(2.0) and call.dialog is not None
    seat = only_call(phone)

    async def send(method: str, body: bytes = b"", ctype: str | None = None) -> int:
        assert call.dialog is not None
        request = call.dialog.new_request(method, carrier.agent.via(), body=body,
                                          content_type=ctype)
        response = await carrier.agent.request(request, call.peer)
        return response.status if response is not None else 0

    assert await send("INFO", b"Signal=5\r\nDuration=160\r\n", "application/dtmf-relay") == 200
    assert await send("INFO", b"Signal=Z\r\n", "application/dtmf-relay") == 400
    assert await send("OPTIONS") == 200
    assert await send("MESSAGE", b"hi", "text/plain") == 405
    assert seat.result().dtmf == "5"
    assert seat.state is CallState.ANSWERED

    stray = call.dialog.new_request("BYE", carrier.agent.via())
    stray.headers.set("Call-ID", "no-such-call")
    response = await carrier.agent.request(stray, call.peer)
    assert response is not None and response.status == 481
    await call.hangup()
