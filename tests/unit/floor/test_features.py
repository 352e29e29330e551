"""Feature codes dialled from a softphone: the defaults, reasons, custom codes, bad input."""

from __future__ import annotations

import pytest

from floor.acd import Acd
from floor.errors import FeatureCodeError
from floor.events import SeatStateChanged
from floor.features import FeatureCodes, FeatureRequest
from floor.model import QueueConfig, SeatConfig
from floor.states import PauseReason, PresenceAction

READY, PAUSE, LOGOUT = PresenceAction.READY, PresenceAction.PAUSE, PresenceAction.LOGOUT
CODES = FeatureCodes()


@pytest.mark.parametrize("dialled, expected", [
    ("*1", FeatureRequest(READY)),
    ("*1#", FeatureRequest(READY)),
    ("*2", FeatureRequest(PAUSE)),
    ("*2 3", FeatureRequest(PAUSE, "training", "3")),
    ("*23", FeatureRequest(PAUSE, "training", "3")),
    ("*2*3", FeatureRequest(PAUSE, "training", "3")),
    ("*21#", FeatureRequest(PAUSE, "break", "1")),
    ("%2A2%2A2", FeatureRequest(PAUSE, "lunch", "2")),      # as it arrives in a Request-URI
    ("*3", FeatureRequest(LOGOUT)),
    (" *3 ", FeatureRequest(LOGOUT)),
])
def test_default_codes(dialled: str, expected: FeatureRequest) -> None:
    assert CODES.parse(dialled) == expected


@pytest.mark.parametrize("dialled", ["1002", "915550100", "*97", "#1", "", "*"])
def test_other_numbers_are_not_feature_codes(dialled: str) -> None:
    assert CODES.parse(dialled) is None


@pytest.mark.parametrize("dialled, message", [
    ("*29", "unknown pause reason '9' .*1=break"),
    ("*2 12", "unknown pause reason '12'"),
    ("*12", r"\*1 takes no argument"),
    ("*3 4", r"\*3 takes no argument"),
])
def test_bad_arguments_are_errors(dialled: str, message: str) -> None:
    with pytest.raises(FeatureCodeError, match=message):
        CODES.parse(dialled)


def test_custom_codes_and_longest_match() -> None:
    codes = FeatureCodes(ready="*41", pause="*4", logout="#9",
                         reasons=(PauseReason("7", "toilet"), PauseReason("11", "training")))
    assert codes.parse("*41") == FeatureRequest(READY)           # not "*4" with reason "1"
    assert codes.parse("*47") == FeatureRequest(PAUSE, "toilet", "7")
    assert codes.parse("*4 11") == FeatureRequest(PAUSE, "training", "11")
    assert codes.parse("#9") == FeatureRequest(LOGOUT)
    assert codes.parse("*1") is None


@pytest.mark.parametrize("kwargs, message", [
    ({"ready": "1"}, "must start with"),
    ({"pause": "*1"}, "must differ"),
    ({"logout": "*3a"}, "must start with"),
    ({"reasons": (PauseReason("1", "a"), PauseReason("1", "b"))}, "distinct"),
    ({"reasons": (PauseReason("x", "a"),)}, "distinct digit"),
])
def test_bad_configuration(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(FeatureCodeError, match=message):
        FeatureCodes(**kwargs)  # type: ignore[arg-type]


def test_a_dialled_code_drives_the_seat_presence() -> None:
    acd = Acd([QueueConfig("q")], [SeatConfig("1001", queues=("q",))], now=0.0)
    acd.seat_reachable("1001", True, 0.0)
    changes = []
    for at, dialled in enumerate(("*1", "*2 3", "*3"), 1):
        request = CODES.parse(dialled)
        assert request is not None
        out = acd.set_presence("1001", request.action, float(at), reason=request.reason)
        changes += [(c.presence.value, c.reason, c.by) for c in out if isinstance(c, SeatStateChanged)]
    assert changes == [("ready", None, "seat"), ("paused", "training", "seat"), ("logged-out", None, "seat")]
