"""callfloor settings: nested pydantic models built from TOML plus `CALLFLOOR_` environment variables.

`load_settings(path, environ)` is the one way in; every error is a `ConfigError` whose lines
name the file (or environment variable) and the key path. Reference: docs/configuration.md.
"""

from __future__ import annotations

from callfloor.settings.loader import (
    CONFIG_ENV,
    ENV_PREFIX,
    ConfigError,
    describe_env,
    host_warnings,
    load_settings,
)
from callfloor.settings.models import RoutesSettings, Settings
from callfloor.settings.sections import (
    BusSettings,
    GuardSettings,
    HttpSettings,
    LogSettings,
    RtpSettings,
    SeatSettings,
    SipSettings,
    StorageSettings,
    TrunkSettings,
)
from callfloor.settings.types import MqttEndpoint, parse_mqtt_url, split_host_port

__all__ = [
    "CONFIG_ENV",
    "ENV_PREFIX",
    "BusSettings",
    "ConfigError",
    "GuardSettings",
    "HttpSettings",
    "LogSettings",
    "MqttEndpoint",
    "RoutesSettings",
    "RtpSettings",
    "SeatSettings",
    "Settings",
    "SipSettings",
    "StorageSettings",
    "TrunkSettings",
    "describe_env",
    "host_warnings",
    "load_settings",
    "parse_mqtt_url",
    "split_host_port",
]
