"""parse_message and StreamFramer: byte fixtures in tests/fixtures/sip, round trips, framing."""

from __future__ import annotations

from pathlib import Path

import pytest

from telephony.sip.errors import ParseError
from telephony.sip.message import Request, Response, make_response
from telephony.sip.parser import MessageParseError, StreamFramer, parse_message

FIXTURES = Path(__file__).parents[2] / "fixtures" / "sip"
FIXTURE_NAMES = sorted(p.name for p in FIXTURES.glob("*.sip"))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def request(name: str) -> Request:
    msg = parse_message(fixture(name))
    assert isinstance(msg, Request)
    return msg


def response(name: str) -> Response:
    msg = parse_message(fixture(name))
    assert isinstance(msg, Response)
    return msg


def rejected(data: bytes) -> MessageParseError:
    with pytest.raises(MessageParseError) as info:
        parse_message(data)
    return info.value


BASIC = (
    b"OPTIONS sip:seat101@callfloor.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-t1\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: <sip:tester@example.org>;tag=t1\r\n"
    b"To: <sip:seat101@callfloor.example.com>\r\n"
    b"Call-ID: t1@192.0.2.9\r\n"
    b"CSeq: 1 OPTIONS\r\n"
)


def with_headers(*extra: bytes, body: bytes = b"", head: bytes = BASIC) -> bytes:
    return head + b"".join(h + b"\r\n" for h in extra) + b"\r\n" + body


# --- fixtures -----------------------------------------------------------------------------


def test_fixture_set_is_complete() -> None:
    assert {
        "invite_sdp.sip", "register_auth.sip", "ok_200.sip", "ringing_180.sip", "bye.sip",
        "cancel.sip", "options.sip", "info_dtmf_relay.sip", "invite_compact.sip",
        "folded.sip", "pyvoip_register.sip", "register_lowercase.sip",
    } <= set(FIXTURE_NAMES)  # fmt: skip
    for name in FIXTURE_NAMES:
        data = fixture(name)
        assert b"\r\n\r\n" in data and b"\n" not in data.replace(b"\r\n", b""), name


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_round_trip(name: str) -> None:
    first = parse_message(fixture(name))
    wire = first.to_bytes()
    second = parse_message(wire)
    assert second == first
    assert second.to_bytes() == wire


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_bare_lf_line_ends_parse_the_same(name: str) -> None:
    data = fixture(name)
    head, _, body = data.partition(b"\r\n\r\n")
    lf = head.replace(b"\r\n", b"\n") + b"\n\n" + body
    assert parse_message(lf) == parse_message(data)


def test_invite_with_sdp() -> None:
    req = request("invite_sdp.sip")
    assert (req.method, req.uri) == ("INVITE", "sip:+4930123456@192.0.2.1:5060")
    assert req.call_id == "7f6e5d4c3b2a19@198.51.100.7"
    assert (req.cseq.number, req.cseq.method) == (102, "INVITE")
    assert req.from_.display == "Customer" and req.from_.tag == "as6a2b1c"
    assert req.to.tag is None
    assert req.headers.get_all("Allow") == [
        "INVITE", "ACK", "CANCEL", "OPTIONS", "BYE", "REFER", "NOTIFY", "INFO",
    ]  # fmt: skip
    assert req.headers.get_all("Supported") == ["replaces", "timer"]
    assert req.headers.get("Session-Expires") == "1800;refresher=uac"
    assert req.body.startswith(b"v=0\r\no=carrier ") and req.body.endswith(b"a=sendrecv\r\n")
    assert req.headers.get_all("Content-Length") == [str(len(req.body))] == ["244"]
    assert list(req.headers)[-1] == ("Content-Length", "244")


