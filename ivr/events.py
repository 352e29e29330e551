"""Events the IVR session is given (past tense, frozen): what happened to the call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CallerHungUp",
    "DigitReceived",
    "DigitSource",
    "IvrEvent",
    "PlaybackFinished",
    "QueueOutcome",
    "RecordingFinished",
    "SeatHungUp",
    "TransferOutcome",
]

DigitSource = Literal["rfc4733", "info", "inband"]


@dataclass(frozen=True)
class PlaybackFinished:
    """The prompts of ``Play(token)`` have all been played (not sent after ``StopPlayback``)."""

    token: str


@dataclass(frozen=True)
class DigitReceived:
    """The caller pressed a key: RFC 4733 telephone-event, SIP INFO, or an in-band tone."""

    digit: str
    source: DigitSource = "rfc4733"


@dataclass(frozen=True)
class RecordingFinished:
    """``Record(token)`` ended (max length, ``StopRecording`` or hang-up); the file is closed."""

    token: str
    path: str
    seconds: float


@dataclass(frozen=True)
class QueueOutcome:
    """How ``Enqueue`` ended: "answered" (bridged to ``target``), "timeout", "overflow", ..."""

    status: str
    target: str | None = None


@dataclass(frozen=True)
class TransferOutcome:
    """How ``Transfer`` ended: "answered", "busy", "no_answer", "failed", ..."""

    status: str


@dataclass(frozen=True)
class SeatHungUp:
    """The bridged part of the call ended on the seat's side; the caller is still there."""


@dataclass(frozen=True)
class CallerHungUp:
    """The caller hung up."""


IvrEvent = (
    PlaybackFinished
    | DigitReceived
    | RecordingFinished
    | QueueOutcome
    | TransferOutcome
    | SeatHungUp
    | CallerHungUp
)
