"""Settings sections, one frozen model per concern; every field carries its description.

The descriptions are the single source for docs/configuration.md and `describe_env()`.
"""

from __future__ import annotations

import importlib.metadata
import re
import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from callfloor.settings.types import (
    IPNetwork,
    MqttEndpoint,
    is_loopback_host,
    is_wildcard_host,
    parse_ip_network,
    parse_mqtt_url,
    parse_port_range,
    split_host_port,
)

__all__ = [
    "BusSettings",
    "DialerSettings",
    "GuardSettings",
    "HttpSettings",
    "LogSettings",
    "RtpSettings",
    "SeatSettings",
    "SipSettings",
    "StorageSettings",
    "TrunkSettings",
    "Section",
]


def _version() -> str:
    try:
        return importlib.metadata.version("callfloor")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


class Section(BaseModel):
    """Base of every settings section: immutable, and unknown keys are refused (typos)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_host_port(value: str) -> str:
    split_host_port(value)
    return value


class GuardSettings(Section):
    """Per-source-address guard against digest-auth guessing (`[sip.guard]`)."""

    slow_after: int = Field(default=3, ge=1, description="Failed authentications from one source address before its answers are delayed.")
    ban_after: int = Field(default=10, ge=1, description="Failed authentications from one source address before it is banned.")
    ban_seconds: float = Field(default=900.0, gt=0, description="How long a banned source address is ignored, in seconds.")

    @model_validator(mode="after")
    def _order(self) -> GuardSettings:
        if self.slow_after > self.ban_after:
            raise ValueError(f"slow_after ({self.slow_after}) must not exceed ban_after ({self.ban_after})")
        return self


class SipSettings(Section):
    """The SIP endpoint and registrar (`[sip]`)."""

    listen: str = Field(default="127.0.0.1:5060", description="host:port the SIP endpoint binds, UDP and TCP; port 0 picks a free port.")
    advertise: str = Field(default=None, validate_default=True, description="Host written in Via, Contact and SDP; defaults to the listen host (required when listen is 0.0.0.0 or ::).")
    domain: str = Field(default="callfloor", min_length=1, description="SIP domain of the seats' addresses (sip:1001@domain).")
    realm: str = Field(default=None, validate_default=True, description="Digest realm offered in challenges (RFC 3261 §22.1); defaults to domain.")
    auth_algorithms: tuple[Literal["SHA-256", "MD5"], ...] = Field(default=("SHA-256", "MD5"), min_length=1, description="Digest algorithms offered, in order (RFC 8760); one challenge per algorithm.")
    ring_timeout: float = Field(default=30.0, gt=0, description="Seconds a seat rings before the call counts as no-answer.")
    media_timeout: float = Field(default=30.0, gt=0, description="Seconds without RTP on an answered call before it is hung up.")
    session_expires: int = Field(default=1800, ge=90, description="Session-Expires asked for on answered calls, seconds (RFC 4028).")
    min_se: int = Field(default=90, ge=90, description="Smallest Session-Expires accepted, seconds (RFC 4028 §5: at least 90).")
    register_min_expires: int = Field(default=60, ge=1, description="Smallest REGISTER expiry accepted; shorter ones get 423 (RFC 3261 §10.3).")
    register_max_expires: int = Field(default=3600, ge=1, description="Largest REGISTER expiry granted; longer ones are cut down to it.")
    guard: GuardSettings = Field(default_factory=lambda: GuardSettings(), description="Auth-failure guard, see [sip.guard].")
    user_agent: str = Field(default_factory=lambda: f"callfloor/{_version()}", min_length=1, description="User-Agent and Server header value.")
    t1: float = Field(default=0.5, gt=0, description="SIP timer T1, the round-trip estimate, seconds (RFC 3261 §17.1.1.1).")

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        return _check_host_port(value)

    @field_validator("advertise", mode="before")
    @classmethod
    def _advertise(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None:
            return value
        listen = info.data.get("listen")
        if listen is None:
            return ""  # listen itself failed; that error is the one to show
        host = split_host_port(listen)[0]
        if is_wildcard_host(host):
            raise ValueError(f"required when sip.listen binds every address ({host}): that cannot be written in Via/Contact/SDP")
        return host

    @field_validator("realm", mode="before")
    @classmethod
    def _realm(cls, value: Any, info: ValidationInfo) -> Any:
        return info.data.get("domain", "") if value is None else value

    @model_validator(mode="after")
    def _ranges(self) -> SipSettings:
        if self.register_min_expires > self.register_max_expires:
            raise ValueError("register_min_expires must not exceed register_max_expires")
        if self.session_expires < self.min_se:
            raise ValueError(f"session_expires ({self.session_expires}) must be at least min_se ({self.min_se})")
        if len(set(self.auth_algorithms)) != len(self.auth_algorithms):
            raise ValueError("auth_algorithms lists an algorithm twice")
        return self

    @property
    def listen_host(self) -> str:
        """The host part of `listen`."""
        return split_host_port(self.listen)[0]

    @property
    def listen_port(self) -> int:
        """The port part of `listen`."""
        return split_host_port(self.listen)[1]


class SeatSettings(Section):
    """One seat (agent phone) allowed to register (`[[seats]]`)."""

    id: str = Field(pattern=r"^[A-Za-z0-9]+$", max_length=32, description="Seat id, the SIP user name the softphone registers as (letters and digits).")
    password: str = Field(min_length=1, repr=False, description="Digest password of the seat's softphone.")
    name: str | None = Field(default=None, description="Display name shown to supervisors; optional.")
    max_contacts: int = Field(default=5, ge=1, description="Most simultaneous registrations (softphones) for this seat.")
    team: str | None = Field(default=None, description="Team id (see [[teams]]).")
    tier: Literal["one-line", "two-line", "vip"] = Field(default="one-line", description="Support tier: one-line, two-line or vip.")
    skills: dict[str, int] = Field(default_factory=dict, description="Skills and levels, e.g. {vip = 3, billing = 1}.")
    queues: tuple[str, ...] = Field(default=(), description="Queues this seat takes calls from (see [[queues]]).")
    penalties: dict[str, int] = Field(default_factory=dict, description="Per-queue penalty: a seat with a lower penalty is offered first.")
    auth_algorithms: tuple[Literal["SHA-256", "MD5"], ...] | None = Field(default=None, min_length=1, description="Digest algorithms offered to this seat's phones, overriding sip.auth_algorithms (e.g. [\"MD5\"] for baresip 1.0, which gives up on a challenge that offers SHA-256).")


# The field `register` shadows ABCMeta.register on the class only; instances read the field.
warnings.filterwarnings("ignore", message='Field name "register" in "TrunkSettings"', category=UserWarning)


class TrunkSettings(Section):
    """The carrier SIP trunk (`[trunk]`); absent means no trunk."""

    host: str = Field(min_length=1, description="Carrier SIP host (name or IP).")
    port: int = Field(default=5060, ge=1, le=65535, description="Carrier SIP port.")
    transport: Literal["udp", "tcp"] = Field(default="udp", description="Transport to the carrier: udp or tcp.")
    username: str | None = Field(default=None, description="Digest user name for the carrier (registration and outbound challenges).")
    password: str | None = Field(default=None, repr=False, description="Digest password for the carrier.")
    register: bool = Field(default=False, description="Send REGISTER to the carrier (needs username and password).")
    register_expires: int = Field(default=3600, ge=60, description="Expiry asked for in REGISTER to the carrier, seconds.")
    allow: tuple[IPNetwork, ...] = Field(default=(), description="Source networks (IP/CIDR) whose INVITEs count as from the carrier; empty means the host's address when host is an IP.")
    did: tuple[str, ...] = Field(default=(), description="Numbers (DIDs) the carrier delivers to this floor.")
    caller_id: str | None = Field(default=None, description="From user on outbound calls; defaults to username.")
    outbound_prefix: str = Field(default="9", pattern=r"^[0-9*#]*$", description="Digits a seat dials before an outside number; stripped before the allow check. Empty: none.")
    outbound_allow: tuple[str, ...] = Field(default=(r"^\+?[1-9]\d{6,14}$",), description="Regular expressions an outbound number must fully match (toll-fraud guard); empty refuses all.")

    @field_validator("allow", mode="before")
    @classmethod
    def _allow(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(parse_ip_network(v) for v in value)
        return value

    @field_validator("did")
    @classmethod
    def _did(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for number in value:
            if not re.fullmatch(r"\+?[0-9]{1,32}", number):
                raise ValueError(f"expected a number like '+15550100', got {number!r}")
        return value

    @field_validator("outbound_allow")
    @classmethod
    def _patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _credentials(self) -> TrunkSettings:
        if self.register and not (self.username and self.password):
            raise ValueError("register = true needs username and password")
        return self

    def allowed_networks(self) -> tuple[IPNetwork, ...]:
        """The networks trusted as the carrier: `allow`, or the host's own address when empty."""
        if self.allow:
            return self.allow
        try:
            return (parse_ip_network(self.host),)
        except ValueError:
            return ()

    def is_carrier_address(self, ip: str) -> bool:
        """True when a packet from `ip` may be treated as coming from the carrier."""
        try:
            addr = parse_ip_network(ip).network_address
        except ValueError:
            return False
        return any(addr in net for net in self.allowed_networks())

    def outbound_allowed(self, number: str) -> bool:
        """True when `number` (prefix already stripped) fully matches one outbound_allow pattern."""
        return any(re.fullmatch(p, number) for p in self.outbound_allow)