def test_register_keeps_authorization_whole() -> None:
    req = request("register_auth.sip")
    auth = req.headers.get_all("Authorization")
    assert len(auth) == 1
    assert auth[0].startswith('Digest realm="callfloor.example.com", nonce="5f3c9a1e2b7d4c60"')
    assert auth[0].endswith("nc=00000001, qop=auth")
    assert req.headers.get_all("Accept") == [
        "application/sdp", "text/plain", "application/vnd.gsma.rcs-ft-http+xml",
    ]  # fmt: skip
    [contact] = req.contacts
    assert contact.uri == "sip:seat101@192.0.2.50:5062;transport=udp"
    assert contact.params == {
        "+sip.instance": '"<urn:uuid:4a5c2e1b-6d0f-4a9b-8c3d-2e1f0a9b8c7d>"',
        "expires": "3600",
    }


def test_pyvoip_register() -> None:
    req = request("pyvoip_register.sip")
    assert req.headers.get_all("Allow") == ["INVITE", "ACK", "BYE", "CANCEL"]
    assert req.headers.get("Authorization") == (
        'Digest username="seat103",realm="callfloor",nonce="c2e6b4a8d0f2",'
        'uri="sip:192.0.2.1;transport=UDP",response="9a0c1e2f3b4d5a6c7e8f90a1b2c3d4e5",'
        "algorithm=MD5"
    )
    assert req.contacts[0].params["+sip.instance"] == (
        '"<urn:uuid:6f3a1d2e-8b7c-4e5f-9a0b-1c2d3e4f5a6b>"'
    )
    assert req.top_via.params == {"branch": "z9hG4bK0a1b2c3d4e5f60718293a4b5c", "rport": None}


def test_lower_case_names_become_canonical() -> None:
    req = request("register_lowercase.sip")
    assert [name for name, _ in req.headers] == [
        "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Max-Forwards", "Allow", "Allow",
        "Allow", "Allow", "User-Agent", "Expires", "Content-Length",
    ]  # fmt: skip
    assert req.from_.display == "seat104"


def test_compact_forms_expand() -> None:
    req = request("invite_compact.sip")
    assert [name for name, _ in req.headers] == [
        "Via", "Max-Forwards", "From", "To", "Call-ID", "CSeq", "Contact", "Supported",
        "Supported", "Subject", "Content-Type", "Content-Length",
    ]  # fmt: skip
    assert req.top_via.transport == "TCP"
    assert req.headers.get("Subject") == "inbound call from queue sales"
    assert req.headers.get("Content-Length") == "194" == str(len(req.body))


def test_folded_headers_unfold_to_one_space() -> None:
    req = request("folded.sip")
    assert req.headers.get("Via") == "SIP/2.0/UDP 192.0.2.60:5060; branch=z9hG4bK-fold-1"
    assert req.top_via.branch == "z9hG4bK-fold-1"
    assert req.headers.get("Max-Forwards") == "70"
    assert req.from_.display == "Folded Name"
    assert req.headers.get("CSeq") == "7 OPTIONS"
    assert req.headers.get_all("Supported") == ["timer", "replaces"]
    assert req.headers.get("Subject") == "a subject over two lines"


def test_responses() -> None:
    ok = response("ok_200.sip")
    assert (ok.status, ok.reason) == (200, "OK")
    assert [v.branch for v in ok.vias] == ["z9hG4bK-cf-0001", "z9hG4bK-524287-1---a1b2c3d4"]
    assert ok.headers.get_all("Record-Route") == ["<sip:192.0.2.1;lr>", "<sip:198.51.100.7;lr>"]
    assert ok.to.tag == "9fxced76sl"
    assert ok.body.startswith(b"v=0\r\no=callfloor 1 1 IN IP4 192.0.2.1\r\n")
    ringing = response("ringing_180.sip")
    assert (ringing.status, ringing.reason, ringing.body) == (180, "Ringing", b"")


def test_bye_cancel_options_info() -> None:
    bye = request("bye.sip")
    assert bye.headers.get_all("Reason") == ['Q.850;cause=16;text="Normal call clearing"']
    cancel = request("cancel.sip")
    assert (cancel.method, cancel.cseq.method, cancel.cseq.number) == ("CANCEL", "CANCEL", 102)
    options = request("options.sip")
    assert options.headers.get_all("Accept") == ["application/sdp", "application/dtmf-relay"]
    assert options.headers.get_all("Accept-Language") == ["en", "de;q=0.8"]
    info = request("info_dtmf_relay.sip")
    assert info.headers.get("Content-Type") == "application/dtmf-relay"
    assert info.body == b"Signal=5\r\nDuration=160\r\n"


