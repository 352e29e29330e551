"""Seats registering: digest challenges, the brute-force guard, bindings and their expiry."""

from __future__ import annotations

import pytest

from telephony.calls.commands import Publish
from tests.unit.calls.ladder import FLOOR_HOST, Floor, Phone, digest_authorization, make_policy


def authorization(phone: Phone, challenge_response: object, *, algorithm: str | None = None,
                  password: str | None = None, use_qop: bool = True) -> str:
    challenge = phone.challenge(challenge_response, "WWW-Authenticate", algorithm)  # type: ignore[arg-type]
    return digest_authorization(challenge, phone.seat, password or phone.password, "REGISTER",
                                f"sip:{FLOOR_HOST}", use_qop=use_qop)


@pytest.mark.parametrize(("order", "expected"), [
    (("SHA-256", "MD5"), ["SHA-256", "MD5"]),
    (("MD5", "SHA-256"), ["MD5", "SHA-256"]),
])
def test_401_offers_each_algorithm_in_configured_order_with_one_nonce(
        order: tuple[str, ...], expected: list[str]) -> None:
    floor = Floor(make_policy(auth_algorithms=order))
    phone = floor.phone("1001")
    phone.send_register()                                   # >> REGISTER
    challenge = phone.expect("401")                         # << 401
    values = challenge.headers.get_all("WWW-Authenticate")
    assert [v.split("algorithm=")[1].split(",")[0] for v in values] == expected
    assert all('realm="callfloor"' in v and 'qop="auth"' in v for v in values)
    assert len({v.split('nonce="')[1].split('"')[0] for v in values}) == 1
    assert challenge.to.tag  # a final response gets a To tag (§8.2.6.2)
    floor.quiet()


@pytest.mark.parametrize(("algorithm", "use_qop"), [("SHA-256", True), ("MD5", True), ("MD5", False)])
def test_good_credentials_bind_the_contact(algorithm: str, use_qop: bool) -> None:
    floor = Floor()
    phone = floor.phone("1001")
    phone.send_register(expires=300)
    auth = authorization(phone, phone.expect("401"), algorithm=algorithm, use_qop=use_qop)
    phone.send_register(expires=300, authorization=auth)
    ok = phone.expect("200")
    assert ok.headers.get_all("Contact") == ["<sip:1001@10.0.0.11:5060>;expires=300"]
    assert ok.headers.get("Date") == "Tue, 14 Nov 2023 22:13:20 GMT"
    [published] = floor.expect_commands("Publish seat.registered")
    assert isinstance(published, Publish) and published.store
    assert published.payload == {
        "seat": "1001", "contact": "sip:1001@10.0.0.11:5060", "source": "10.0.0.11:5060",
        "transport": "UDP", "user_agent": None, "ts": floor.now}
    [binding] = floor.engine.seats.registrar.lookup("1001", floor.now)
    assert binding.expires_at == floor.now + 300
    floor.quiet()


def test_a_seat_can_be_offered_its_own_algorithms() -> None:
    """baresip 1.0 abandons a 401 offering SHA-256: its seat is challenged with MD5 alone."""
    floor = Floor(make_policy(auth_algorithms=("SHA-256", "MD5"), seat_algorithms={"1001": ("MD5",)}))
    md5_only = floor.phone("1001")
    md5_only.send_register()
    values = md5_only.expect("401").headers.get_all("WWW-Authenticate")
    assert len(values) == 1 and "algorithm=MD5" in values[0]
    md5_only.register(algorithm="MD5")
    other = floor.phone("1002")
    other.send_register()
    values = other.expect("401").headers.get_all("WWW-Authenticate")
    assert ["SHA-256" in values[0], "MD5" in values[1]] == [True, True]
    floor.take_commands()
    floor.quiet()


def test_pyvoip_style_md5_without_qop_is_accepted() -> None:
    floor = Floor(make_policy(auth_algorithms=("MD5",)))
    floor.phone("1001").register(use_qop=False)
    floor.expect_commands("Publish seat.registered")


def test_wrong_password_is_403_wrong_password() -> None:
    floor = Floor()
    phone = floor.phone("1001")
    phone.send_register()
    phone.send_register(authorization=authorization(phone, phone.expect("401"), password="guess"))
    refused = phone.expect("403")
    assert refused.reason == "Wrong password"
    assert floor.engine.seats.registrar.lookup("1001", floor.now) == []
    floor.quiet()


def test_unknown_seat_is_403_with_the_same_reason_as_a_wrong_password() -> None:
    # Telling "no such seat" from "wrong password" would let a scanner list the seats.
    floor = Floor()
    phone = floor.phone("4711", password="whatever")
    phone.send_register()
    phone.send_register(authorization=authorization(phone, phone.expect("401")))
    assert phone.expect("403").reason == "Wrong password"
    floor.quiet()


