"""The monitor explains the watcher's decisions in the user's language: the English catalog is
the watcher's own MESSAGES, and the Chinese one has every key with the same placeholders."""

from __future__ import annotations

import re

from callfloor.web.i18n import load_catalogs
from floor.watcher import MESSAGES


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_the_watcher_messages_are_in_both_catalogs() -> None:
    catalogs = load_catalogs()
    for key, text in MESSAGES.items():
        assert catalogs["en"][key] == text, key
        assert placeholders(catalogs["zh"][key]) == placeholders(text), key
