"""SIPp seats register with callfloor: digest auth, wrong passwords, un-registering, several
phones for one seat, and the brute-force guard that bans a source guessing passwords."""

from __future__ import annotations

import time

import pytest

from telephony.sip.registrar import Binding
from tests.integration.conftest import FloorOpener, traced
from tests.integration.harness import free_port

pytestmark = pytest.mark.integration


def contacts(bindings: list[Binding]) -> list[str]:
    """The contact URIs of registrar bindings, in lookup order."""
    return [b.contact.uri for b in bindings]


async def test_register_with_digest_binds_the_contact(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        port = free_port()
        result = await f.register("1001", "secret1001", port, expires=300)
        assert result.returncode == 0, result.explain()
        bindings = f.service.engine.seats.registrar.lookup("1001", time.time())
        assert contacts(bindings) == [f"sip:1001@127.0.0.1:{port}"]
        assert 290 < bindings[0].expires_at - time.time() <= 300
        assert bindings[0].source[:2] == ("UDP", "127.0.0.1")
        # The 200 OK lists the binding with the granted expiry (RFC 3261 §10.3 step 8).
        assert f"Contact: <sip:1001@127.0.0.1:{port}>;expires=300" in result.messages
        await f.calls_when_idle()
        events = await f.service.store.events(kind="seat.registered")
    assert [(e.subject, e.data["contact"]) for e in events] == [("1001", f"sip:1001@127.0.0.1:{port}")]


async def test_wrong_password_is_refused_with_403(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        result = await f.register("1001", "not-the-password", free_port(),
                                  scenario="register_refused.xml")
        assert result.returncode == 0, result.explain()
        assert f.service.engine.seats.registrar.lookup("1001", time.time()) == []
        # The right password still works from the same address (one failure is no ban).
        ok = await f.register("1001", "secret1001", free_port())
        assert ok.returncode == 0, ok.explain()


async def test_unregister_with_expires_zero_removes_the_binding(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        port = free_port()
        registry = f.service.engine.seats.registrar
        assert (await f.register("1001", "secret1001", port, expires=300)).returncode == 0
        assert len(registry.lookup("1001", time.time())) == 1
        result = await f.register("1001", "secret1001", port, expires=0)
        assert result.returncode == 0, result.explain()
        assert registry.lookup("1001", time.time()) == []
        await f.calls_when_idle()
        events = await f.service.store.events(kind="seat.unregistered")
    assert [(e.subject, e.data["contact"]) for e in events] == [("1001", f"sip:1001@127.0.0.1:{port}")]


async def test_several_phones_for_one_seat(open_floor: FloorOpener) -> None:
    async with open_floor() as f:
        ports = [free_port() for _ in range(3)]
        for port in ports:
            result = await f.register("1002", "secret1002", port, expires=300)
            assert result.returncode == 0, result.explain()
        bindings = f.service.engine.seats.registrar.lookup("1002", time.time())
        # Newest first; every phone keeps its own binding.
        assert contacts(bindings) == [f"sip:1002@127.0.0.1:{p}" for p in reversed(ports)]
        # Un-registering one phone leaves the others.
        assert (await f.register("1002", "secret1002", ports[1], expires=0)).returncode == 0
        left = contacts(f.service.engine.seats.registrar.lookup("1002", time.time()))
        assert left == [f"sip:1002@127.0.0.1:{ports[2]}", f"sip:1002@127.0.0.1:{ports[0]}"]
        assert f.service.engine.seats.registrar.lookup("1001", time.time()) == []


async def test_repeated_wrong_passwords_are_slowed_then_banned(open_floor: FloorOpener) -> None:
    async with open_floor(sip={"guard": {"slow_after": 2, "ban_after": 4, "ban_seconds": 60}}) as f:
        # Four guesses, one after another, each answered "403 Wrong password".
        guesses = await f.register("1001", "guess", free_port(), scenario="register_refused.xml",
                                   calls=4)
        assert guesses.returncode == 0, guesses.explain()
        # Banned: refused before any challenge, whatever the credentials.
        banned = await f.register("1001", "secret1001", free_port(), scenario="register_banned.xml")
        assert banned.returncode == 0, banned.explain()
        refused = await f.register("1001", "secret1001", free_port())
        assert refused.returncode != 0
        assert "SIP/2.0 403 Too many failed attempts" in refused.messages
        assert f.service.engine.seats.registrar.lookup("1001", time.time()) == []
        await f.calls_when_idle()
        events = await f.service.store.events(kind="security.banned")
    # The tarpit: from the second failure on, the 403 comes late (0.5 s, then 1 s); the failure
    # that bans is answered at once.
    trace = traced(guesses.messages)
    delays = []
    for call_id in dict.fromkeys(m.headers["call-id"] for m in trace):
        sent = next(m.at for m in trace if m.sent and m.cseq == "2 REGISTER" and m.headers["call-id"] == call_id)
        answered = next(m.at for m in trace if not m.sent and m.start_line.startswith("SIP/2.0 403")
                        and m.headers["call-id"] == call_id)
        delays.append(answered - sent)
    assert len(delays) == 4
    assert delays[0] < 0.3 and 0.45 < delays[1] < 0.9 and 0.95 < delays[2] < 1.5 and delays[3] < 0.3, delays
    assert [e.subject for e in events] == ["127.0.0.1"]
    assert events[0].data["until"] == pytest.approx(events[0].at + 60)
