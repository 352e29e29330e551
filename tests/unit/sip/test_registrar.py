"""The registrar: RFC 3261 §10.3 REGISTER processing, binding changes, lookup and expiry."""

from __future__ import annotations

import pytest

from telephony.sip.headers import NameAddr
from telephony.sip.message import Headers, Request
from telephony.sip.registrar import Binding, Registrar
from tests.torture import require_torture
from tests.unit.sip.auth_wire import AUTH_FIXTURES, read_request

NOW = 1_700_000_000.0
DATE = ("Date", "Tue, 14 Nov 2023 22:13:20 GMT")
SRC = ("UDP", "203.0.113.7", 40312)
PHONE = "<sip:1001@10.0.0.5:5062>"


def register(
    *contacts: str, expires: str | None = None, call_id: str = "reg-1", cseq: int = 1,
    user_agent: str | None = None,
) -> Request:
    headers = Headers([
        ("Via", "SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKr1;rport"),
        ("From", "<sip:1001@pbx.example>;tag=f1"),
        ("To", "<sip:1001@pbx.example>"),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} REGISTER"),
    ])
    for contact in contacts:
        headers.add("Contact", contact)
    if expires is not None:
        headers.add("Expires", expires)
    if user_agent is not None:
        headers.add("User-Agent", user_agent)
    return Request(method="REGISTER", uri="sip:pbx.example", headers=headers)


def contacts_of(outcome_headers: tuple[tuple[str, str], ...]) -> list[str]:
    return [v for k, v in outcome_headers if k == "Contact"]


def test_first_register_adds_a_binding() -> None:
    reg = Registrar()
    out = reg.register("1001", register(PHONE, expires="600", user_agent="Zoiper"), SRC, NOW)
    assert out.status == 200 and out.reason is None
    assert out.headers == (("Contact", "<sip:1001@10.0.0.5:5062>;expires=600"), DATE)
    binding = Binding("1001", NameAddr("sip:1001@10.0.0.5:5062"), NOW + 600, 1.0, "reg-1", 1,
                      SRC, None, "Zoiper")
    assert out.added == (binding,) and out.bindings == (binding,)
    assert out.removed == () and out.refreshed == ()
    assert reg.lookup("1001", NOW) == [binding]
    assert reg.aors() == ["1001"]
    assert reg.next_expiry() == NOW + 600


def test_response_bytes() -> None:
    reg = Registrar()
    request = register(PHONE, expires="600")
    response = reg.make_response(request, reg.register("1001", request, SRC, NOW), "t0")
    assert response.to_bytes() == (
        b"SIP/2.0 200 OK\r\n"
        b"Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKr1;rport\r\n"
        b"From: <sip:1001@pbx.example>;tag=f1\r\n"
        b"To: <sip:1001@pbx.example>;tag=t0\r\n"
        b"Call-ID: reg-1\r\n"
        b"CSeq: 1 REGISTER\r\n"
        b"Contact: <sip:1001@10.0.0.5:5062>;expires=600\r\n"
        b"Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
        b"Content-Length: 0\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("contact", "expires", "granted"),
    [
        (PHONE, None, 3600),  # neither: the registrar's default
        (PHONE, "120", 120),  # Expires header
        (PHONE + ";expires=300", "120", 300),  # the contact parameter wins
        (PHONE, "7200", 3600),  # clamped to max_expires
        (PHONE, "99999999999", 3600),  # beyond 2**32-1 is read as 2**32-1, then clamped
        (PHONE, "60", 60),  # exactly min_expires is fine
    ],
)
def test_expiration_interval(contact: str, expires: str | None, granted: int) -> None:
    out = Registrar().register("1001", register(contact, expires=expires), SRC, NOW)
    assert out.status == 200
    assert out.added[0].expires_at == NOW + granted
    assert contacts_of(out.headers) == [f"{PHONE};expires={granted}"]


def test_too_brief_is_423_with_min_expires_and_changes_nothing() -> None:
    reg = Registrar(min_expires=60)
    reg.register("1001", register(PHONE), SRC, NOW)
    out = reg.register("1001", register("<sip:1001@10.0.0.9>", PHONE + ";expires=59", cseq=2),
                       SRC, NOW)
    assert (out.status, out.headers) == (423, (("Min-Expires", "60"),))
    assert reg.make_response(register(PHONE), out, "t").reason == "Interval Too Brief"
    assert [b.contact.uri for b in reg.lookup("1001", NOW)] == ["sip:1001@10.0.0.5:5062"]


