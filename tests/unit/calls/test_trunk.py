"""callfloor registering to the carrier (register = true): digest, refresh, back-off, shutdown."""

from __future__ import annotations

import hashlib
import re

from telephony.calls.commands import Publish
from telephony.sip.message import Request
from tests.unit.calls.ladder import Floor, make_policy

CHALLENGE = 'Digest realm="carrier.example", nonce="n0nce", qop="auth", algorithm=SHA-256'


def registering_floor(expires: int = 600) -> Floor:
    return Floor(make_policy(trunk_fields={"register": True, "register_expires": expires}))


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def check_digest(register: Request) -> None:
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', register.headers.get("Authorization") or ""))
    assert (fields["username"], fields["realm"], fields["uri"], fields["qop"], fields["nc"]) == (
        "floor", "carrier.example", "sip:203.0.113.5:5060", "auth", "00000001")
    ha1, ha2 = sha("floor:carrier.example:trunkpass"), sha("REGISTER:sip:203.0.113.5:5060")
    expected = sha(f"{ha1}:n0nce:00000001:{fields['cnonce']}:auth:{ha2}")
    assert fields["response"] == expected


def register_ok(floor: Floor, *, granted: int = 600) -> Request:
    """<< REGISTER, >> 401, << REGISTER with credentials, >> 200."""
    first: Request = floor.carrier.expect("REGISTER")
    floor.carrier.reply(first, 401, to_tag="c1", headers=[("WWW-Authenticate", CHALLENGE)])
    second = floor.carrier.expect("REGISTER")
    check_digest(second)
    assert second.cseq.number == first.cseq.number + 1 and second.call_id == first.call_id
    floor.carrier.reply(second, 200, to_tag="c1",
                        headers=[("Contact", f"<sip:floor@192.0.2.1:5060>;expires={granted}")])
    return first


def test_registers_answers_the_challenge_and_refreshes_at_80_percent() -> None:
    floor = registering_floor()
    first = register_ok(floor)
    assert first.uri == "sip:203.0.113.5:5060"
    assert first.headers.get("To") == "<sip:floor@203.0.113.5>"
    assert first.headers.get("Contact") == "<sip:floor@192.0.2.1:5060>"
    assert first.headers.get("Expires") == "600"
    assert first.headers.get("Authorization") is None
    [done] = floor.expect_commands("Publish trunk.registered")
    assert isinstance(done, Publish) and done.payload["expires"] == 600 and done.store
    floor.advance(479.9)
    floor.carrier.expect_nothing()
    floor.advance(0.1)                                       # 80% of 600 s
    refresh = floor.carrier.expect("REGISTER")
    assert refresh.call_id == first.call_id and refresh.cseq.number == 3


def test_granted_interval_from_the_carrier_wins() -> None:
    floor = registering_floor(3600)
    register_ok(floor, granted=120)
    floor.take_commands()
    floor.advance(96)                                        # 80% of the 120 s granted
    floor.carrier.expect("REGISTER")


def test_failure_is_retried_with_growing_back_off() -> None:
    floor = registering_floor()
    floor.carrier.reply(floor.carrier.expect("REGISTER"), 403, to_tag="c1")
    [failed] = floor.expect_commands("Publish trunk.registration_failed")
    assert isinstance(failed, Publish)
    assert (failed.payload["status"], failed.payload["retry_in"]) == (403, 5.0)
    floor.advance(5)
    floor.carrier.reply(floor.carrier.expect("REGISTER"), 503, to_tag="c1")
    [failed] = floor.expect_commands("Publish trunk.registration_failed")
    assert failed.payload["retry_in"] == 10.0                # type: ignore[union-attr]
    floor.advance(10)
    register_ok(floor)
    floor.expect_commands("Publish trunk.registered")


def test_silent_carrier_counts_as_408_and_is_retried() -> None:
    floor = registering_floor()
    floor.carrier.expect("REGISTER")
    floor.advance(32)                                        # Timer F
    [failed] = floor.expect_commands("Publish trunk.registration_failed")
    assert failed.payload["status"] == 408                   # type: ignore[union-attr]
    floor.advance(5)
    floor.carrier.expect("REGISTER")


def test_wrong_trunk_password_gives_up_after_two_answers() -> None:
    floor = registering_floor()
    for _ in range(3):                                       # the first try, then two answers
        floor.carrier.reply(floor.carrier.expect("REGISTER"), 401, to_tag="c1",
                            headers=[("WWW-Authenticate", CHALLENGE)])
    floor.expect_commands("Publish trunk.registration_failed")
    floor.carrier.expect_nothing()


def test_drain_unregisters() -> None:
    floor = registering_floor()
    register_ok(floor)
    floor.take_commands()
    floor.engine.drain(floor.now)
    bye = floor.carrier.expect("REGISTER")
    assert bye.headers.get("Expires") == "0"
    floor.carrier.reply(bye, 200, to_tag="c1")
    floor.expect_commands("Publish trunk.unregistered")
    floor.advance(3600)
    floor.carrier.expect_nothing()                           # no refresh after un-registering


def test_no_registration_without_register_true() -> None:
    floor = Floor()
    floor.carrier.expect_nothing()
    assert floor.engine.trunk_registration is None
