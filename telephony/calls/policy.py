"""The small policy objects the call engine is given (built from settings by the application).

Nothing here reads files or the environment: ``callfloor.settings`` validates the TOML and builds
these, so the engine and its tests depend on plain values only.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from telephony.sip.transport import Transport

__all__ = ["EnginePolicy", "TrunkPolicy"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class TrunkPolicy:
    """The carrier: where it is, how we authenticate to it and how it reaches us."""

    host: str
    port: int = 5060
    transport: Transport = Transport.UDP
    username: str | None = None
    password: str | None = None
    register: bool = False
    register_expires: int = 3600
    allow: Sequence[IPNetwork] = ()
    dids: Sequence[str] = ()
    caller_id: str | None = None
    outbound_prefix: str = "9"
    outbound_allow: Sequence[str] = ()

    def allows_source(self, host: str) -> bool:
        """True when ``host`` is inside one of the IP-authenticated networks."""
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(addr in net for net in self.allow)

    def owns_did(self, number: str) -> str | None:
        """The configured DID that ``number`` names (ignoring a leading '+'), or None."""
        return self._did_index.get(number.lstrip("+"))

    @functools.cached_property
    def _did_index(self) -> dict[str, str]:
        # One dict lookup per INVITE instead of a scan of every DID (a floor may own thousands).
        index: dict[str, str] = {}
        for did in self.dids:
            index.setdefault(did.lstrip("+"), did)
        return index

    def outbound_allowed(self, number: str) -> bool:
        """Toll-fraud guard: the dialled number must match one allow-list pattern."""
        return any(re.fullmatch(p, number) for p in self.outbound_allow)


@dataclass(frozen=True)
class EnginePolicy:
    """Everything the call engine needs to know about this floor."""

    host: str
    port: int
    realm: str = "callfloor"
    user_agent: str = "callfloor"
    seats: Mapping[str, str] = field(default_factory=dict)
    seat_algorithms: Mapping[str, Sequence[str]] = field(default_factory=dict)
    routes: Mapping[str, str] = field(default_factory=dict)
    trunk: TrunkPolicy | None = None
    rtp_host: str = ""
    rtp_ports: tuple[int, int] = (20000, 30000)
    ring_timeout: float = 30.0
    session_expires: int = 1800
    min_se: int = 90
    auth_algorithms: Sequence[str] = ("SHA-256", "MD5")
    register_min_expires: int = 60
    register_max_expires: int = 3600
    max_contacts: int = 5
    guard_slow_after: int = 3
    guard_ban_after: int = 10
    guard_ban_seconds: float = 900.0
    t1: float = 0.5
    nonce_secret: bytes = b""

    @property
    def media_host(self) -> str:
        """The address written in SDP c= lines."""
        return self.rtp_host or self.host
