"""The simulated customers behind the carrier, called over real UDP on 127.0.0.1.

A dialling agent (another SimCarrier, as the floor's trunk would) calls a SimCarrier that has a
population of :class:`SimCustomers`; each behaviour must answer with the SIP it stands for (the
ladder of start lines each side received), and the audio of a person and of a machine must get
the verdicts callfloor's own answering-machine detector gives. A SimPhone with auto-answer on
answers at once the INVITEs that ask for it, as a seat of a campaign must within the 2 s grace.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from datetime import date

import numpy as np
import pytest

from callfloor.sim import IncomingCall, OutgoingCall, RtpStream, SimCarrier, SimPhone, SipAgent
from callfloor.sim.customers import Behaviour, CustomerMix, SimCustomers
from callfloor.sim.desk import DispositionPolicy
from callfloor.sim.leads import DRAMA_RANGES, lead_csv
from callfloor.sim.phone import auto_answer_after
from callfloor.sim.voices import BEEP_HZ, machine_voice, person_voice
from dialer.amd import AmdDetector
from dialer.leads import parse_leads
from telephony.rtp.tone import tone_power_db
from telephony.sip.message import Headers, Request
from telephony.sip.sdp import G711
from telephony.sip.transport import Peer, Transport

pytestmark = pytest.mark.timeout(20)

NUMBER = "+442079460123"


def only(behaviour: Behaviour, **timings: object) -> CustomerMix:
    """A population where every customer behaves the same way."""
    shares = {b.value: 1.0 if b is behaviour else 0.0 for b in Behaviour}
    return CustomerMix(**shares, **timings)  # type: ignore[arg-type]


def start_line(data: bytes) -> str:
    return data.split(b"\r\n", 1)[0].decode()


class Tapped:
    """What each side of the call received, as start lines (requests: the method only)."""

    def __init__(self, dialler: SipAgent, customers: SipAgent) -> None:
        self.at_dialler: list[str] = []
        self.at_customer: list[str] = []
        for agent, into in ((dialler, self.at_dialler), (customers, self.at_customer)):
            self._tap(agent, into)

    @staticmethod
    def _tap(agent: SipAgent, into: list[str]) -> None:
        inner = agent.datagram_received

        def tap(data: bytes, addr: tuple[str, int]) -> None:
            line = start_line(data)
            into.append(line.split(" ", 1)[0] if not line.startswith("SIP/2.0") else line[8:])
            inner(data, addr)

        agent.datagram_received = tap  # type: ignore[method-assign]


@contextlib.asynccontextmanager
async def customers_and_dialler(mix: CustomerMix, seed: int = 1) -> AsyncIterator[
        tuple[SimCarrier, SimCustomers, SimCarrier, Tapped]]:
    """A carrier with the population, and a dialler (keeping what it hears) aimed at it."""
    population = SimCustomers(mix, rng=random.Random(seed))
    far = SimCarrier(("127.0.0.1", 0), ("127.0.0.1", 9), rng=random.Random(seed + 1),
                     customers=population)
    await far.start()
    dialler = SimCarrier(("127.0.0.1", 0), far.address, rng=random.Random(seed + 2), keep_pcm=True)
    await dialler.start()
    try:
        yield far, population, dialler, Tapped(dialler.agent, far.agent)
    finally:
        await dialler.stop()
        await far.stop()


def verdict(pcm: np.ndarray) -> str:
    detector = AmdDetector()
    return detector.feed(pcm.astype(np.int16)) or detector.finish()


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


# -- each behaviour on the wire ------------------------------------------------------------------
@pytest.mark.parametrize(("behaviour", "status", "reason"), [
    (Behaviour.BUSY, 486, "Busy Here"),
    (Behaviour.ERROR, 503, "Service Unavailable"),
])
async def test_busy_and_a_failing_route_refuse_at_once(behaviour: Behaviour, status: int,
                                                       reason: str) -> None:
    async with customers_and_dialler(only(behaviour)) as (far, population, dialler, tap):
        result = await dialler.call(NUMBER, talk=None, ring_timeout=5)
        assert (result.status, result.answered, result.ring_time) == (status, False, None)
        assert result.reason == reason and result.packets_received == 0
        assert tap.at_customer == ["INVITE", "ACK"]
        assert tap.at_dialler == ["100 Trying", f"{status} {reason}"]
        assert population.counts == {behaviour: 1}
        (call,) = far.calls
        assert call.result().status == status and far.active == {}


async def test_nobody_answers_it_rings_until_the_cancel() -> None:
    async with customers_and_dialler(only(Behaviour.NO_ANSWER)) as (far, _, dialler, tap):
        result = await dialler.call(NUMBER, talk=None, ring_timeout=0.6)
        assert (result.status, result.answered, result.ended_by) == (487, False, "cancel")
        assert result.ring_time is not None and result.ring_time < 0.2
        assert tap.at_customer == ["INVITE", "CANCEL", "ACK"]
        assert tap.at_dialler == ["100 Trying", "180 Ringing", "200 OK", "487 Request Terminated"]
        (call,) = far.calls
        assert (call.result().status, call.result().ended_by) == (487, "cancel")


async def test_nobody_answers_and_nobody_cancels_it_gives_up_with_480() -> None:
    async with customers_and_dialler(only(Behaviour.NO_ANSWER, give_up=0.5)) as (_, _, dialler, tap):
        result = await dialler.call(NUMBER, talk=None, ring_timeout=5)
        assert (result.status, result.reason) == (480, "Temporarily Unavailable")
        assert tap.at_dialler == ["100 Trying", "180 Ringing", "480 Temporarily Unavailable"]


async def test_a_person_answers_says_hello_and_is_heard_as_a_human() -> None:
    mix = only(Behaviour.LIVE, ring=(0.3, 0.3), patience=(60.0, 60.0))
    async with customers_and_dialler(mix) as (far, _, dialler, tap):
        call = dialler.new_call(NUMBER)
        await call.start()
        assert await call.wait_answered(3)
        result = call.result()
        assert result.ring_time is not None and result.setup_time is not None
        assert 0.25 < result.setup_time - result.ring_time < 0.5   # rang 0.3 s, then the 200
        await until(lambda: call.stream.packets_received >= 150)  # 3 s of the person
        heard = call.stream.received_pcm()
        assert verdict(heard) == "human"
        assert np.abs(heard[:1600].astype(float)).max() > 1000   # "Hello?" at once
        await call.hangup()                                       # the seat hangs up
        (far_call,) = far.calls
        assert await far_call.wait_ended(2)
        assert (far_call.result().ended_by, far_call.result().reason) == ("remote", "BYE")
        assert tap.at_dialler[:3] == ["100 Trying", "180 Ringing", "200 OK"]
        assert tap.at_customer == ["INVITE", "ACK", "BYE"]


async def test_a_person_out_of_patience_hangs_up() -> None:
    mix = only(Behaviour.LIVE, ring=(0.1, 0.1), patience=(0.8, 0.8))
    async with customers_and_dialler(mix) as (_, _, dialler, tap):
        result = await dialler.call(NUMBER, talk=None, ring_timeout=3)
        assert (result.answered, result.ended_by, result.reason) == (True, "remote", "BYE")
        assert 0.7 < result.duration < 1.2
        assert tap.at_dialler[-1] == "BYE"


async def test_a_machine_answers_plays_its_greeting_and_beep_and_keeps_recording() -> None:
    mix = only(Behaviour.MACHINE, ring=(0.2, 0.2))
    async with customers_and_dialler(mix) as (far, _, dialler, _):
        call = dialler.new_call(NUMBER)
        await call.start()
        assert await call.wait_answered(3)
        greeting = len(machine_voice(0).pcm) - 20 * 8000          # greeting, pause and beep
        await until(lambda: call.stream.packets_received * 160 >= greeting + 8000, timeout=12)
        heard = call.stream.received_pcm()
        assert verdict(heard) == "machine"
        assert np.abs(heard[:1600].astype(float)).max() > 1000     # the greeting at once
        assert max(tone_power_db(heard[i: i + 800], BEEP_HZ)
                   for i in range(0, greeting + 4000 - 800, 400)) > -25  # the beep
        assert not call.ended                                       # still recording
        await call.hangup()
        (far_call,) = far.calls
        assert await far_call.wait_ended(2) and far_call.result().ended_by == "remote"


# -- the population -----------------------------------------------------------------------------
async def test_a_seeded_population_replays_the_same_customers() -> None:
    picks = []
    for _ in range(2):
        population = SimCustomers(CustomerMix(), rng=random.Random(7))
        calls = [_Fake(f"c{i}") for i in range(200)]
        picks.append([population.choose(c)[0] for c in calls])  # type: ignore[arg-type]
    assert picks[0] == picks[1]
    counts = {b: picks[0].count(b) for b in Behaviour}
    # 35/20/25/15/5 % of 200 calls, within sampling noise.
    assert 50 <= counts[Behaviour.LIVE] <= 90 and 25 <= counts[Behaviour.BUSY] <= 55
    assert 30 <= counts[Behaviour.NO_ANSWER] <= 70 and 15 <= counts[Behaviour.MACHINE] <= 45
    assert 2 <= counts[Behaviour.ERROR] <= 20


class _Fake:
    def __init__(self, call_id: str) -> None:
        self.call_id = call_id


def test_mix_from_the_command_line() -> None:
    mix = CustomerMix.parse("live=50, busy=10,no-answer=20,machine=20,error=0")
    assert mix.shares() == {Behaviour.LIVE: 50.0, Behaviour.BUSY: 10.0, Behaviour.NO_ANSWER: 20.0,
                            Behaviour.MACHINE: 20.0, Behaviour.ERROR: 0.0}
    assert mix.describe() == "50% live, 10% busy, 20% no answer, 20% machine, 0% error"
    assert CustomerMix.parse("") == CustomerMix()
    assert CustomerMix().describe() == "35% live, 20% busy, 25% no answer, 15% machine, 5% error"
    for bad, message in [("live", "expected NAME=SHARE"), ("fax=3", "expected NAME=SHARE"),
                         ("live=lots", "'lots' is not a number"),
                         ("live=0,busy=0,no_answer=0,machine=0,error=0", "not all 0"),
                         ("busy=-1", ">= 0")]:
        with pytest.raises(ValueError, match=message):
            CustomerMix.parse(bad)


@pytest.mark.parametrize("seed", range(8))
def test_every_voice_gets_the_detectors_right_verdict(seed: int) -> None:
    assert verdict(person_voice(seed).pcm[: 4 * 8000]) == "human"
    assert verdict(machine_voice(seed).pcm[: 4 * 8000]) == "machine"


def test_fresh_leads_are_valid_uk_numbers_in_london_time() -> None:
    text = lead_csv(random.Random(3), 50, today=date(2026, 3, 1), exclude=["+442079460001"])
    report = parse_leads(text.encode(), region="GB", now=1_772_000_000.0, countries=("GB",))
    assert (report.errors, report.merges, report.rows) == ((), (), 50)
    assert len(report.leads) == 50 and len({lead.number for lead in report.leads}) == 50
    assert all(lead.number[3:10] in DRAMA_RANGES for lead in report.leads)
    assert {lead.time_zone for lead in report.leads} == {"Europe/London"}
    assert text.splitlines()[0] == "number,name,plan,renews_on,note"


def test_a_seat_chooses_among_the_campaigns_dispositions_by_kind() -> None:
    offered = [{"code": "yes", "kind": "conversion"}, {"code": "no", "kind": "refusal"},
               {"code": "later", "kind": "callback"}]
    policy = DispositionPolicy(conversion=1, refusal=0, callback=0)
    assert {policy.choose(random.Random(i), offered)["code"] for i in range(20)} == {"yes"}  # type: ignore[index]
    assert DispositionPolicy().choose(random.Random(1), []) is None


# -- a seat's phone with auto-answer on ---------------------------------------------------------
def invite(*headers: tuple[str, str]) -> Request:
    return Request(method="INVITE", uri="sip:1003@127.0.0.1", headers=Headers([
        ("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1"), ("From", "<sip:a@b>;tag=1"),
        ("To", "<sip:1003@127.0.0.1>"), ("Call-ID", "x"), ("CSeq", "1 INVITE"), *headers]))


@pytest.mark.parametrize(("headers", "after"), [
    ((), None),
    ((("Answer-Mode", "Auto"),), 0.0),
    ((("Priv-Answer-Mode", "Auto;require"),), 0.0),
    ((("Call-Info", "<sip:192.0.2.1>;answer-after=0"),), 0.0),
    ((("Call-Info", "<sip:192.0.2.1>;Answer-After=2.5"),), 2.5),
    ((("Alert-Info", "<http://127.0.0.1>;info=alert-autoanswer"),), 0.0),
    ((("Answer-Mode", "Manual"), ("Call-Info", "<sip:x>;answer-after=0")), None),
    ((("Call-Info", "<http://x/photo.png>;purpose=icon"),), None),
])
def test_which_invites_ask_for_auto_answer(headers: tuple[tuple[str, str], ...],
                                           after: float | None) -> None:
    assert auto_answer_after(invite(*headers)) == after


async def _ring_phone(phone: SimPhone, headers: list[tuple[str, str]], seed: int) -> float:
    """Call ``phone`` with ``headers``; seconds from the INVITE to its 200."""
    caller = SimCarrier(("127.0.0.1", 0), phone.address, rng=random.Random(seed))
    await caller.start()
    try:
        agent = caller.agent
        host, port = phone.address
        call = OutgoingCall(agent, Peer(Transport.UDP, host, port), request_uri=f"sip:1003@{host}:{port}",
                            from_uri="sip:+442079460123@127.0.0.1", to_uri=f"sip:1003@{host}",
                            remote="1003", stream=RtpStream(rng=random.Random(5)), codecs=G711,
                            source=None, extra_headers=headers)
        await call.start()
        assert await call.wait_answered(5)
        setup = call.result().setup_time
        await call.hangup()
        assert setup is not None
        return setup
    finally:
        await caller.stop()


async def test_a_campaign_seat_answers_at_once_an_invite_that_asks_for_it() -> None:
    ended: list[IncomingCall] = []
    phone = SimPhone("1003", "x", None, answer_after=(1.5, 1.5), rng=random.Random(6),
                     on_call_end=lambda c: ended.append(c) if isinstance(c, IncomingCall) else None)
    await phone.start()
    try:
        assert await _ring_phone(phone, [("Call-Info", "<sip:127.0.0.1>;answer-after=0"),
                                         ("Answer-Mode", "Auto"),
                                         ("X-Callfloor-Campaign", "demo")], 1) < 0.3
        assert await _ring_phone(phone, [], 2) > 1.4          # a plain call rings as usual
        off = SimPhone("1004", "x", None, answer_after=(1.5, 1.5), auto_answer=False)
        await off.start()
        try:
            assert await _ring_phone(off, [("Answer-Mode", "Auto")], 3) > 1.4
        finally:
            await off.stop()
    finally:
        await phone.stop()
    await until(lambda: len(ended) == 2, timeout=2)
    assert [c.invite.headers.get("X-Callfloor-Campaign") for c in ended] == ["demo", None]
