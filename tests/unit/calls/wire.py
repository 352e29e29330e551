"""Fixed values and wire helpers for the call-engine ladder tests: the floor's policy, SDP bodies,
digest answers computed independently of telephony.sip.digest, and commands as ladder lines."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import replace
from typing import Any

from telephony.calls.commands import (
    Command,
    Publish,
    SetMediaPeer,
    WriteCallEnded,
)
from telephony.calls.policy import EnginePolicy, TrunkPolicy

__all__ = [
    "CARRIER_HOST",
    "CARRIER_OFFER",
    "FLOOR_HOST",
    "ROUTES",
    "SEATS",
    "START",
    "describe",
    "digest_authorization",
    "make_policy",
    "sdp",
]

FLOOR_HOST = "192.0.2.1"  # callfloor itself
CARRIER_HOST = "203.0.113.5"  # the carrier's SBC, inside trunk.allow
SEATS = {"1001": "secret1001", "1002": "secret1002", "1003": "secret1003"}
ROUTES = {"+15550100": "1001", "+15550102": "1002", "+15550103": "1003"}
START = 1_700_000_000.0
_AUTH_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]+))')


def make_policy(**overrides: Any) -> EnginePolicy:
    """A small floor: three seats, a carrier on 203.0.113.5 owning three DIDs (+1 unrouted)."""
    trunk_fields = overrides.pop("trunk_fields", {})
    trunk = TrunkPolicy(
        host=CARRIER_HOST, port=5060, username="floor", password="trunkpass",
        allow=[ipaddress.ip_network("203.0.113.0/24")],
        dids=["+15550100", "+15550102", "+15550103", "+15550199"],
        caller_id="+15550100", outbound_prefix="9", outbound_allow=[r"\+?1\d{10}"],
    )
    values: dict[str, Any] = {
        "host": FLOOR_HOST, "port": 5060, "seats": SEATS, "routes": ROUTES,
        "trunk": replace(trunk, **trunk_fields), "rtp_ports": (20000, 20010),
        "ring_timeout": 30.0, "nonce_secret": b"ladder-secret",
    }
    values.update(overrides)
    return EnginePolicy(**values)


def sdp(host: str, port: int, codecs: str = "PCMU PCMA", *, event: int | None = 101,
        direction: str = "sendrecv", version: int = 1) -> bytes:
    """A peer's one-audio-stream SDP body; ``codecs`` names static G.711 or other formats."""
    pts = {"PCMU": 0, "PCMA": 8, "G729": 18, "GSM": 3}
    formats = [str(pts[c]) for c in codecs.split()]
    lines = ["v=0", f"o=peer 4242 {version} IN IP4 {host}", "s=-", f"c=IN IP4 {host}", "t=0 0",
             f"m=audio {port} RTP/AVP {' '.join(formats + ([str(event)] if event else []))}"]
    lines += [f"a=rtpmap:{pts[c]} {c}/8000" for c in codecs.split()]
    if event:
        lines += [f"a=rtpmap:{event} telephone-event/8000", f"a=fmtp:{event} 0-15"]
    lines.append(f"a={direction}")
    return ("\r\n".join(lines) + "\r\n").encode()


def describe(command: Command) -> str:
    """A command as a ladder line: ``SetMediaPeer seat PCMU``, ``Publish call.answered``."""
    if isinstance(command, SetMediaPeer):
        return f"SetMediaPeer {command.side.value} {command.codec}" + ("" if command.sends else " hold")
    if isinstance(command, Publish):
        return f"Publish {command.kind}"
    if isinstance(command, WriteCallEnded):
        return f"WriteCallEnded {command.reason}"
    return type(command).__name__


def digest_authorization(challenge: str, user: str, password: str, method: str, uri: str,
                         *, use_qop: bool = True, cnonce: str = "0a4f113b") -> str:
    """Answer a ``Digest ...`` challenge, computed here independently of telephony.sip.digest."""
    params = {name: quoted or token for name, quoted, token in _AUTH_PARAM.findall(challenge)}
    algorithm = params.get("algorithm", "MD5")
    h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[algorithm]

    def hx(text: str) -> str:
        return h(text.encode()).hexdigest()

    ha1, ha2 = hx(f"{user}:{params['realm']}:{password}"), hx(f"{method}:{uri}")
    nonce = params["nonce"]
    fields = [f'username="{user}"', f'realm="{params["realm"]}"', f'nonce="{nonce}"', f'uri="{uri}"']
    if use_qop and "qop" in params:
        response = hx(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}")
        fields += [f'response="{response}"', f"algorithm={algorithm}", f'cnonce="{cnonce}"',
                   "qop=auth", "nc=00000001"]
    else:  # RFC 2069 form, as pyVoIP answers
        fields += [f'response="{hx(f"{ha1}:{nonce}:{ha2}")}"', f"algorithm={algorithm}"]
    return "Digest " + ", ".join(fields)


CARRIER_OFFER = sdp(CARRIER_HOST, 30000, "PCMA")
