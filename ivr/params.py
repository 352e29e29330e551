"""Typed reading of one step's TOML table: every value checked, every unknown key refused.

A verb's ``parse`` asks the reader for its parameters; the reader records the step's exits
(next step names) and what the step refers to (prompts, queues, seats), so the loader can check
them against the flow and the configuration. Errors are ``StepError`` with the key path inside
the flow file; the loader adds the file name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "DTMF_KEYS",
    "NAME_RE",
    "ParamReader",
    "Ref",
    "StepError",
    "check_template",
    "keypath",
]

DTMF_KEYS = "0123456789*#ABCD"
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_MISSING: Any = object()

RefKind = Literal["prompt", "queue", "seat"]


class StepError(Exception):
    """A bad value in a flow file; ``key`` is the dotted key path ("steps.menu.timeout")."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


@dataclass(frozen=True)
class Ref:
    """Something a step names that must exist outside the flow: a prompt, a queue or a seat."""

    kind: RefKind
    key: str
    name: str


def keypath(*parts: str | int) -> str:
    """Join key parts as in the error messages: ``steps.menu.options.3``, ``numbers[0]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def check_template(text: str) -> str | None:
    """Why ``text`` is not a valid ``{variable}`` template, or None when it is."""
    for match in _PLACEHOLDER.finditer(text):
        if not NAME_RE.match(match.group(1)):
            return f"{{{match.group(1)}}} is not a variable name"
    if "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text):
        return "has an unbalanced { or }"
    return None


def _type_name(value: object) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


class ParamReader:
    """Reads one step table; call ``finish()`` last to refuse keys nobody asked for."""

    def __init__(self, table: Mapping[str, Any], where: str) -> None:
        self.table = table
        self.where = where
        self.exits: dict[str, str] = {}
        self.refs: list[Ref] = []
        self._used: set[str] = {"verb"}

    def key(self, *parts: str | int) -> str:
        """The full key path of a parameter of this step."""
        return keypath(self.where, *parts)

    def error(self, message: str, *parts: str | int) -> StepError:
        """An error about a parameter (or the step itself when no parts are given)."""
        return StepError(self.key(*parts), message)

    def _get(self, key: str, default: Any, kinds: tuple[type, ...], what: str) -> Any:
        self._used.add(key)
        if key not in self.table:
            if default is _MISSING:
                raise self.error(f"missing ({what} is required)", key)
            return default
        value = self.table[key]
        # bool is an int in Python, but `retries = true` is a mistake, not 1.
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.error(f"must be {what}, not {_type_name(value)}", key)
        return value

    def text(self, key: str, default: Any = _MISSING, *, template: bool = False) -> str:
        """A string; with ``template`` its ``{variable}`` placeholders are checked."""
        value: str = self._get(key, default, (str,), "a string")
        if template and (problem := check_template(value)):
            raise self.error(problem, key)
        return value

    def name(self, key: str, default: Any = _MISSING) -> str:
        """A variable or branch name (letters, digits, underscore)."""
        value = self.text(key, default)
        if value and not NAME_RE.match(value):
            raise self.error(f"{value!r} is not a name (letters, digits, _)", key)
        return value

    def integer(self, key: str, default: Any = _MISSING, lo: int = 0, hi: int = 10**6) -> int:
        """An integer within [lo, hi]."""
        value: int = self._get(key, default, (int,), "an integer")
        if not lo <= value <= hi:
            raise self.error(f"{value} is out of range {lo}..{hi}", key)
        return value

    def number(self, key: str, default: Any = _MISSING, lo: float = 0.0, hi: float = 3600.0) -> float:
        """A number of seconds (integer or float) within [lo, hi]."""
        value = self._get(key, default, (int, float), "a number")
        if not lo <= value <= hi:
            raise self.error(f"{value} is out of range {lo:g}..{hi:g}", key)
        return float(value)

    def flag(self, key: str, default: Any = _MISSING) -> bool:
        """A boolean."""
        value: bool = self._get(key, default, (bool,), "true or false")
        return value

    def texts(self, key: str, default: Any = _MISSING) -> tuple[str, ...]:
        """A list of strings (a single string counts as a list of one)."""
        value = self._get(key, default, (list, str, tuple), "a list of strings")
        items = [value] if isinstance(value, str) else list(value)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise self.error(f"must be a string, not {_type_name(item)}", key, i)
        return tuple(items)

    def table_of(self, key: str, default: Any = _MISSING) -> dict[str, Any]:
        """A sub-table, as a plain dict."""
        value: dict[str, Any] = self._get(key, default, (dict,), "a table")
        return dict(value)

    def prompts(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        """Prompt names (one string or a list); each is recorded for the loader to find."""
        names = self.texts(key, _MISSING if required else ())
        if required and not names:
            raise self.error("needs at least one prompt", key)
        single = isinstance(self.table.get(key), str)
        for i, name in enumerate(names):
            self.prompt_ref(name, *((key,) if single else (key, i)))
        return names

    def prompt(self, key: str) -> str | None:
        """One optional prompt name."""
        value = self.text(key, None)
        if value is not None:
            self.prompt_ref(value, key)
        return value

    def prompt_ref(self, name: str, *parts: str | int) -> None:
        """Record a prompt this step plays (``parts``: its key path inside the step)."""
        self.refs.append(Ref("prompt", self.key(*parts), name))

    def exit(self, key: str, *, required: bool = True) -> str | None:
        """A next-step name, recorded as the step's exit ``key``."""
        target: str | None = self._get(key, _MISSING if required else None, (str,), "a step name")
        if target is not None:
            self.exits[key] = target
        return target

    def ref(self, kind: RefKind, key: str, name: str) -> None:
        """Record a queue or seat name for the loader to check against the configuration."""
        self.refs.append(Ref(kind, self.key(key), name))

    def finish(self) -> None:
        """Refuse any key that no parameter read."""
        for key in self.table:
            if key not in self._used:
                raise self.error("unknown key for verb " + repr(self.table.get("verb")), key)