# --- lines, names and lists ---------------------------------------------------------------


def test_leading_crlf_before_start_line_is_ignored() -> None:
    assert parse_message(b"\r\n\r\n\r\n" + with_headers()) == parse_message(with_headers())


def test_header_names_any_case_and_spaces_before_colon() -> None:
    msg = parse_message(with_headers(b"sUbJeCt   : hello", b"X-CALLFLOOR-Seat:\t101"))
    assert msg.headers.get("Subject") == "hello"
    assert ("X-Callfloor-Seat", "101") in list(msg.headers)


def test_lists_split_outside_quotes_and_angle_brackets() -> None:
    msg = parse_message(
        with_headers(
            b'Contact: "Doe, John" <sip:john,doe@example.org>;q=0.5, <sip:b@example.org>',
            b"Supported: timer,, replaces ,",
            b"Route: <sip:p1.example.com;lr>,<sip:p2.example.com;lr>",
        )
    )
    assert msg.headers.get_all("Contact") == [
        '"Doe, John" <sip:john,doe@example.org>;q=0.5',
        "<sip:b@example.org>",
    ]
    assert msg.headers.get_all("Supported") == ["timer", "replaces"]
    assert msg.headers.get_all("Route") == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]


def test_headers_with_their_own_commas_stay_whole() -> None:
    values = [
        b"Date: Sat, 13 Nov 2010 23:29:00 GMT",
        b'WWW-Authenticate: Digest realm="a", nonce="b", qop="auth,auth-int"',
        b'Proxy-Authorization: Digest username="u", realm="r"',
        b"Retry-After: 18000;duration=3600, (back soon)",
        b'Warning: 307 isi.edu "Session parameter foo not understood", 399 x "y"',
        b"X-Unknown: a, b, c",
    ]
    msg = parse_message(with_headers(*values))
    for raw in values:
        name, _, value = raw.decode().partition(": ")
        assert msg.headers.get_all(name) == [value]


def test_contact_star_is_kept() -> None:
    head = BASIC.replace(b"OPTIONS", b"REGISTER")
    msg = parse_message(with_headers(b"Contact: *", b"Expires: 0", head=head))
    assert msg.headers.get_all("Contact") == ["*"]
    assert msg.contacts == []


def test_utf8_reason_and_values() -> None:
    data = "SIP/2.0 486 Занято\r\n".encode() + BASIC.split(b"\r\n", 1)[1] + b"\r\n"
    msg = parse_message(data)
    assert isinstance(msg, Response)
    assert (msg.status, msg.reason) == (486, "Занято")


# --- bodies and Content-Length ------------------------------------------------------------


def test_missing_content_length_means_rest_of_datagram() -> None:
    msg = parse_message(with_headers(b"Content-Type: text/plain", body=b"hello\r\nworld"))
    assert msg.body == b"hello\r\nworld"
    assert msg.headers.get("Content-Length") == "12"


def test_bytes_after_the_body_are_ignored() -> None:
    msg = parse_message(with_headers(b"Content-Length: 5", body=b"hello, and more"))
    assert msg.body == b"hello"


def test_repeated_equal_content_length_is_accepted() -> None:
    msg = parse_message(with_headers(b"Content-Length: 5", b"l: 005", body=b"hello"))
    assert msg.body == b"hello"
    assert msg.headers.get_all("Content-Length") == ["5"]


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (b"Content-Length: 99", "Content-Length larger than the message"),
        (b"Content-Length: -1", "bad Content-Length '-1'"),
        (b"Content-Length: \xc2\xb2", "bad Content-Length '²'"),
        (b"Content-Length: 5\r\nContent-Length: 4", "conflicting Content-Length values"),
    ],
)
def test_bad_content_length(header: bytes, reason: str) -> None:
    err = rejected(with_headers(header, body=b"hello"))
    assert (err.status, err.reason) == (400, reason)
    assert err.partial is not None and err.partial.method == "OPTIONS"


