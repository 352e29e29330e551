"""check_request and build_error_response (RFC 3261 §8.2, RFC 4475 §3.3)."""

from __future__ import annotations

import pytest

from telephony.sip.errors import ParseError, RemoteProtocolError
from telephony.sip.message import Request
from telephony.sip.parser import parse_message
from telephony.sip.validate import (
    BadExtension,
    NotAcceptable,
    UnsupportedMediaType,
    build_error_response,
    check_request,
)


def make(
    method: str = "INVITE",
    uri: str = "sip:seat101@callfloor.example.com",
    *extra: str,
    body: bytes = b"",
    to: str = "<sip:seat101@callfloor.example.com>",
) -> Request:
    head = (
        f"{method} {uri} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-v1\r\n"
        "From: <sip:tester@example.org>;tag=v1\r\n"
        f"To: {to}\r\n"
        "Call-ID: v1@192.0.2.9\r\n"
        f"CSeq: 1 {method}\r\n"
        + "".join(f"{h}\r\n" for h in extra)
        + f"Content-Length: {len(body)}\r\n\r\n"
    )
    msg = parse_message(head.encode() + body)
    assert isinstance(msg, Request)
    return msg


def status_of(req: Request, **kwargs: frozenset[str]) -> int | None:
    try:
        check_request(req, **kwargs)
    except RemoteProtocolError as exc:
        return exc.status
    return None


SDP = b"v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"


def test_plain_requests_pass() -> None:
    check_request(make("INVITE", "sip:a@b", "Content-Type: application/sdp", body=SDP))
    check_request(make("OPTIONS", "sips:a@b"))
    check_request(make("INVITE", "tel:+4930123456"))
    check_request(make("REGISTER", "sip:callfloor.example.com"))


@pytest.mark.parametrize("uri", ["urn:service:sos", "mailto:a@example.com", "http://x"])
def test_unsupported_uri_scheme_is_416(uri: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        check_request(make("INVITE", uri))
    assert info.value.status == 416
    assert info.value.reason == f"unsupported URI scheme {uri.partition(':')[0]!r}"


@pytest.mark.parametrize(
    ("method", "status"), [("INVITE", 483), ("BYE", 483), ("OPTIONS", None), ("REGISTER", None)]
)
def test_max_forwards_zero(method: str, status: int | None) -> None:
    assert status_of(make(method, "sip:a@b", "Max-Forwards: 0")) == status
    assert status_of(make(method, "sip:a@b", "Max-Forwards: 1")) is None


def test_require_unknown_is_420_with_the_list() -> None:
    req = make("INVITE", "sip:a@b", "Require: timer, 100rel", "Require: Replaces, foo")
    with pytest.raises(BadExtension) as info:
        check_request(req)
    assert info.value.status == 420
    assert info.value.unsupported == ["100rel", "foo"]
    assert status_of(req, supported=frozenset({"timer", "replaces", "100rel", "foo"})) is None


@pytest.mark.parametrize("method", ["ACK", "CANCEL"])
def test_require_is_not_checked_on_ack_and_cancel(method: str) -> None:
    assert status_of(make(method, "sip:a@b", "Require: foo")) is None


def test_proxy_require_is_ignored_by_a_uas() -> None:
    assert status_of(make("OPTIONS", "sip:a@b", "Proxy-Require: foo")) is None


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/sdp", None),
        ("Application/SDP; charset=utf-8", None),
        ("application/dtmf-relay", None),
        ("text/plain", 415),
        ("multipart/mixed;boundary=x", 415),
    ],
)
def test_content_type(content_type: str, status: int | None) -> None:
    req = make("INFO", "sip:a@b", f"Content-Type: {content_type}", body=b"Signal=1\r\n")
    assert status_of(req) == status


def test_unknown_content_type_lists_accepted_types() -> None:
    req = make("INVITE", "sip:a@b", "Content-Type: application/unknownformat", body=b"x")
    with pytest.raises(UnsupportedMediaType) as info:
        check_request(req, accepted_types=frozenset({"application/sdp"}))
    assert (info.value.accept, info.value.accept_encoding) == (["application/sdp"], [])


def test_unknown_content_encoding_is_415() -> None:
    req = make(
        "INVITE", "sip:a@b", "Content-Type: application/sdp", "Content-Encoding: gzip", body=SDP
    )
    with pytest.raises(UnsupportedMediaType) as info:
        check_request(req)
    assert (info.value.status, info.value.accept_encoding) == (415, ["identity"])
    ok = make("INVITE", "sip:a@b", "Content-Type: application/sdp", "e: identity", body=SDP)
    check_request(ok)


def test_body_without_content_type_is_400() -> None:
    with pytest.raises(ParseError) as info:
        check_request(make("INVITE", "sip:a@b", body=SDP))
    assert (info.value.status, info.value.reason) == (400, "body without Content-Type")


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("Accept: text/nobodyKnowsThis", 406),
        ("Accept: text/plain, application/sdp;q=0.5", None),
        ("Accept: application/*", None),
        ("Accept: */*", None),
        ("X-Nothing: 1", None),
    ],
)
def test_invite_accept_must_allow_sdp(accept: str, status: int | None) -> None:
    assert status_of(make("INVITE", "sip:a@b", accept)) == status
    assert status_of(make("OPTIONS", "sip:a@b", accept)) is None


def test_register_to_must_be_sip() -> None:
    req = make("REGISTER", "sip:example.com", to="tel:+4930123456")
    with pytest.raises(RemoteProtocolError) as info:
        check_request(req)
    assert (info.value.status, info.value.reason) == (400, "REGISTER To must be a SIP or SIPS URI")


def test_error_response_for_420() -> None:
    req = make("INVITE", "sip:a@b", "Require: foo, bar")
    with pytest.raises(BadExtension) as info:
        check_request(req)
    resp = build_error_response(req, info.value, "tag420")
    assert (resp.status, resp.reason) == (420, "Bad Extension")
    assert resp.headers.get_all("Unsupported") == ["foo", "bar"]
    assert resp.to.tag == "tag420"
    assert resp.headers.get("Via") == "SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-v1"
    assert resp.headers.get("Warning") == '399 callfloor "unsupported extension(s): foo, bar"'
    wire = resp.to_bytes()
    assert parse_message(wire).to_bytes() == wire


def test_error_response_for_415_and_406() -> None:
    req = make("INVITE", "sip:a@b", "Content-Type: text/plain", body=b"hi")
    with pytest.raises(UnsupportedMediaType) as info:
        check_request(req)
    resp = build_error_response(req, info.value, "t")
    assert resp.headers.get_all("Accept") == [
        "application/dtmf", "application/dtmf-relay", "application/sdp",
    ]  # fmt: skip
    assert resp.headers.get_all("Accept-Encoding") == []
    err = NotAcceptable("Accept does not allow application/sdp")
    resp = build_error_response(req, err, "t")
    assert (resp.status, resp.reason) == (406, "Not Acceptable")
    assert resp.headers.get("Warning") == '399 callfloor "Accept does not allow application/sdp"'


def test_warning_text_is_escaped() -> None:
    req = make("OPTIONS", "sip:a@b")
    resp = build_error_response(req, ParseError('bad "thing" \\ here'), "t")
    assert resp.headers.get("Warning") == r'399 callfloor "bad \"thing\" \\ here"'
    assert resp.status == 400
