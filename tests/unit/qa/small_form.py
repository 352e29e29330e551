"""A small form whose scores are easy to work out by hand (shared by the QA tests)."""

from __future__ import annotations

from typing import Any

SMALL: dict[str, Any] = {
    "id": "t",
    "version": 2,
    "title": {"en": "Test form", "zh": "测试表"},
    "sections": [
        {"id": "a", "title": {"en": "A"}, "weight": 60, "items": [
            {"id": "a1", "label": {"en": "a one"}, "weight": 1},
            {"id": "a2", "label": {"en": "a two"}, "type": "scale", "min": 1, "max": 5, "weight": 3, "na": True},
        ]},
        {"id": "b", "title": {"en": "B"}, "weight": 40, "items": [
            {"id": "b1", "label": {"en": "b one"}, "na": True},
            {"id": "b2", "label": {"en": "b two"}},
        ]},
        {"id": "v", "title": {"en": "Veto", "zh": "否决项"}, "weight": 0, "items": [
            {"id": "v1", "label": {"en": "no abuse"}, "veto": True, "weight": 0},
        ]},
    ],
}