def test_refresh_updates_expiry_and_source() -> None:
    reg = Registrar()
    first = reg.register("1001", register(PHONE, expires="600"), SRC, NOW).added[0]
    moved = ("UDP", "203.0.113.7", 40999)  # the NAT mapping changed
    out = reg.register("1001", register(PHONE, expires="600", cseq=2), moved, NOW + 300)
    assert out.added == () and out.removed == ()
    (refreshed,) = out.refreshed
    assert (refreshed.expires_at, refreshed.cseq, refreshed.source) == (NOW + 900, 2, moved)
    assert reg.lookup("1001", NOW + 300) == [refreshed] != [first]
    assert reg.next_expiry() == NOW + 900  # the superseded heap entry is skipped


@pytest.mark.parametrize("cseq", [1, 0])
def test_same_call_id_without_higher_cseq_is_500(cseq: int) -> None:
    reg = Registrar()
    reg.register("1001", register(PHONE, cseq=1), SRC, NOW)
    out = reg.register("1001", register(PHONE, expires="0", cseq=cseq), SRC, NOW + 1)
    assert (out.status, out.reason) == (500, "Out of order REGISTER")
    assert len(reg.lookup("1001", NOW + 1)) == 1


def test_new_call_id_may_restart_cseq() -> None:
    reg = Registrar()
    reg.register("1001", register(PHONE, cseq=50), SRC, NOW)
    out = reg.register("1001", register(PHONE, call_id="after-reboot", cseq=1), SRC, NOW + 1)
    assert out.status == 200 and out.refreshed[0].call_id == "after-reboot"


def test_expires_zero_removes_one_binding() -> None:
    reg = Registrar()
    reg.register("1001", register(PHONE, "<sip:1001@10.0.0.6>", expires="600"), SRC, NOW)
    out = reg.register("1001", register(PHONE + ";expires=0", cseq=2), SRC, NOW + 10)
    assert out.status == 200
    assert [b.contact.uri for b in out.removed] == ["sip:1001@10.0.0.5:5062"]
    assert contacts_of(out.headers) == ["<sip:1001@10.0.0.6>;expires=590"]
    # Removing what is not bound is a no-op, not an error.
    out = reg.register("1001", register("<sip:1001@10.9.9.9>", expires="0", cseq=3), SRC, NOW)
    assert (out.status, out.added, out.removed) == (200, (), ())


def test_star_with_expires_zero_removes_all() -> None:
    reg = Registrar()
    reg.register("1001", register(PHONE, "<sip:1001@10.0.0.6>"), SRC, NOW)
    out = reg.register("1001", register("*", expires="0", cseq=2), SRC, NOW + 5)
    assert out.status == 200 and out.headers == (("Date", "Tue, 14 Nov 2023 22:13:25 GMT"),)
    assert len(out.removed) == 2 and out.bindings == ()
    assert reg.aors() == [] and reg.next_expiry() is None


@pytest.mark.parametrize(
    ("contacts", "expires"),
    [(("*",), "3600"), (("*",), None), (("*", PHONE), "0"), (("*, " + PHONE,), "0")],
)
def test_star_misuse_is_400(contacts: tuple[str, ...], expires: str | None) -> None:
    reg = Registrar()
    reg.register("1001", register(PHONE), SRC, NOW)
    out = reg.register("1001", register(*contacts, expires=expires, cseq=2), SRC, NOW)
    assert (out.status, out.reason) == (400, "Contact '*' needs Expires: 0 and no other Contact")
    assert len(reg.lookup("1001", NOW)) == 1


def test_star_out_of_order_is_500() -> None:
    reg = Registrar()
    reg.register("1001", register(PHONE, cseq=7), SRC, NOW)
    out = reg.register("1001", register("*", expires="0", cseq=7), SRC, NOW)
    assert out.status == 500 and len(reg.lookup("1001", NOW)) == 1


