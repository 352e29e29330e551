"""docs/ivr.md describes every verb the loader knows."""

from __future__ import annotations

from ivr.verbs import VERBS
from tests.unit.ivr.ladder import ROOT


def test_every_verb_is_documented() -> None:
    text = (ROOT / "docs" / "ivr.md").read_text()
    for name in VERBS:
        assert f"### `{name}`" in text, name
