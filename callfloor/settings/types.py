"""Small value parsers shared by the settings sections: host:port, port ranges, networks, MQTT URLs.

Each raises ValueError with a message written for an admin; pydantic turns it into a
validation error at the key path, and the loader prefixes the file or environment variable.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = [
    "IPNetwork",
    "MqttEndpoint",
    "is_loopback_host",
    "is_wildcard_host",
    "parse_ip_network",
    "parse_mqtt_url",
    "parse_port_range",
    "split_host_port",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_HOST_RE = re.compile(r"^[A-Za-z0-9._-]+$")


def split_host_port(value: str) -> tuple[str, int]:
    """Split "host:port" or "[v6]:port" into (host, port); port 0 asks the OS for a free one."""
    text = value.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ValueError(f"expected [ipv6]:port, got {value!r}")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"expected [ipv6]:port, got {value!r}") from None
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or not host or ":" in host or not _HOST_RE.match(host):
            raise ValueError(f"expected host:port, got {value!r}")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"port must be 0-65535, got {value!r}")
    return host, int(port_text)


def is_wildcard_host(host: str) -> bool:
    """True for 0.0.0.0 and ::, which bind every address but cannot be written in Via/Contact/SDP."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost"."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_port_range(value: object) -> tuple[int, int]:
    """Parse "low-high" (or a two-item list) into an RTP port range.

    RTP takes the even port and RTCP the odd one above it (RFC 3550 §11), so the range must
    start on an even port and hold at least one such pair.
    """
    if isinstance(value, str):
        low_text, sep, high_text = value.strip().partition("-")
        if not sep or not low_text.strip().isdigit() or not high_text.strip().isdigit():
            raise ValueError(f"expected a port range like '20000-30000', got {value!r}")
        low, high = int(low_text), int(high_text)
    elif isinstance(value, list | tuple) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        low, high = value
    else:
        raise ValueError(f"expected a port range like '20000-30000', got {value!r}")
    if not 1 <= low <= high <= 65535:
        raise ValueError(f"ports must satisfy 1 <= low <= high <= 65535, got {low}-{high}")
    if low % 2:
        raise ValueError(f"the range must start on an even port (RTP even, RTCP odd), got {low}")
    if high - low + 1 < 2:
        raise ValueError(f"the range needs at least 2 ports (one RTP/RTCP pair), got {low}-{high}")
    return low, high


def parse_ip_network(value: object) -> IPNetwork:
    """Parse "IP/prefix" or a bare IP (a /32 or /128); host bits set after the prefix are refused."""
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected 'IP/prefix', got {value!r}")
    try:
        return ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as exc:
        raise ValueError(f"bad CIDR {value!r}: {exc}") from None


@dataclass(frozen=True)
class MqttEndpoint:
    """Where the event bus connects: host, port and optional credentials."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None


def parse_mqtt_url(url: str) -> MqttEndpoint:
    """Parse "mqtt://[user:pass@]host[:port]" (port 1883 when absent)."""
    parts = urlsplit(url.strip())
    if parts.scheme != "mqtt":
        raise ValueError(f"expected mqtt://[user:pass@]host[:port], got {url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"an MQTT URL has no path, query or fragment, got {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"bad port in {url!r}") from None
    if not parts.hostname:
        raise ValueError(f"expected mqtt://[user:pass@]host[:port], got {url!r}")
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return MqttEndpoint(parts.hostname, 1883 if port is None else port, username, password)