def test_query_lists_bindings_and_changes_nothing() -> None:
    reg = Registrar()
    reg.register("1001", register(PHONE + ";q=0.5", "<sip:1001@10.0.0.6>;q=0.9"), SRC, NOW)
    out = reg.register("1001", register(cseq=2), SRC, NOW + 100)
    assert out.status == 200 and (out.added, out.removed, out.refreshed) == ((), (), ())
    assert contacts_of(out.headers) == [
        "<sip:1001@10.0.0.6>;q=0.9;expires=3500",
        "<sip:1001@10.0.0.5:5062>;q=0.5;expires=3500",
    ]
    assert Registrar().register("nobody", register(), SRC, NOW).headers == (DATE,)


def test_max_contacts_drops_the_oldest() -> None:
    reg = Registrar(max_contacts=2)
    a = reg.register("1001", register("<sip:a@10.0.0.1>"), SRC, NOW).added[0]
    reg.register("1001", register("<sip:b@10.0.0.2>", cseq=2), SRC, NOW + 1)
    out = reg.register("1001", register("<sip:c@10.0.0.3>", cseq=3), SRC, NOW + 2)
    assert out.removed == (a,)
    assert [b.contact.uri for b in reg.lookup("1001", NOW + 2)] == ["sip:c@10.0.0.3", "sip:b@10.0.0.2"]
    # Three new contacts in one request: the first of them never makes it, so it is not "added".
    out = reg.register("1001", register("<sip:d@h>", "<sip:e@h>", "<sip:f@h>", cseq=4), SRC, NOW + 3)
    assert [b.contact.uri for b in out.added] == ["sip:e@h", "sip:f@h"]
    assert [b.contact.uri for b in out.removed] == ["sip:b@10.0.0.2", "sip:c@10.0.0.3"]


def test_refreshed_contact_counts_as_newest_for_max_contacts() -> None:
    reg = Registrar(max_contacts=2)
    reg.register("1001", register("<sip:a@h>"), SRC, NOW)
    reg.register("1001", register("<sip:b@h>", cseq=2), SRC, NOW + 1)
    reg.register("1001", register("<sip:a@h>", cseq=3), SRC, NOW + 2)  # a refreshed
    out = reg.register("1001", register("<sip:c@h>", cseq=4), SRC, NOW + 3)
    assert [b.contact.uri for b in out.removed] == ["sip:b@h"]


def test_lookup_orders_by_q_then_recency_and_hides_expired() -> None:
    reg = Registrar()
    reg.register("1001", register("<sip:old@h>;q=0.5", expires="100"), SRC, NOW)
    reg.register("1001", register("<sip:mid@h>;q=1.0", cseq=2), SRC, NOW + 1)
    reg.register("1001", register("<sip:new@h>;q=0.5", cseq=3), SRC, NOW + 2)
    assert [b.contact.uri for b in reg.lookup("1001", NOW + 3)] == ["sip:mid@h", "sip:new@h", "sip:old@h"]
    assert [b.contact.uri for b in reg.lookup("1001", NOW + 100)] == ["sip:mid@h", "sip:new@h"]
    assert reg.lookup("nobody", NOW) == []


def test_expire_and_next_expiry() -> None:
    reg = Registrar()
    reg.register("1001", register(PHONE, expires="60"), SRC, NOW)
    reg.register("1002", register("<sip:1002@10.0.0.8>", expires="120"), SRC, NOW)
    assert reg.next_expiry() == NOW + 60
    assert reg.expire(NOW + 59.9) == []
    (gone,) = reg.expire(NOW + 60)
    assert gone.aor == "1001"
    assert reg.aors() == ["1002"] and reg.next_expiry() == NOW + 120
    assert [b.aor for b in reg.expire(NOW + 1000)] == ["1002"]
    assert reg.next_expiry() is None and reg.aors() == []


def test_register_reports_bindings_that_lapsed_meanwhile() -> None:
    reg = Registrar()
    lapsed = reg.register("1001", register(PHONE, expires="60"), SRC, NOW).added[0]
    out = reg.register("1001", register("<sip:1001@10.0.0.6>", cseq=2), SRC, NOW + 61)
    assert out.removed == (lapsed,) and len(out.added) == 1
    assert reg.expire(NOW + 61) == []  # already reported once


