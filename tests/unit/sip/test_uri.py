"""SipUri: parsing, escaping, round trips and RFC 3261 §19.1.4 / RFC 3966 comparison."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telephony.sip.errors import ParseError
from telephony.sip.uri import SipUri, unescape, user_part


def test_parse_sip_uri_parts() -> None:
    uri = SipUri.parse(
        "SIP:alice:secret@Atlanta.example.com:5061;Transport=TCP;lr?subject=hi%20there"
    )
    assert uri == SipUri(
        scheme="sip",
        user="alice",
        password="secret",
        host="Atlanta.example.com",
        port=5061,
        params={"transport": "TCP", "lr": None},
        headers={"subject": "hi there"},
    )
    assert uri.transport == "tcp" and uri.host_port == "Atlanta.example.com:5061"
    assert (
        str(uri) == "sip:alice:secret@Atlanta.example.com:5061;transport=TCP;lr?subject=hi%20there"
    )


def test_escapes_are_decoded_and_written_back() -> None:
    # RFC 4475 §3.1.1.3 (esc01)
    ruri = SipUri.parse("sip:sips%3Auser%40example.com@example.net")
    assert (ruri.user, ruri.host) == ("sips:user@example.com", "example.net")
    assert str(ruri) == "sip:sips%3Auser%40example.com@example.net"
    to = SipUri.parse("sip:%75se%72@example.com")
    assert to.user == "user" and str(to) == "sip:user@example.com"
    contact = SipUri.parse("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31")
    assert contact.user == "caller"
    assert contact.params == {"lr": None, "name": "value%41"}
    assert str(contact) == "sip:caller@host5.example.net;lr;name=value%2541"
    spaces = SipUri.parse("sip:I%20have%20spaces@example.net")
    assert spaces.user == "I have spaces"


def test_escaped_nulls_and_non_utf8_octets_survive() -> None:
    # RFC 4475 §3.1.1.4 (escnull)
    assert SipUri.parse("sip:null-%00-null@example.com").user == "null-\x00-null"
    raw = SipUri.parse("sip:%FF%00@example.com")
    assert str(raw) == "sip:%FF%00@example.com"


def test_unusual_user_and_password() -> None:
    # RFC 4475 §3.1.1.2 (intmeth): ';', '?', ',' and '/' are legal in a user part.
    text = (
        "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
        ":&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com"
    )
    uri = SipUri.parse(text)
    assert uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert (uri.host, uri.params, uri.headers) == ("example.com", {}, {})
    assert str(uri) == text


def test_user_with_parameters_inside() -> None:
    # RFC 4475 §3.1.1.10 (semiuri)
    uri = SipUri.parse("sip:user;par=u%40example.net@example.com")
    assert (uri.user, uri.host, uri.params) == ("user;par=u@example.net", "example.com", {})


def test_escaped_headers() -> None:
    # RFC 4475 §3.1.2.11 escruri / §3.3.14 regescrt
    uri = SipUri.parse("sip:user@example.com?Route=%3Csip:sip.example.com%3E")
    assert uri.headers == {"Route": "<sip:sip.example.com>"}
    assert str(uri) == "sip:user@example.com?Route=%3Csip:sip.example.com%3E"


def test_ipv6_reference() -> None:
    uri = SipUri.parse("sip:alice@[2001:db8::10]:5070;maddr=[2001:db8::1]")
    assert (uri.host, uri.port, uri.params) == ("[2001:db8::10]", 5070, {"maddr": "[2001:db8::1]"})
    assert str(uri) == "sip:alice@[2001:db8::10]:5070;maddr=[2001:db8::1]"
    assert SipUri.parse("sip:[2001:db8::10]").host == "[2001:db8::10]"


def test_hash_character_in_user_is_tolerated_and_escaped() -> None:
    uri = SipUri.parse("sip:*67#123@pbx.example.com")
    assert uri.user == "*67#123"
    assert str(uri) == "sip:*67%23123@pbx.example.com"


def test_tel_uri() -> None:
    uri = SipUri.parse("tel:+1-201-555-0123;Phone-Context=example.com")
    assert (uri.scheme, uri.user, uri.number) == ("tel", "+1-201-555-0123", "+12015550123")
    assert uri.params == {"phone-context": "example.com"}
    assert str(uri) == "tel:+1-201-555-0123;phone-context=example.com"
    local = SipUri.parse("tel:*67%23;phone-context=+49")
    assert local.user == "*67#" and str(local) == "tel:*67%23;phone-context=+49"
    assert SipUri.parse("sip:+1-201-555-0123@gw.example.com;user=phone").number == "+12015550123"


def test_other_schemes_parse_generically() -> None:
    # RFC 4475 §3.3.2 unkscm, §3.3.3 novelsc, §3.3.4 unksm2
    for text, scheme, opaque in [
        (
            "nobodyKnowsThisScheme:totallyopaquecontent",
            "nobodyknowsthisscheme",
            "totallyopaquecontent",
        ),
        ("soap.beep://192.0.2.103:3002", "soap.beep", "//192.0.2.103:3002"),
        ("isbn:2983792873", "isbn", "2983792873"),
        ("http://www.example.com", "http", "//www.example.com"),
    ]:
        uri = SipUri.parse(text)
        assert (uri.scheme, uri.opaque, uri.is_sip) == (scheme, opaque, False)
        assert str(uri) == f"{scheme}:{opaque}"


@pytest.mark.parametrize(
    "text",
    [
        "", "sip:", "sip", ":x", "<sip:user@example.com>", "1sip:a@b", "sip:@example.com",
        "sip:user@", "sip:user@host:", "sip:user@host:65536", "sip:user@host:5o6",
        "sip:user@ho st", "sip:us er@host", "sip:%zz@host", "sip:a%4@host", "sip:user@[::1",
        "sip:user@[zz::1]", "sip:user@[::1]x", "sip:user@host;=x", "sip:user@host?x",
        "sip:us\u00e9r@host", "tel:", "tel:12+3", "tel:+1 2", "x:a b", 'x:"y"',
    ],
)  # fmt: skip
def test_bad_uris(text: str) -> None:
    with pytest.raises(ParseError):
        SipUri.parse(text)


# RFC 3261 §19.1.4's own examples.
EQUIVALENT = [
    ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
    ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
    (
        "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
        "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
    ),
    (
        "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
    ),
    ("sip:alice@[2001:db8::1]", "sip:alice@[2001:0DB8:0:0:0:0:0:1]"),
    ("tel:+1-201-555-0123", "tel:+12015550123"),
    ("tel:7042;phone-context=Example.com", "tel:70-42;phone-context=example.com"),
    ("urn:x:y", "urn:x:y"),
]
NOT_EQUIVALENT = [
    ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
    ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
    ("sip:bob@biloxi.com", "sips:bob@biloxi.com"),
    ("sip:bob@biloxi.com;maddr=10.0.0.1", "sip:bob@biloxi.com"),
    ("sip:bob@biloxi.com;user=phone", "sip:bob@biloxi.com"),
    ("sip:bob@biloxi.com;ttl=1", "sip:bob@biloxi.com;ttl=2"),
    ("sip:bob:pw@biloxi.com", "sip:bob@biloxi.com"),
    ("sip:biloxi.com", "sip:bob@biloxi.com"),
    ("tel:+12015550123", "tel:+12015550124"),
    ("tel:7042;phone-context=example.com", "tel:7042"),
    ("urn:x:y", "urn:x:Y"),
]


@pytest.mark.parametrize(("a", "b"), EQUIVALENT)
def test_equivalent(a: str, b: str) -> None:
    ua, ub = SipUri.parse(a), SipUri.parse(b)
    assert ua.equivalent(ub) and ub.equivalent(ua)


@pytest.mark.parametrize(("a", "b"), NOT_EQUIVALENT)
def test_not_equivalent(a: str, b: str) -> None:
    ua, ub = SipUri.parse(a), SipUri.parse(b)
    assert not ua.equivalent(ub) and not ub.equivalent(ua)


def test_uri_is_hashable() -> None:
    a = SipUri.parse("sip:a@example.com;lr")
    assert hash(a) == hash(SipUri.parse("sip:a@example.com;lr"))


def test_unescape() -> None:
    assert unescape("v%61lue%25%34%31") == "value%41"
    with pytest.raises(ParseError, match="bad %-escape"):
        unescape("a%2")


@pytest.mark.parametrize(
    ("text", "user"),
    [
        ('"Bob <x>" <sip:bob@biloxi.com>;tag=1', "bob"),
        ("<sip:%61lice@atlanta.com;transport=tcp>", "alice"),
        ("sip:carol@chicago.com;tag=9", "carol"),
        ("tel:+1-201-555-0123", "+1-201-555-0123"),
        ("sip:biloxi.com", ""),
        ("<urn:x:y>", ""),
        ("not a uri", ""),
        ("<sip:unclosed@h", "unclosed"),
    ],
)
def test_user_part(text: str, user: str) -> None:
    assert user_part(text) == user


_URI_ALPHABET = "sipte:l@;?=&%[]:.+-_~!*'()$,/#AaZz019 <>\"\\"


_URI_TEXT = st.one_of(
    st.text(alphabet=_URI_ALPHABET, max_size=40),
    st.builds(
        "".join,
        st.tuples(
            st.sampled_from(["sip:", "sips:", "tel:", "SIP:", "x-y:"]),
            st.text(alphabet=_URI_ALPHABET, max_size=40),
        ),
    ),
)


@settings(max_examples=500, deadline=None)
@given(_URI_TEXT)
def test_parse_only_raises_parse_error_and_round_trips(text: str) -> None:
    try:
        uri = SipUri.parse(text)
    except ParseError:
        return
    again = SipUri.parse(str(uri))
    assert again == uri
    assert again.equivalent(uri)