def test_credentials_of_another_seat_are_403() -> None:
    floor = Floor()
    phone = floor.phone("1001")
    phone.send_register(to_user="1002")
    auth = authorization(phone, phone.expect("401"))
    phone.send_register(to_user="1002", authorization=auth)
    assert phone.expect("403").reason == "Credentials do not match the address of record"
    assert floor.engine.seats.registrar.lookup("1002", floor.now) == []
    floor.quiet()


def test_guard_delays_then_bans_a_guessing_source() -> None:
    floor = Floor(make_policy(guard_slow_after=2, guard_ban_after=4, guard_ban_seconds=600.0))
    phone = floor.phone("1001")
    phone.send_register()
    challenge = phone.expect("401")
    bad = authorization(phone, challenge, password="guess")
    phone.send_register(authorization=bad)                  # failure 1: answered at once
    assert phone.expect("403").reason == "Wrong password"
    phone.send_register(authorization=bad)                  # failure 2: the tarpit starts
    phone.expect_nothing()
    floor.advance(0.4)
    phone.expect_nothing()
    floor.advance(0.1)
    assert phone.expect("403").reason == "Wrong password"   # 0.5 s late
    phone.send_register(authorization=bad)                  # failure 3: twice as late
    floor.advance(0.9)
    phone.expect_nothing()
    floor.advance(0.1)
    phone.expect("403")
    floor.expect_no_commands()
    phone.send_register(authorization=bad)                  # failure 4: banned
    phone.expect("403")
    [banned] = floor.expect_commands("Publish security.banned")
    assert isinstance(banned, Publish)
    assert banned.payload == {"source": "10.0.0.11", "until": floor.now + 600.0, "ts": floor.now}
    # Even the right password is refused during the ban, before any challenge.
    phone.send_register()
    assert phone.expect("403").reason == "Too many failed attempts"
    floor.advance(600.0)
    phone.register()                                        # the ban is over
    floor.expect_commands("Publish seat.registered")


def test_expires_zero_unregisters() -> None:
    floor = Floor()
    phone = floor.phone("1001").register()
    floor.expect_commands("Publish seat.registered")
    phone.send_register(expires=0)
    auth = authorization(phone, phone.expect("401"))
    phone.send_register(expires=0, authorization=auth)
    ok = phone.expect("200")
    assert ok.headers.get_all("Contact") == []
    [gone] = floor.expect_commands("Publish seat.unregistered")
    assert isinstance(gone, Publish) and gone.payload["seat"] == "1001"
    assert floor.engine.seats.registrar.lookup("1001", floor.now) == []
    floor.quiet()


def test_expiry_timer_publishes_unregistered() -> None:
    floor = Floor()
    floor.phone("1001").register(expires=120)
    floor.expect_commands("Publish seat.registered")
    assert floor.engine.ctx.timers.deadline(("registrar", "expire")) == floor.now + 120
    floor.advance(119.9)
    floor.expect_no_commands()
    floor.advance(0.1)
    [gone] = floor.expect_commands("Publish seat.unregistered")
    assert isinstance(gone, Publish) and gone.payload["reason"] == "expired"
    assert floor.engine.seats.registrar.lookup("1001", floor.now) == []
    floor.quiet()


def test_refresh_moves_the_expiry_timer() -> None:
    floor = Floor()
    phone = floor.phone("1001").register(expires=120)
    floor.expect_commands("Publish seat.registered")
    floor.advance(100)
    phone.register(expires=120)
    floor.expect_no_commands()  # a refresh is not news
    floor.advance(119)
    floor.expect_no_commands()
    floor.advance(1)
    floor.expect_commands("Publish seat.unregistered")


def test_too_brief_expires_is_423() -> None:
    floor = Floor()
    phone = floor.phone("1001")
    phone.send_register(expires=10)
    auth = authorization(phone, phone.expect("401"))
    phone.send_register(expires=10, authorization=auth)
    assert phone.expect("423").headers.get("Min-Expires") == "60"
    floor.quiet()


def test_old_nonce_with_the_right_password_is_challenged_again_as_stale() -> None:
    floor = Floor()
    phone = floor.phone("1001")
    phone.send_register()
    auth = authorization(phone, phone.expect("401"))
    floor.advance(301)                                       # nonces live 300 s
    phone.send_register(authorization=auth)
    stale = phone.expect("401")
    assert all("stale=TRUE" in v for v in stale.headers.get_all("WWW-Authenticate"))
    floor.quiet()


def test_malformed_authorization_is_400() -> None:
    floor = Floor()
    phone = floor.phone("1001")
    phone.send_register(authorization='Digest username="1001", realm="callfloor"')
    assert phone.expect("400").reason == "auth header lacks nonce, uri, response"
    floor.quiet()
