"""Build `Settings` from a TOML file plus `CALLFLOOR_` environment overrides.

The merge is done here rather than by pydantic-settings' own sources so that every error
names where the bad value came from: the file and key path, or the environment variable.
"""

from __future__ import annotations

import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, RootModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from callfloor.settings.models import Settings

__all__ = ["ENV_PREFIX", "CONFIG_ENV", "ConfigError", "describe_env", "host_warnings",
           "kernel_ephemeral_ports", "load_settings", "read_toml"]

ENV_PREFIX = "CALLFLOOR_"
CONFIG_ENV = "CALLFLOOR_CONFIG"  # the file to load when no path is given; not a setting
_DELIM = "__"

KeyPath = tuple[str | int, ...]
EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")


class ConfigError(Exception):
    """Bad configuration; each line of the message names the file or variable and the key path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (TOML; None: the file named by CALLFLOOR_CONFIG, or none), then apply env."""
    env = os.environ if environ is None else environ
    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    source = str(path) if path is not None else "<defaults>"
    data = read_toml(path) if path is not None else {}
    overrides, origins = _env_overrides(env)
    _merge(data, overrides)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, source, origins)) from None
    return settings.with_source(source)


def kernel_ephemeral_ports(path: Path | None = None) -> tuple[int, int] | None:
    """The kernel's ephemeral port range ("32768\t60999" in ``EPHEMERAL_PORTS``), or None
    where it cannot be read."""
    try:
        low, high = (int(part) for part in (path or EPHEMERAL_PORTS).read_text().split())
    except (OSError, ValueError):
        return None
    return low, high


def host_warnings(settings: Settings, ephemeral: Path | None = None) -> list[str]:
    """What in valid settings may still fail on this host (logged at start, printed by check-config)."""
    warning = settings.rtp.ephemeral_warning(kernel_ephemeral_ports(ephemeral))
    return [warning] if warning else []


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's table; ``ConfigError`` names the file when it cannot be read or parsed."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts "(at line N, column M)" in the message itself.
        raise ConfigError([f"{path}: TOML syntax error: {exc}"]) from None


def _unwrap(annotation: Any) -> Any:
    """Strip `X | None` down to X."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_structured(annotation: Any) -> bool:
    """Lists, tables and sections are given as JSON in the environment."""
    return _is_model(annotation) or typing.get_origin(annotation) in (tuple, list, dict)


def _field_for(model: type[BaseModel], key: str) -> FieldInfo | None:
    fields = model.model_fields
    return fields.get(key) if not issubclass(model, RootModel) else None


def _env_overrides(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[KeyPath, str]]:
    """Turn CALLFLOOR_A__B=v into {"a": {"b": v}}; remember which variable set which key path."""
    overrides: dict[str, Any] = {}
    origins: dict[KeyPath, str] = {}
    problems: list[str] = []
    for name in sorted(env):
        if not name.upper().startswith(ENV_PREFIX) or name.upper() == CONFIG_ENV:
            continue
        raw = env[name]
        try:
            keys, value = _env_value(name, raw)
        except ValueError as exc:
            problems.append(f"environment {name}: {exc}")
            continue
        node = overrides
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[keys[-1]] = value
        origins[tuple(keys)] = name
    if problems:
        raise ConfigError(problems)
    return overrides, origins


def _env_value(name: str, raw: str) -> tuple[list[str], Any]:
    """Resolve one variable to its key path and value, walking the models to learn the type."""
    parts = name[len(ENV_PREFIX):].split(_DELIM)
    keys: list[str] = []
    model: type[BaseModel] | None = Settings
    annotation: Any = Settings
    for part in parts:
        key = part.lower()
        if model is not None and issubclass(model, RootModel):
            keys.append(part)  # a table key (a DID in [routes]): keep it as written
            annotation, model = str, None
            continue
        field = _field_for(model, key) if model is not None else None
        if field is None:
            dotted = ".".join([*keys, key])
            raise ValueError(f"unknown key {dotted} (check the spelling; see describe_env)")
        keys.append(key)
        annotation = _unwrap(field.annotation)
        model = annotation if _is_model(annotation) else None
    if not _is_structured(annotation):
        return keys, raw
    try:
        return keys, json.loads(raw)
    except json.JSONDecodeError as exc:
        if raw.lstrip()[:1] in ("[", "{"):
            raise ValueError(f"{'.'.join(keys)}: invalid JSON: {exc}") from None
        return keys, raw  # e.g. rtp.ports = "20000-30000"; the field validates the text


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    """Deep-merge `overrides` into `base`; lists and scalars are replaced whole."""
    for key, value in overrides.items():
        current = base.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _merge(current, value)
        else:
            base[key] = value


def _format_loc(loc: KeyPath) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_MESSAGES = {
    "extra_forbidden": "unknown key (check the spelling)",
    "missing": "required key is missing",
}


def _explain(exc: ValidationError, source: str, origins: Mapping[KeyPath, str]) -> list[str]:
    found: list[tuple[KeyPath, str]] = []
    for error in exc.errors():
        # Tags pydantic adds for unions and validators (e.g. "function-after[...]") are no keys.
        loc: KeyPath = tuple(p for p in error["loc"] if isinstance(p, int) or "[" not in p)
        message = _MESSAGES.get(error["type"], error["msg"]).removeprefix("Value error, ")
        found.append((loc, message))
    problems = []
    for loc, message in found:
        if any(len(other) > len(loc) and other[: len(loc)] == loc for other, _ in found):
            continue  # a deeper error says it better ("item 0 is bad" beats "too few items")
        problems.append(f"{_origin(loc, source, origins)}: {_format_loc(loc) or '(top level)'}: {message}")
    return problems


def _origin(loc: KeyPath, source: str, origins: Mapping[KeyPath, str]) -> str:
    """The variable that set `loc`, a table holding it or a key inside it; else the file."""
    for size in range(len(loc), 0, -1):
        if loc[:size] in origins:
            return f"environment {origins[loc[:size]]}"
    for path, name in origins.items():
        if loc and path[: len(loc)] == loc:
            return f"environment {name}"
    return source


def _env_rows(model: type[BaseModel], prefix: str, out: dict[str, str]) -> None:
    for key, field in model.model_fields.items():
        name = f"{prefix}{key.upper()}"
        annotation = _unwrap(field.annotation)
        description = field.description or ""
        if _is_model(annotation) and not issubclass(annotation, RootModel):
            out[name] = f"{description} (the whole section as JSON)"
            _env_rows(annotation, name + _DELIM, out)
            continue
        default = _default_text(field)
        how = " (JSON)" if _is_structured(annotation) else ""
        out[name] = f"{description}{how}{default}"


def _default_text(field: FieldInfo) -> str:
    if field.default is PydanticUndefined or field.default_factory is not None:
        return ""
    value = field.default
    if value is None or value == ():
        return ""
    text = str(value) if isinstance(value, str | Path) else json.dumps(value)
    return f" [default: {text}]"


def describe_env() -> dict[str, str]:
    """Every environment variable load_settings understands, name -> one-line description."""
    out: dict[str, str] = {CONFIG_ENV: "TOML file to load when no --config path is given."}
    _env_rows(Settings, ENV_PREFIX, out)
    return out
