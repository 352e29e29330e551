"""The top-level `Settings` and the `[routes]` table, with the checks that span sections."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    RootModel,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from callfloor.settings.archive import ArchiveSettings
from callfloor.settings.auth import AuthSettings
from callfloor.settings.floor import FeatureCodeSettings, IvrSettings, QueueSettings, TeamSettings
from callfloor.settings.monitor import MonitorSettings
from callfloor.settings.qa import QaSettings
from callfloor.settings.sections import (
    BusSettings,
    DialerSettings,
    HttpSettings,
    LogSettings,
    RtpSettings,
    SeatSettings,
    SipSettings,
    StorageSettings,
    TrunkSettings,
)
from qa.complaints import ComplaintSettings

__all__ = ["RoutesSettings", "Settings"]


class RoutesSettings(RootModel[dict[str, str]]):
    """The `[routes]` table: dialled number (DID) -> seat id."""

    model_config = ConfigDict(frozen=True)
    root: dict[str, str] = Field(default_factory=dict)

    def seat_for(self, did: str) -> str | None:
        """The seat id a call to `did` goes to, or None when the number is not routed."""
        return self.root.get(did)

    def items(self) -> Iterator[tuple[str, str]]:
        """(did, seat id) pairs in file order."""
        return iter(self.root.items())

    def __getitem__(self, did: str) -> str:
        return self.root[did]

    def __contains__(self, did: object) -> bool:
        return did in self.root

    def __len__(self) -> int:
        return len(self.root)


class Settings(BaseSettings):
    """Every setting of one callfloor process; build it with `load_settings()`.

    Constructing `Settings(...)` directly reads no environment: `load_settings` applies the
    `CALLFLOOR_` variables itself so that errors name the variable that caused them.
    """

    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", env_prefix="CALLFLOOR_", env_nested_delimiter="__"
    )

    sip: SipSettings = Field(default_factory=lambda: SipSettings(), description="The SIP endpoint and registrar.")
    seats: tuple[SeatSettings, ...] = Field(default=(), description="Seats allowed to register, as [[seats]] tables.")
    trunk: TrunkSettings | None = Field(default=None, description="The carrier SIP trunk; unset means no trunk.")
    routes: RoutesSettings = Field(default_factory=RoutesSettings, description="Inbound routing, DID -> seat id.")
    storage: StorageSettings = Field(default_factory=lambda: StorageSettings(), description="Database and recordings location.")
    http: HttpSettings = Field(default_factory=lambda: HttpSettings(), description="The HTTP API and pages.")
    rtp: RtpSettings = Field(default_factory=lambda: RtpSettings(), description="The RTP relay.")
    bus: BusSettings = Field(default_factory=lambda: BusSettings(), description="The MQTT event bus.")
    log: LogSettings = Field(default_factory=lambda: LogSettings(), description="Logging.")
    teams: tuple[TeamSettings, ...] = Field(default=(), description="Teams of seats, as [[teams]] tables.")
    queues: tuple[QueueSettings, ...] = Field(default=(), description="ACD queues, as [[queues]] tables.")
    ivr: IvrSettings = Field(default_factory=lambda: IvrSettings(), description="IVR flows and prompts.")
    features: FeatureCodeSettings = Field(default_factory=lambda: FeatureCodeSettings(), description="Seat feature codes.")
    dialer: DialerSettings = Field(default_factory=lambda: DialerSettings(), description="The outbound dialer: campaigns and lead imports.")
    auth: AuthSettings = Field(default_factory=lambda: AuthSettings(), description="Web login sessions and throttling.")
    archive: ArchiveSettings = Field(default_factory=lambda: ArchiveSettings(), description="The recordings archive: FLAC, checksums, retention, S3.")
    complaints: ComplaintSettings = Field(default_factory=lambda: ComplaintSettings(), description="Complaint handling and who approves blacklist records.")
    qa: QaSettings = Field(default_factory=lambda: QaSettings(), description="QA scoring forms and the sampling policy.")
    monitor: MonitorSettings = Field(default_factory=lambda: MonitorSettings(), description="The live monitor's alerts, the floor topics and the queue-watcher.")

    _source: str = PrivateAttr(default="<defaults>")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only explicit values: load_settings merges the TOML file and the environment."""
        return (init_settings,)

    @property
    def source(self) -> str:
        """Where these settings came from (the file path), for messages."""
        return self._source

    @field_validator("seats")
    @classmethod
    def _unique_seats(cls, seats: tuple[SeatSettings, ...]) -> tuple[SeatSettings, ...]:
        seen: dict[str, int] = {}
        for index, seat in enumerate(seats):
            if seat.id in seen:
                raise ValueError(f"duplicate seat id {seat.id!r} (seats[{seen[seat.id]}] and seats[{index}])")
            seen[seat.id] = index
        return seats

    @field_validator("routes")
    @classmethod
    def _known_seats(cls, routes: RoutesSettings, info: ValidationInfo) -> RoutesSettings:
        seats = info.data.get("seats")
        if seats is None:
            return routes  # the seats failed; that error is the one to show
        known = {seat.id for seat in seats}
        for did, seat_id in routes.items():
            if seat_id not in known:
                raise ValueError(f"{did!r} routes to unknown seat {seat_id!r}")
        return routes

    @model_validator(mode="after")
    def _floor_references(self) -> Settings:
        """Seats name known teams and queues; queues overflow to known queues; names are unique."""
        teams = {team.id for team in self.teams}
        queues = [queue.name for queue in self.queues]
        if len(set(queues)) != len(queues):
            raise ValueError(f"duplicate queue name in {queues}")
        for index, seat in enumerate(self.seats):
            if seat.team is not None and seat.team not in teams:
                raise ValueError(f"seats[{index}].team: unknown team {seat.team!r}")
            for name in seat.queues:
                if name not in queues:
                    raise ValueError(f"seats[{index}].queues: unknown queue {name!r}")
        for index, queue in enumerate(self.queues):
            if queue.overflow and queue.overflow.startswith("queue:") and queue.overflow[6:] not in queues:
                raise ValueError(f"queues[{index}].overflow: unknown queue {queue.overflow[6:]!r}")
            if (queue.max_wait or queue.overflow_when_no_seats) and not queue.overflow:
                raise ValueError(f"queues[{index}]: max_wait / overflow_when_no_seats need an overflow")
        codes = self.features
        if len({codes.ready, codes.pause, codes.logout}) != 3:
            raise ValueError("features: ready, pause and logout must be different codes")
        return self

    @field_validator("rtp")
    @classmethod
    def _rtp_host(cls, rtp: RtpSettings, info: ValidationInfo) -> RtpSettings:
        sip = info.data.get("sip")
        if "host" in rtp.model_fields_set or sip is None:
            return rtp
        return rtp.model_copy(update={"host": sip.advertise})

    def with_source(self, source: str) -> Settings:
        """A copy labelled with `source` (the file the values came from)."""
        copy = self.model_copy()
        copy._source = source
        return copy

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        yield "source", self._source
        yield from super().__repr_args__()