# --- start lines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "status"),
    [
        (b"OPTIONS sip:a@example.com SIP/3.0", 505),
        (b"OPTIONS sip:a@example.com SIP/2.0 extra", 400),
        (b"OPTIONS  sip:a@example.com SIP/2.0", 400),
        (b"OPTIONS sip:a@example.com HTTP/1.1", 400),
        (b"OPT(IONS sip:a@example.com SIP/2.0", 400),
        (b"OPTIONS <sip:a@example.com> SIP/2.0", 400),
        (b"OPTIONS sip:a@exa mple.com SIP/2.0", 400),
        (b"OPTIONS sip:a@example.com?Subject=x SIP/2.0", 400),
        (b"OPTIONS sip:a@example.com:99999 SIP/2.0", 400),
    ],
)
def test_bad_request_line(start: bytes, status: int) -> None:
    data = with_headers(head=start + b"\r\n" + BASIC.split(b"\r\n", 1)[1])
    err = rejected(data)
    assert err.status == status
    assert err.partial is not None
    assert err.partial.headers.get("Call-ID") == "t1@192.0.2.9"


def test_sip_version_is_case_insensitive() -> None:
    msg = parse_message(with_headers(head=BASIC.replace(b"SIP/2.0\r\n", b"sip/2.0\r\n", 1)))
    assert isinstance(msg, Request)


def test_unknown_scheme_in_request_uri_parses() -> None:
    data = with_headers(head=BASIC.replace(b"sip:seat101@callfloor.example.com", b"urn:x:y", 1))
    assert parse_message(data).uri == "urn:x:y"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "code", [b"99", b"099", b"700", b"2000", b"2OO", b"\xd9\xa2\xd9\xa0\xd9\xa0"]
)
def test_bad_status_code(code: bytes) -> None:
    data = b"SIP/2.0 " + code + b" Odd\r\n" + BASIC.split(b"\r\n", 1)[1] + b"\r\n"
    err = rejected(data)
    assert err.partial is None


def test_response_without_reason_phrase() -> None:
    msg = parse_message(b"SIP/2.0 100\r\n" + BASIC.split(b"\r\n", 1)[1] + b"\r\n")
    assert isinstance(msg, Response) and (msg.status, msg.reason) == (100, "")


# --- mandatory headers ---------------------------------------------------------------------


@pytest.mark.parametrize("name", [b"Via", b"From", b"To", b"Call-ID", b"CSeq"])
def test_missing_mandatory_header(name: bytes) -> None:
    lines = [line for line in BASIC.split(b"\r\n") if not line.startswith(name + b":")]
    err = rejected(b"\r\n".join(lines) + b"\r\n")
    assert (err.status, err.reason) == (400, f"missing {name.decode()} header")
    assert err.partial is not None


@pytest.mark.parametrize("name", [b"From", b"To", b"Call-ID", b"CSeq", b"Max-Forwards"])
def test_singleton_header_twice(name: bytes) -> None:
    line = next(line for line in BASIC.split(b"\r\n") if line.startswith(name + b":"))
    err = rejected(with_headers(line))
    assert (err.status, err.reason) == (400, f"more than one {name.decode()} header")


@pytest.mark.parametrize(
    "header",
    [
        b"Max-Forwards: 256",
        b"Max-Forwards: ten",
        b"Contact: <sip:a@b",
        b"Contact: sip:a@b?x=y",
        b"Via: SIP/2.0/UDP",
        b"Via: SIP/2.0/UDP host:0",
    ],
)
def test_bad_checked_header(header: bytes) -> None:
    name = header.split(b":")[0]
    head = b"\r\n".join(x for x in BASIC.split(b"\r\n") if not x.startswith(name + b":"))
    assert rejected(with_headers(header, head=head)).status == 400


