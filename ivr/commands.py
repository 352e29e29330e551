"""Commands the IVR session gives the executor (imperative, frozen); results come back as events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Answer",
    "ArmSurvey",
    "CallbackRequested",
    "Enqueue",
    "FlowFinished",
    "Hangup",
    "IvrCommand",
    "Play",
    "Record",
    "StopPlayback",
    "StopRecording",
    "StoreSurvey",
    "StoreVariables",
    "Transfer",
    "VoicemailLeft",
]


@dataclass(frozen=True)
class Answer:
    """Answer the call (200 OK) if it is not answered yet."""


@dataclass(frozen=True)
class Play:
    """Play the prompts back to back, then report ``PlaybackFinished(token)``.

    ``interruptible``: the session answers the first digit with ``StopPlayback``.
    """

    token: str
    prompts: tuple[str, ...]
    interruptible: bool = False


@dataclass(frozen=True)
class StopPlayback:
    """Stop ``Play(token)`` now; no ``PlaybackFinished`` is expected for it."""

    token: str


@dataclass(frozen=True)
class Record:
    """Record the caller (after a beep when ``beep``), at most ``max_seconds``."""

    token: str
    max_seconds: float
    beep: bool = True


@dataclass(frozen=True)
class StopRecording:
    """Stop ``Record(token)``; ``RecordingFinished(token)`` follows."""

    token: str


@dataclass(frozen=True)
class Enqueue:
    """Put the caller in an ACD queue; ``QueueOutcome`` follows."""

    queue: str
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Transfer:
    """Connect the caller to a seat or an outside number; ``TransferOutcome`` follows."""

    kind: Literal["seat", "number"]
    target: str
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreVariables:
    """These call variables changed; they travel with the call to the seat and the record."""

    variables: Mapping[str, str]


@dataclass(frozen=True)
class ArmSurvey:
    """When the seat hangs up, keep the caller: the session resumes at ``step`` (a survey)."""

    step: str


@dataclass(frozen=True)
class StoreSurvey:
    """The caller rated the call ``score`` out of ``scale``; store it with the call."""

    score: int
    scale: int = 5


@dataclass(frozen=True)
class CallbackRequested:
    """Create a callback task: call ``number`` back."""

    number: str
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VoicemailLeft:
    """A voice message was recorded for ``mailbox``."""

    mailbox: str
    path: str
    seconds: float
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hangup:
    """End the call towards the caller."""

    reason: str


@dataclass(frozen=True)
class FlowFinished:
    """The session is over: ``outcome`` ("hangup", "completed", "caller_hangup", "error"),
    at ``step``."""

    outcome: str
    step: str


IvrCommand = (
    Answer
    | Play
    | StopPlayback
    | Record
    | StopRecording
    | Enqueue
    | Transfer
    | StoreVariables
    | ArmSurvey
    | StoreSurvey
    | CallbackRequested
    | VoicemailLeft
    | Hangup
    | FlowFinished
)