class StorageSettings(Section):
    """Where the database and recordings live (`[storage]`)."""

    data_dir: Path = Field(default=Path("var/callfloor"), description="Directory for the database and recordings; relative paths are taken from the working directory.")

    @property
    def db_path(self) -> Path:
        """The SQLite database file."""
        return self.data_dir / "callfloor.db"

    @property
    def recordings_dir(self) -> Path:
        """The root of the recordings tree."""
        return self.data_dir / "recordings"


class HttpSettings(Section):
    """The HTTP API and pages (`[http]`)."""

    listen: str = Field(default="127.0.0.1:8080", description="host:port the HTTP server binds.")
    api_open_on_loopback: bool = Field(default=True, description="Clients on this machine (loopback) may use the integrations' JSON API (/api/seats, /api/calls, /api/campaigns, /api/dnc, ...) without a login; other clients always log in. false: everyone logs in.")

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        return _check_host_port(value)

    @property
    def host(self) -> str:
        """The host part of `listen`."""
        return split_host_port(self.listen)[0]

    @property
    def port(self) -> int:
        """The port part of `listen`."""
        return split_host_port(self.listen)[1]


class RtpSettings(Section):
    """The RTP relay (`[rtp]`)."""

    ports: tuple[int, int] = Field(default=(20000, 30000), description="UDP port range 'low-high' for RTP (even) and RTCP (odd); starts even, at least 2 ports.")
    host: str = Field(default=None, validate_default=True, min_length=1, description="Address the relay binds and writes in SDP; defaults to sip.advertise.")

    @field_validator("ports", mode="before")
    @classmethod
    def _ports(cls, value: Any) -> tuple[int, int]:
        return parse_port_range(value)

    @field_validator("host", mode="before")
    @classmethod
    def _host(cls, value: Any) -> Any:
        # Settings replaces this with sip.advertise when the key is not given.
        return "127.0.0.1" if value is None else value

    @property
    def pairs(self) -> int:
        """How many RTP/RTCP port pairs the range holds (the most concurrent legs)."""
        return (self.ports[1] - self.ports[0] + 1) // 2

    def ephemeral_warning(self, ephemeral: tuple[int, int] | None) -> str | None:
        """A warning when the range overlaps the kernel's ephemeral ports (``ephemeral``, as in
        /proc/sys/net/ipv4/ip_local_port_range): any outgoing socket may hold one of them, and
        a call leg that needs it then fails to bind its media."""
        if ephemeral is None:
            return None
        low, high = max(self.ports[0], ephemeral[0]), min(self.ports[1], ephemeral[1])
        if low > high:
            return None
        return (f"rtp.ports {self.ports[0]}-{self.ports[1]} overlaps the kernel's ephemeral ports "
                f"{ephemeral[0]}-{ephemeral[1]} ({high - low + 1} ports, {low}-{high}): outgoing "
                "connections may take them and call legs then fail to bind media; choose a range "
                "outside it (the default 20000-30000 is) or narrow net.ipv4.ip_local_port_range")