def test_cseq_method_must_match() -> None:
    err = rejected(with_headers(head=BASIC.replace(b"1 OPTIONS", b"1 INVITE")))
    assert (err.status, err.reason) == (400, "CSeq method does not match")


def test_partial_request_can_be_answered() -> None:
    err = rejected(with_headers(head=BASIC.replace(b"1 OPTIONS", b"1 INVITE")))
    assert err.partial is not None
    resp = make_response(err.partial, err.status, to_tag="x1")
    assert resp.headers.get("Via") == "SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-t1"
    assert resp.headers.get("CSeq") == "1 INVITE"
    assert resp.to.tag == "x1"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n\r\n",
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n",  # no empty line
        b"OPTIONS sip:a@b SIP/2.0\r\nNo colon here\r\n\r\n",
        b"OPTIONS sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n",
        b"OPTIONS sip:a@b SIP/2.0\r\n folded-first: x\r\n\r\n",
        b"OPTIONS sip:a@b SIP/2.0\r\nSubject: \xff\xfe\r\n\r\n",
        b"OPTIONS sip:a@b SIP/2.0\r\nSubject: a\rb\r\n\r\n",
        b'OPTIONS sip:a@b SIP/2.0\r\nContact: "open <sip:a@b>, <sip:c@d>\r\n\r\n',
    ],
)
def test_unreadable_header_block_has_no_partial(data: bytes) -> None:
    err = rejected(data)
    assert err.status == 400 and err.partial is None


# --- StreamFramer --------------------------------------------------------------------------


def test_framer_two_messages_in_one_chunk() -> None:
    invite, bye = fixture("invite_sdp.sip"), fixture("bye.sip")
    framer = StreamFramer()
    assert framer.feed(invite + bye) == [invite, bye]
    assert framer.buffered == 0


def test_framer_byte_by_byte() -> None:
    invite = fixture("invite_sdp.sip")
    framer = StreamFramer()
    out: list[bytes] = []
    for i in range(len(invite)):
        out += framer.feed(invite[i : i + 1])
    assert out == [invite]
    assert parse_message(out[0]) == parse_message(invite)


def test_framer_counts_pings_and_skips_pongs() -> None:
    bye = fixture("bye.sip")
    framer = StreamFramer()
    assert framer.feed(b"\r\n") == []  # half a ping so far
    assert framer.feed(b"\r\n") == []
    assert framer.pings == 1
    assert framer.feed(b"\r\n" + bye + b"\r\n\r\n\r\n\r\n") == [bye]
    assert (framer.pings, framer.buffered) == (3, 0)


def test_framer_waits_for_the_body() -> None:
    info = fixture("info_dtmf_relay.sip")
    framer = StreamFramer()
    assert framer.feed(info[:-5]) == []
    assert framer.buffered == len(info) - 5
    assert framer.feed(info[-5:]) == [info]


def test_framer_requires_content_length() -> None:
    data = with_headers()
    with pytest.raises(ParseError) as info:
        StreamFramer().feed(data)
    assert (info.value.status, info.value.reason) == (
        400,
        "no Content-Length on a stream transport",
    )


def test_framer_limits() -> None:
    with pytest.raises(ParseError) as info:
        StreamFramer(max_header_bytes=100).feed(b"OPTIONS sip:a@b SIP/2.0\r\n" + b"X: y\r\n" * 30)
    assert info.value.status == 513
    with pytest.raises(ParseError) as info:
        StreamFramer(max_body_bytes=10).feed(with_headers(b"Content-Length: 11"))
    assert info.value.status == 413


def test_framer_returns_good_messages_before_raising() -> None:
    bye = fixture("bye.sip")
    framer = StreamFramer()
    assert framer.feed(bye + with_headers(b"Content-Length: x")) == [bye]
    with pytest.raises(ParseError, match="bad Content-Length"):
        framer.feed(b"")
    with pytest.raises(ParseError, match="bad Content-Length"):
        framer.feed(bye)
