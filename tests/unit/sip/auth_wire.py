"""Byte fixtures for the digest/registrar tests, read with a deliberately tiny wire splitter.

The real parser lives in ``telephony/sip/parser.py``; these tests only need header lines, so
they stay independent of it (no folding, no comma splitting).
"""

from __future__ import annotations

from pathlib import Path

from telephony.sip.message import Headers, Request, Response

__all__ = ["AUTH_FIXTURES", "read_request", "read_response", "split_message"]

AUTH_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sip" / "auth"


def split_message(data: bytes) -> tuple[str, Headers, bytes]:
    """Start line, headers and body of one message (CRLF or LF line ends)."""
    head, _, body = data.replace(b"\r\n", b"\n").partition(b"\n\n")
    lines = head.decode("utf-8").split("\n")
    headers = Headers()
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() not in ("content-length", "l"):
            headers.add(name.strip(), value.strip())
    return lines[0], headers, body


def read_request(data: bytes) -> Request:
    """A Request from wire bytes."""
    start, headers, body = split_message(data)
    method, uri, _ = start.split(" ", 2)
    return Request(method=method, uri=uri, headers=headers, body=body)


def read_response(data: bytes) -> Response:
    """A Response from wire bytes."""
    start, headers, body = split_message(data)
    _, status, reason = start.split(" ", 2)
    return Response(status=int(status), reason=reason, headers=headers, body=body)
