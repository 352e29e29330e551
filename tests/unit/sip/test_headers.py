"""Via, NameAddr, CSeq and the list/parameter helpers of telephony.sip.headers."""

from __future__ import annotations

import pytest

from telephony.sip.errors import ParseError
from telephony.sip.headers import CSeq, NameAddr, Via, is_token, parse_params, split_unquoted


def test_split_unquoted() -> None:
    assert split_unquoted("a, b,c", ",") == ["a", " b", "c"]
    assert split_unquoted('"x, y" <sip:a,b@c>, d', ",") == ['"x, y" <sip:a,b@c>', " d"]
    assert split_unquoted(r'"say \"hi, there\"", b', ",") == [r'"say \"hi, there\""', " b"]
    with pytest.raises(ParseError, match="unterminated quoted string"):
        split_unquoted('"open, b', ",")


def test_parse_params() -> None:
    assert parse_params(" ; Tag = 98asjd8 ;lr; q=0.33") == {
        "tag": "98asjd8",
        "lr": None,
        "q": "0.33",
    }
    assert parse_params(';+sip.instance="<urn:uuid:1;2>";reg-id=1') == {
        "+sip.instance": '"<urn:uuid:1;2>"',
        "reg-id": "1",
    }
    assert parse_params("") == {}
    with pytest.raises(ParseError, match="parameter without a name"):
        parse_params(";=x")


def test_is_token() -> None:
    assert is_token("!interesting-Method0123456789_*+`.%indeed'~")
    assert not is_token("")
    assert not is_token("RE GISTER")
    assert not is_token("a,b")


def test_via_with_lws_everywhere() -> None:
    via = Via.parse("SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8")
    assert (via.transport, via.host, via.port, via.branch) == (
        "TCP", "spindle.example.com", None, "z9hG4bK9ikj8",
    )  # fmt: skip
    assert str(via) == "SIP/2.0/TCP spindle.example.com;branch=z9hG4bK9ikj8"


def test_via_ipv6_port_and_rport() -> None:
    via = Via.parse("SIP/2.0/udp [2001:db8::9]:5070;branch=z9hG4bKx;rport;received=192.0.2.1")
    assert (via.transport, via.host, via.port, via.sent_by) == (
        "UDP", "[2001:db8::9]", 5070, "[2001:db8::9]:5070",
    )  # fmt: skip
    assert via.params == {"branch": "z9hG4bKx", "rport": None, "received": "192.0.2.1"}


@pytest.mark.parametrize(
    "text",
    [
        "SIP/2.0/UDP",
        "SIP/3.0/UDP host",
        "SIP/2.0/UDP host:0",
        "SIP/2.0/UDP host:65536",
        "SIP/2.0/UDP host:5o60",
        "SIP/2.0/UDP host:\u00b2",
        "SIP/2.0/UDP ho st",
        "SIP/2.0/U(P host",
        "SIP/2.0/UDP [2001:db8::1",
        ";",
    ],
)
def test_bad_via(text: str) -> None:
    with pytest.raises(ParseError):
        Via.parse(text)


def test_name_addr_forms() -> None:
    quoted = NameAddr.parse(r'"J Rosenberg \\\""  <sip:jdrosen@example.com> ; tag = 98asjd8')
    assert (quoted.display, quoted.uri, quoted.tag) == (
        'J Rosenberg \\"', "sip:jdrosen@example.com", "98asjd8",
    )  # fmt: skip
    tokens = NameAddr.parse("token1~`  token2'+_ <sip:mundane@example.com>")
    assert tokens.display == "token1~` token2'+_"
    no_space = NameAddr.parse("caller<sip:caller@example.com>;tag=323")
    assert (no_space.display, no_space.tag) == ("caller", "323")
    spec = NameAddr.parse("sip:+1972@gw1.example.net;unknownparam")
    assert (spec.uri, spec.params) == ("sip:+1972@gw1.example.net", {"unknownparam": None})
    other = NameAddr.parse("isbn:2983792873")
    assert other.uri == "isbn:2983792873"


def test_name_addr_str_quotes_display() -> None:
    na = NameAddr("sip:a@example.com", 'say "hi"', {"tag": "1"})
    assert str(na) == r'"say \"hi\"" <sip:a@example.com>;tag=1'
    assert NameAddr.parse(str(na)) == na


@pytest.mark.parametrize(
    "text",
    [
        "",
        '"Mr. J. User <sip:j.user@example.com>',  # RFC 4475 quotbal
        '"Watson, Thomas" < sip:t.watson@example.org >',  # badaspec
        "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",  # baddn
        "sip:user@example.com?Route=%3Csip:sip.example.com%3E",  # regbadct
        "<sip:a@example.com> junk",
        "<sip:a@example.com",
        '"a" "b" <sip:a@example.com>',
        "<nocolon>",
    ],
)
def test_bad_name_addr(text: str) -> None:
    with pytest.raises(ParseError):
        NameAddr.parse(text)


def test_cseq() -> None:
    assert CSeq.parse("0009\t INVITE") == CSeq(9, "INVITE")
    assert str(CSeq(2**31 - 1, "BYE")) == "2147483647 BYE"


@pytest.mark.parametrize(
    "text",
    ["", "1", "1 INVITE x", "x INVITE", "-1 INVITE", "\u00b2 INVITE", "2147483648 INVITE",
     "36893488147419103232 REGISTER", "1 IN,VITE"],
)  # fmt: skip
def test_bad_cseq(text: str) -> None:
    with pytest.raises(ParseError):
        CSeq.parse(text)