class BusSettings(Section):
    """The MQTT event bus (`[bus]`)."""

    url: str | None = Field(default=None, description="External broker, mqtt://[user:pass@]host[:port]; unset starts the embedded broker.")
    embedded_listen: str = Field(default="127.0.0.1:1883", description="host:port of the embedded broker (loopback only: it allows anonymous clients).")
    site: str = Field(default="main", pattern=r"^[A-Za-z0-9_-]+$", description="Site name, the second topic level: <prefix>/<site>/events/<kind>.")
    topic_prefix: str = Field(default="callfloor", pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$", description="First topic level(s) of every message.")
    queue_size: int = Field(default=10000, ge=1, description="Messages buffered while the broker is away; the oldest are dropped beyond this.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            parse_mqtt_url(value)
        return value

    @field_validator("embedded_listen")
    @classmethod
    def _embedded(cls, value: str) -> str:
        host, _ = split_host_port(value)
        if not is_loopback_host(host):
            raise ValueError(f"the embedded broker allows anonymous clients, so it binds loopback only, got {value!r}")
        return value

    @property
    def embedded(self) -> bool:
        """True when no url is set and the embedded broker is used."""
        return self.url is None

    @property
    def endpoint(self) -> MqttEndpoint:
        """Where clients connect: the url's broker, or the embedded broker."""
        if self.url is not None:
            return parse_mqtt_url(self.url)
        host, port = split_host_port(self.embedded_listen)
        return MqttEndpoint(host, port)


class DialerSettings(Section):
    """The outbound dialer (`[dialer]`): where campaigns are and how lead lists are imported."""

    campaigns: Path | None = Field(default=None, description="Directory of campaign TOML files (e.g. config/campaigns); unset: no campaigns.")
    default_region: str = Field(default="US", pattern=r"^[A-Z]{2}$", description="Region of numbers written without + when a campaign names none (CSV imports, the CLI's dnc commands).")
    strict_import: bool = Field(default=False, description="Refuse a whole lead CSV when any row is bad (as --strict); false imports the good rows and reports the bad ones.")
    abandon_hold_hours: float = Field(default=72.0, ge=72.0, description="Hours a number whose call was abandoned is not dialled again unless a seat is reserved for it first; at least 72.")
    prompts: Path | None = Field(default=None, description="Directory of the dialer's prompts (abandon and machine messages, digits for the call-back number), e.g. config/ivr/prompts; unset: the IVR flows' prompts.")
    amd_max_seconds: float = Field(default=4.0, gt=0, le=10, description="Seconds of a customer's first audio that answering-machine detection may listen to before its verdict.")


class LogSettings(Section):
    """Logging (`[log]`)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING, ERROR or CRITICAL.")

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value
