"""RFC 4475 torture tests: every message of /work/shared/sip-torture, and fuzzing around them.

One table says what callfloor does with each message: parse and accept it, refuse it at parse
time (with the status we answer and a partial request to answer with), refuse it in
``check_request`` (RFC 3261 §8.2), or drop it (a response that cannot be parsed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telephony.sip.errors import ParseError, SipError
from telephony.sip.headers import NameAddr
from telephony.sip.message import Request, Response
from telephony.sip.parser import MessageParseError, StreamFramer, parse_message
from telephony.sip.uri import SipUri
from telephony.sip.validate import BadExtension, build_error_response, check_request
from tests.torture import TORTURE_DIR, require_torture

FIXTURES = Path(__file__).parents[2] / "fixtures" / "sip"

@pytest.fixture(autouse=True)
def _torture_present() -> None:
    require_torture()


@dataclass(frozen=True)
class Outcome:
    """``stage`` is "accept", "response", "parse" (rejected by parse_message), "check"
    (rejected by check_request) or "drop" (a response that fails to parse)."""

    stage: str
    status: int | None = None


ACCEPT = Outcome("accept")
RESPONSE = Outcome("response")
DROP = Outcome("drop")


def rejected_by_parser(status: int) -> Outcome:
    return Outcome("parse", status)


def rejected_by_check(status: int) -> Outcome:
    return Outcome("check", status)


# file -> (RFC 4475 section, what callfloor does with it)
EXPECTED: dict[str, tuple[str, Outcome]] = {
    # 3.1.1 valid messages
    "wsinv": ("3.1.1.1", ACCEPT),
    "intmeth": ("3.1.1.2", ACCEPT),
    "esc01": ("3.1.1.3", ACCEPT),
    "escnull": ("3.1.1.4", ACCEPT),
    "esc02": ("3.1.1.5", ACCEPT),
    "lwsdisp": ("3.1.1.6", ACCEPT),
    "longreq": ("3.1.1.7", ACCEPT),
    "dblreq": ("3.1.1.8", ACCEPT),
    "semiuri": ("3.1.1.9", ACCEPT),
    "transports": ("3.1.1.10", ACCEPT),
    # Valid and parsed; callfloor takes no multipart bodies, so §8.2.3 answers 415.
    "mpart01": ("3.1.1.11", rejected_by_check(415)),
    "unreason": ("3.1.1.12", RESPONSE),
    "noreason": ("3.1.1.13", RESPONSE),
    # 3.1.2 invalid messages
    "badinv01": ("3.1.2.1", rejected_by_parser(400)),
    "clerr": ("3.1.2.2", rejected_by_parser(400)),  # on UDP; a stream waits for more
    "ncl": ("3.1.2.3", rejected_by_parser(400)),
    "scalar02": ("3.1.2.4", rejected_by_parser(400)),
    "scalarlg": ("3.1.2.5", DROP),
    "quotbal": ("3.1.2.6", rejected_by_parser(400)),
    "ltgtruri": ("3.1.2.7", rejected_by_parser(400)),
    "lwsruri": ("3.1.2.8", rejected_by_parser(400)),
    "lwsstart": ("3.1.2.9", rejected_by_parser(400)),
    "trws": ("3.1.2.10", rejected_by_parser(400)),
    "escruri": ("3.1.2.11", rejected_by_parser(400)),
    # The RFC lets an element that does not use Date ignore it; we never read Date.
    "baddate": ("3.1.2.12", ACCEPT),
    "regbadct": ("3.1.2.13", rejected_by_parser(400)),
    "badaspec": ("3.1.2.14", rejected_by_parser(400)),
    "baddn": ("3.1.2.15", rejected_by_parser(400)),
    "badvers": ("3.1.2.16", rejected_by_parser(505)),
    "mismatch01": ("3.1.2.17", rejected_by_parser(400)),
    "mismatch02": ("3.1.2.18", rejected_by_parser(400)),  # 501 preferred, 400 allowed
    "bigcode": ("3.1.2.19", DROP),
    # 3.2 transaction layer: parses; RFC 2543 fallback matching is the transaction layer's
    "badbranch": ("3.2.1", ACCEPT),
    # 3.3 application layer
    "insuf": ("3.3.1", rejected_by_parser(400)),
    "unkscm": ("3.3.2", rejected_by_check(416)),
    "novelsc": ("3.3.3", rejected_by_check(416)),
    "unksm2": ("3.3.4", rejected_by_check(400)),  # a registrar needs a SIP AOR in To
    "bext01": ("3.3.5", rejected_by_check(420)),
    "invut": ("3.3.6", rejected_by_check(415)),
    "regaut01": ("3.3.7", ACCEPT),  # the digest layer answers 401 with a scheme it knows
    "multi01": ("3.3.8", rejected_by_parser(400)),
    "mcl01": ("3.3.9", rejected_by_parser(400)),
    "bcast": ("3.3.10", RESPONSE),  # the transaction layer drops it: the top Via is not ours
    "zeromf": ("3.3.11", ACCEPT),  # OPTIONS is answered here; an INVITE would get 483
    "cparam01": ("3.3.12", ACCEPT),
    "cparam02": ("3.3.13", ACCEPT),
    "regescrt": ("3.3.14", ACCEPT),
    "sdp01": ("3.3.15", rejected_by_check(406)),
    # 3.4 backward compatibility
    "inv2543": ("3.4.1", ACCEPT),
}


def torture(name: str) -> bytes:
    return (TORTURE_DIR / f"{name}.dat").read_bytes()


def parsed(name: str) -> Request:
    msg = parse_message(torture(name))
    assert isinstance(msg, Request)
    return msg


def test_table_covers_every_file() -> None:
    assert {p.stem for p in TORTURE_DIR.glob("*.dat")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_outcome(name: str) -> None:
    section, outcome = EXPECTED[name]
    data = torture(name)
    if outcome.stage in ("parse", "drop"):
        with pytest.raises(MessageParseError) as info:
            parse_message(data)
        err = info.value
        if outcome.stage == "drop":
            assert err.partial is None, section
            return
        assert err.status == outcome.status, (section, err.reason)
        assert err.partial is not None, section
        resp = build_error_response(err.partial, err, "tt1")
        assert resp.status == outcome.status
        assert resp.headers.get_all("Via") == err.partial.headers.get_all("Via")
        return
    msg = parse_message(data)
    if outcome.stage == "response":
        assert isinstance(msg, Response), section
        return
    assert isinstance(msg, Request), section
    assert parse_message(msg.to_bytes()) == msg
    if outcome.stage == "accept":
        check_request(msg)
        return
    with pytest.raises(SipError) as check_info:
        check_request(msg)
    assert check_info.value.status == outcome.status, (section, check_info.value.reason)


# --- 3.1.1: what the valid messages must parse into ----------------------------------------


def test_wsinv() -> None:
    req = parsed("wsinv")
    assert (req.method, req.uri) == ("INVITE", "sip:vivekg@chair-dnrc.example.com;unknownparam")
    assert (req.to.uri, req.to.tag) == ("sip:vivekg@chair-dnrc.example.com", "1918181833n")
    assert (req.from_.display, req.from_.tag) == ('J Rosenberg \\"', "98asjd8")
    assert req.headers.get("Max-Forwards") == "0068"
    assert (req.cseq.number, req.cseq.method) == (9, "INVITE")
    assert [(v.transport, v.host, v.branch) for v in req.vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    assert req.headers.get("Subject") == ""
    assert req.headers.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert req.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    [contact] = req.contacts
    assert contact.display == 'Quoted string ""'
    assert contact.params == {"newparam": "newvalue", "secondparam": None, "q": "0.33"}
    assert req.headers.get("Route") == (
        "<sip:services.example.com;lr;unknownwith=value;unknown-no-value>"
    )
    assert len(req.body) == 150 and req.body.endswith(b"a=rtpmap:31 LPC\r\n")


def test_intmeth() -> None:
    req = parsed("intmeth")
    method = "!interesting-Method0123456789_*+`.%indeed'~"
    assert req.method == method == req.cseq.method
    ruri = SipUri.parse(req.uri)
    assert ruri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert ruri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert req.to.display == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert req.from_.display == "token1~` token2'+_ token3*%!.-"
    assert req.from_.params["fromparam''~+*_!.-%"] == '"работающий"'
    assert req.call_id == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert req.headers.get("extensionHeader-!.%*+_`'~") == "\ufeff大停電"
    assert req.top_via.branch == "z9hG4bK-.!%66*_+`'~"


def test_esc01() -> None:
    req = parsed("esc01")
    assert SipUri.parse(req.uri).user == "sips:user@example.com"
    assert SipUri.parse(req.to.uri).user == "user"
    assert SipUri.parse(req.to.uri).equivalent(SipUri.parse("sip:user@example.com"))
    assert SipUri.parse(req.from_.uri).user == "I have spaces"
    contact = SipUri.parse(req.contacts[0].uri)
    assert (contact.user, contact.params) == ("caller", {"lr": None, "name": "value%41"})
    assert req.headers.get("Content-Type") == "application/sdp"


def test_escnull() -> None:
    req = parsed("escnull")
    assert SipUri.parse(req.to.uri).user == "null-\x00-null"
    assert [SipUri.parse(c.uri).user for c in req.contacts] == ["\x00", "\x00\x00"]


def test_esc02() -> None:
    req = parsed("esc02")
    assert req.method == "RE%47IST%45R"  # not REGISTER
    assert req.to.display == "%Z%45"
    assert req.top_via.branch == "z9hG4bK209%fzsnel234"
    assert req.headers.get_all("Contact") == [
        "<sip:alias1@host1.example.com>",
        "<sip:alias3@host3.example.com>",
    ]
    assert req.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"


def test_lwsdisp() -> None:
    assert parsed("lwsdisp").from_.display == "caller"


def test_longreq() -> None:
    req = parsed("longreq")
    assert req.to.display.startswith("I have a user name of extremeextreme")
    assert len(req.to.display) == 103
    to_uri = SipUri.parse(req.to.uri)
    assert to_uri.port == 6000 and len(to_uri.params) == 3
    assert req.from_.tag == "12" + "982" * 50 + "424"
    vias = req.vias
    assert len(vias) == 34
    assert [v.host for v in vias[:33]] == [f"sip{33 - i}.example.com" for i in range(33)]
    assert vias[33].branch == "very" + "long" * 50 + "branchvalue"
    assert SipUri.parse(req.contacts[0].uri).user == "amazinglylongcallername" * 5
    assert len(req.body) == 150


def test_dblreq_only_the_first_request() -> None:
    req = parsed("dblreq")
    assert (req.method, req.call_id, req.body) == (
        "REGISTER", "dblreq.0ha0isndaksdj99sdfafnl3lk233412", b"",
    )  # fmt: skip
    assert req.headers.get_all("Content-Length") == ["0"]


def test_semiuri() -> None:
    req = parsed("semiuri")
    ruri = SipUri.parse(req.uri)
    assert (ruri.user, ruri.host, ruri.params) == ("user;par=u@example.net", "example.com", {})
    assert req.headers.get_all("Accept") == [
        "application/sdp", "application/pkcs7-mime", "multipart/mixed", "multipart/signed",
        "message/sip", "message/sipfrag",
    ]  # fmt: skip


def test_transports() -> None:
    vias = parsed("transports").vias
    assert [v.transport for v in vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]


def test_mpart01_binary_body() -> None:
    req = parsed("mpart01")
    assert len(req.body) == 553 and b"\x00" in req.body
    assert req.body.endswith(b"--7a9cbec02ceef655--\r\n")


def test_reason_phrases() -> None:
    unreason = parse_message(torture("unreason"))
    assert isinstance(unreason, Response)
    assert (unreason.status, unreason.reason) == (
        200, "= 2**3 * 5**2 но сто девяносто девять - простое",
    )  # fmt: skip
    noreason = parse_message(torture("noreason"))
    assert isinstance(noreason, Response) and (noreason.status, noreason.reason) == (100, "")


# --- 3.1.2 and 3.3 details ---------------------------------------------------------------


def test_clerr_on_a_stream_waits_for_the_rest() -> None:
    data = torture("clerr")
    framer = StreamFramer()
    assert framer.feed(data) == []
    assert framer.buffered == len(data)


@pytest.mark.parametrize("name", ["ncl", "mcl01"])
def test_bad_framing_on_a_stream_is_fatal(name: str) -> None:
    with pytest.raises(ParseError):
        StreamFramer().feed(torture(name))


def test_badbranch_keeps_the_bare_magic_cookie() -> None:
    assert parsed("badbranch").top_via.branch == "z9hG4bK"


def test_insuf_can_still_be_answered() -> None:
    with pytest.raises(MessageParseError) as info:
        parse_message(torture("insuf"))
    partial = info.value.partial
    assert partial is not None
    resp = build_error_response(partial, info.value, "t")
    assert resp.headers.get("Via") == "SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf"
    assert resp.headers.get("CSeq") == "193942 INVITE"


def test_unknown_schemes() -> None:
    assert SipUri.parse(parsed("unkscm").uri).scheme == "nobodyknowsthisscheme"
    assert SipUri.parse(parsed("novelsc").uri).scheme == "soap.beep"
    req = parsed("unksm2")
    assert [SipUri.parse(x.uri).scheme for x in (req.to, req.from_, req.contacts[0])] == [
        "isbn", "http", "name",
    ]  # fmt: skip


def test_bext01_lists_the_required_extensions() -> None:
    req = parsed("bext01")
    with pytest.raises(BadExtension) as info:
        check_request(req)
    assert info.value.unsupported == ["nothingSupportsThis", "nothingSupportsThisEither"]
    resp = build_error_response(req, info.value, "t")
    assert resp.headers.get_all("Unsupported") == info.value.unsupported


def test_invut_answer_lists_accept() -> None:
    req = parsed("invut")
    with pytest.raises(SipError) as info:
        check_request(req)
    resp = build_error_response(req, info.value, "t")
    assert "application/sdp" in resp.headers.get_all("Accept")


def test_regaut01_keeps_the_unknown_scheme() -> None:
    assert (
        parsed("regaut01").headers.get("Authorization") == "NoOneKnowsThisScheme opaque-data=here"
    )


def test_bcast_vias() -> None:
    resp = parse_message(torture("bcast"))
    assert [v.host for v in resp.vias] == ["192.0.2.198", "255.255.255.255"]


def test_zeromf_is_483_for_an_invite() -> None:
    data = torture("zeromf").replace(b"OPTIONS", b"INVITE")
    req = parse_message(data)
    assert isinstance(req, Request)
    with pytest.raises(SipError) as info:
        check_request(req)
    assert info.value.status == 483


def test_contact_parameters() -> None:
    # cparam01: addr-spec, so unknownparam is a header (contact) parameter
    contact = parsed("cparam01").contacts[0]
    assert contact.params == {"unknownparam": None}
    assert SipUri.parse(contact.uri).params == {}
    # cparam02: inside <>, so it is a URI parameter
    contact = parsed("cparam02").contacts[0]
    assert contact.params == {}
    assert SipUri.parse(contact.uri).params == {"unknownparam": None}


def test_regescrt_contact_keeps_its_escaped_header() -> None:
    contact = parsed("regescrt").contacts[0]
    uri = SipUri.parse(contact.uri)
    assert uri.headers == {"Route": "<sip:sip.example.com>"}
    assert str(NameAddr(str(uri))) == "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>"


def test_inv2543() -> None:
    req = parsed("inv2543")
    assert req.top_via.branch == "" and req.from_.tag is None
    assert "Max-Forwards" not in req.headers
    assert req.body.startswith(b"v=0\r\n") and req.body.endswith(b"m=audio 49217 RTP/AVP 0\r\n")


# --- fuzzing: nothing but ParseError, ever -----------------------------------------------

SEEDS = [p.read_bytes() for p in sorted(TORTURE_DIR.glob("*.dat"))] + [
    p.read_bytes() for p in sorted(FIXTURES.glob("*.sip"))
]
_INTERESTING = [b"\r\n", b"\n", b" ", b"\t", b":", b";", b",", b'"', b"<", b">", b"%", b"\x00",
                b"\xff", b"@", b"=", b"\\", b"SIP/2.0", b"\r\n ", b"\r\n\r\n", b"Content-Length: "]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        piece = draw(st.one_of(st.sampled_from(_INTERESTING), st.binary(min_size=1, max_size=4)))
        if action == "insert":
            data[at:at] = piece
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif action == "replace":
            data[at : at + len(piece)] = piece
        else:
            del data[at:]
    return bytes(data)


def _parse_and_check(data: bytes) -> None:
    try:
        msg = parse_message(data)
    except MessageParseError as exc:
        assert 400 <= exc.status < 600
        if exc.partial is not None:
            build_error_response(exc.partial, exc, "fz")
        return
    if isinstance(msg, Request):
        try:
            check_request(msg)
        except SipError as exc:
            build_error_response(msg, exc, "fz")
    assert parse_message(msg.to_bytes()).to_bytes() == msg.to_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_random_bytes_raise_only_parse_error(data: bytes) -> None:
    _parse_and_check(data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_messages_raise_only_parse_error(data: bytes) -> None:
    _parse_and_check(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.lists(st.integers(1, 64), min_size=1, max_size=20))
def test_stream_framer_raises_only_parse_error(data: bytes, cuts: list[int]) -> None:
    framer = StreamFramer()
    at = 0
    try:
        for size in cuts:
            for message in framer.feed(data[at : at + size]):
                _parse_and_check(message)
            at += size
        for message in framer.feed(data[at:]):
            _parse_and_check(message)
    except ParseError as exc:
        assert exc.status in (400, 413, 513)