def test_contacts_compare_as_uris() -> None:
    reg = Registrar()
    reg.register("1001", register("<sip:1001@10.0.0.5:5062;transport=udp>"), SRC, NOW)
    # Case of scheme, host and parameter values, parameter order, %-escapes: the same contact.
    same = "<SIP:%31001@10.0.0.5:5062;ob;transport=UDP>"
    out = reg.register("1001", register(same, cseq=2), SRC, NOW)
    assert out.added == () and len(out.refreshed) == 1
    # The user part is case-sensitive and an explicit port is not the default: new contacts.
    out = reg.register("1001", register("<sip:1001@10.0.0.5;transport=udp>", cseq=3), SRC, NOW)
    assert len(out.added) == 1
    out = reg.register("1001", register("<sip:Alice@h>", "<sip:alice@h>", cseq=4), SRC, NOW)
    assert len(out.added) == 2


def test_same_instance_replaces_the_old_contact() -> None:
    reg = Registrar()
    inst = ';+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"'
    old = reg.register("1001", register("<sip:1001@198.51.100.1:5060>" + inst), SRC, NOW).added[0]
    assert old.instance == "urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF"
    out = reg.register("1001", register("<sip:1001@198.51.100.1:6000>" + inst, cseq=2), SRC, NOW)
    assert out.added == () and out.removed == ()
    assert [b.contact.uri for b in out.refreshed] == ["sip:1001@198.51.100.1:6000"]
    assert len(reg.lookup("1001", NOW)) == 1


@pytest.mark.parametrize(
    ("contact", "expires", "reason"),
    [
        (PHONE, "soon", "bad Expires 'soon'"),
        (PHONE, "³", "bad Expires '³'"),
        (PHONE + ";expires=-1", None, "bad expires parameter '-1'"),
        (PHONE + ";q=high", None, "bad q 'high'"),
        (PHONE + ";q=1.5", None, "q out of range '1.5'"),
        ("<sip:1001@bad host>", None, "bad host in 'sip:1001@bad host'"),
    ],
)
def test_bad_values_are_400(contact: str, expires: str | None, reason: str) -> None:
    reg = Registrar()
    out = reg.register("1001", register(contact, expires=expires), SRC, NOW)
    assert (out.status, out.reason) == (400, reason)
    assert reg.aors() == []


def test_bad_cseq_is_400() -> None:
    request = register(PHONE)
    request.headers.set("CSeq", "one REGISTER")
    assert Registrar().register("1001", request, SRC, NOW).status == 400


def test_pyvoip_register_fixture() -> None:
    request = read_request((AUTH_FIXTURES / "pyvoip-register.sip").read_bytes())
    out = Registrar().register("1001", request, ("UDP", "127.0.0.1", 5062), NOW)
    (binding,) = out.added
    assert binding.instance == "urn:uuid:3739B9A0-1F30-4187-8C1C-4723BE58CE3C"
    assert (binding.user_agent, binding.expires_at) == ("pyVoIP 1.6.8", NOW + 120)
    assert contacts_of(out.headers) == [
        '<sip:1001@127.0.0.1:5062;transport=UDP>'
        ';+sip.instance="<urn:uuid:3739B9A0-1F30-4187-8C1C-4723BE58CE3C>";expires=120'
    ]


@pytest.mark.parametrize(
    ("name", "contact"),
    [
        # RFC 4475 §3.3.12/13: the unknown parameter is a header parameter in the addr-spec form,
        # a URI parameter inside <>; either way it is kept.
        ("cparam01", "<sip:+19725552222@gw1.example.net>;unknownparam;expires=3600"),
        ("cparam02", "<sip:+19725552222@gw1.example.net;unknownparam>;expires=3600"),
        # RFC 4475 §3.3.14: an escaped header in the Contact URI is stored and echoed as is.
        ("regescrt", "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>;expires=3600"),
    ],
)
def test_torture_registers(name: str, contact: str) -> None:
    request = read_request((require_torture() / f"{name}.dat").read_bytes())
    out = Registrar().register("watson", request, SRC, NOW)
    assert out.status == 200 and contacts_of(out.headers) == [contact]


def test_torture_regbadct_is_400() -> None:
    # RFC 4475 §3.1.2.13: a URI with '?' in the addr-spec form must be rejected.
    request = read_request((require_torture() / "regbadct.dat").read_bytes())
    assert Registrar().register("user", request, SRC, NOW).status == 400
