"""The recordings archive (`[archive]`): where FLACs go, when, and how long each class is kept."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from callfloor.settings.sections import Section, StorageSettings

__all__ = ["FOREVER", "ArchiveSettings"]

FOREVER: Literal["forever"] = "forever"
_CLASS = r"^[a-z][a-z0-9_-]*$"
_DEFAULT_RETENTION: dict[str, int | Literal["forever"]] = {"default": 90, "dnc": 365, "complaint": FOREVER}


class ArchiveSettings(Section):
    """Archiving finished recordings to FLAC, the archive's location and retention (`[archive]`)."""

    enabled: bool = Field(default=True, description="Archive finished recordings in the service; false leaves the WAVs (the CLI still archives).")
    backend: Literal["dir", "s3"] = Field(default="dir", description="Where FLACs go: 'dir' (a local directory) or 's3' (S3-compatible object storage).")
    dir: Path | None = Field(default=None, description="Archive directory for backend 'dir'; unset: <storage.data_dir>/archive.")
    s3_endpoint: str | None = Field(default=None, description="host:port of the S3 endpoint for backend 's3', e.g. 127.0.0.1:8333.")
    s3_bucket: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="Bucket for backend 's3'.")
    s3_prefix: str = Field(default="recordings", description="Key prefix inside the bucket.")
    s3_region: str | None = Field(default=None, description="Region name sent to the S3 endpoint; unset: the endpoint's default.")
    s3_secure: bool = Field(default=True, description="Use HTTPS to the S3 endpoint.")
    s3_access_key: SecretStr | None = Field(default=None, description="S3 access key; give it in the environment (CALLFLOOR_ARCHIVE__S3_ACCESS_KEY), not the file.")
    s3_secret_key: SecretStr | None = Field(default=None, description="S3 secret key; give it in the environment (CALLFLOOR_ARCHIVE__S3_SECRET_KEY), not the file.")
    after: float = Field(default=300.0, ge=0, description="Seconds after a call ends before its recording is archived (room for the disposition and wrap-up).")
    interval: float = Field(default=60.0, gt=0, description="Seconds between two looks for recordings to archive.")
    batch: int = Field(default=50, ge=1, description="Most recordings archived per look.")
    retention_interval: float = Field(default=3600.0, gt=0, description="Seconds between two runs of the retention job.")
    retention: dict[str, int | Literal["forever"]] = Field(
        default_factory=lambda: dict(_DEFAULT_RETENTION),
        description="Days each retention class is kept after archiving, or \"forever\"; must have 'default'. A held recording (an open complaint) is never deleted.")
    dnc_class: str = Field(default="dnc", description="Class of recordings whose call got a do-not-call disposition (when that class exists).")

    @field_validator("retention")
    @classmethod
    def _classes(cls, value: dict[str, int | str]) -> dict[str, int | str]:
        if "default" not in value:
            raise ValueError("needs a 'default' class, e.g. retention = {default = 90}")
        for name, days in value.items():
            if not re.match(_CLASS, name):
                raise ValueError(f"class name {name!r}: lower-case letters, digits, '_' and '-'")
            if isinstance(days, int) and days < 0:
                raise ValueError(f"{name}: days must not be negative, got {days}")
        return value

    @model_validator(mode="after")
    def _s3(self) -> ArchiveSettings:
        if self.backend == "s3" and not (self.s3_endpoint and self.s3_bucket):
            raise ValueError("backend 's3' needs s3_endpoint and s3_bucket")
        return self

    def directory(self, storage: StorageSettings) -> Path:
        """The archive directory of backend 'dir'."""
        return self.dir if self.dir is not None else storage.data_dir / "archive"

    def scratch(self, storage: StorageSettings) -> Path:
        """Where FLACs are encoded before they are stored (same disk as the archive for 'dir',
        so storing is a rename)."""
        if self.backend == "dir":
            return self.directory(storage) / ".staging"
        return storage.data_dir / "archive-staging"

    def keep_seconds(self, retention_class: str) -> float | None:
        """Seconds a class is kept (None: for ever); an unknown class keeps the default's."""
        days = self.retention.get(retention_class, self.retention["default"])
        return None if days == FOREVER else float(days) * 86400.0
