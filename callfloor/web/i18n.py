"""The pages' words in English and Simplified Chinese.

Catalogs are TOML files ``callfloor/web/locales/<area>.<lang>.toml`` (``common``, and one per
page area, e.g. ``monitor``); nested tables become dotted keys (``[role] lead = ...`` is
``role.lead``). ``translate`` falls back to English for a key a language lacks, and to the key
itself for a key nobody has; a unit test keeps the catalogs complete.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "LOCALES_DIR",
    "CatalogError",
    "catalog",
    "load_catalogs",
    "missing_keys",
    "negotiate",
    "normalise_lang",
    "translate",
]

LANGS = ("en", "zh")
DEFAULT_LANG = "en"
LOCALES_DIR = Path(__file__).with_name("locales")
_FILE = re.compile(r"^([a-z0-9_-]+)\.([a-z]{2})\.toml$")


class CatalogError(ValueError):
    """A catalog file that cannot be used; the message names the file and key."""


class _Keep(dict[str, Any]):
    """Format parameters that leave an unknown ``{name}`` as it is instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _flatten(table: dict[str, Any], path: Path, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, path, f"{full}."))
        elif isinstance(value, str):
            out[full] = value
        else:
            raise CatalogError(f"{path}: {full}: a translation is a string, not {type(value).__name__}")
    return out


def load_catalogs(folder: Path = LOCALES_DIR) -> dict[str, dict[str, str]]:
    """Every catalog file of ``folder`` merged per language; a key in two files is refused."""
    catalogs: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    owner: dict[tuple[str, str], Path] = {}
    for path in sorted(folder.glob("*.toml")):
        match = _FILE.match(path.name)
        if match is None or match.group(2) not in LANGS:
            raise CatalogError(f"{path}: catalog files are named <area>.<lang>.toml, lang one of {LANGS}")
        lang = match.group(2)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise CatalogError(f"{path}: {exc}") from exc
        for key, text in _flatten(data, path).items():
            if (lang, key) in owner:
                raise CatalogError(f"{path}: {key} is also defined in {owner[lang, key].name}")
            owner[lang, key] = path
            catalogs[lang][key] = text
    return catalogs


@functools.cache
def _catalogs() -> dict[str, dict[str, str]]:
    return load_catalogs()


def normalise_lang(value: str | None) -> str | None:
    """``"zh-CN"``, ``"zh-Hans"``, ``"ZH"`` -> ``"zh"``; ``"en-GB"`` -> ``"en"``; others -> None."""
    if not value:
        return None
    base = value.strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGS else None


def negotiate(accept_language: str | None) -> str:
    """The language to use for a browser's ``Accept-Language`` (RFC 9110 §12.5.4), else English."""
    best, best_q = DEFAULT_LANG, 0.0
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        lang = normalise_lang(tag)
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        q -= position * 1e-6  # equal weights: the earlier one wins
        if lang is not None and q > best_q:
            best, best_q = lang, q
    return best


def catalog(lang: str) -> dict[str, str]:
    """Every key in ``lang``, English where ``lang`` lacks one (for a page's JavaScript)."""
    found = _catalogs()
    return {**found[DEFAULT_LANG], **found.get(normalise_lang(lang) or DEFAULT_LANG, {})}


def translate(lang: str, key: str, **params: Any) -> str:
    """The text of ``key`` in ``lang`` with ``{name}`` filled from ``params``."""
    found = _catalogs()
    text = found.get(normalise_lang(lang) or DEFAULT_LANG, {}).get(key)
    if text is None:
        text = found[DEFAULT_LANG].get(key, key)
    if not params:
        return text
    try:
        return text.format_map(_Keep(params))
    except (ValueError, IndexError):  # a stray brace in a translation: show it unfilled
        return text


def missing_keys(lang: str, folder: Path = LOCALES_DIR) -> list[str]:
    """English keys that ``lang`` does not translate, sorted."""
    found = load_catalogs(folder)
    return sorted(set(found[DEFAULT_LANG]) - set(found[lang]))
