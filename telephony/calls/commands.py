"""Commands the call engine asks the executor to carry out, and media events that come back.

Commands are imperative (``OpenMedia``); events are past tense (``MediaTimedOut``). SIP bytes are
not commands: they leave through the transaction layer's output queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "AnalyzeAudio",
    "AudioClassified",
    "AudioRecorded",
    "RecordAudio",
    "StopAudioRecording",
    "CloseListen",
    "CloseMedia",
    "Command",
    "ConnectMedia",
    "DigitDetected",
    "ListenFailed",
    "PlayAudio",
    "PlaybackFinished",
    "StopAudio",
    "StopRecording",
    "MediaEvent",
    "MediaFailed",
    "MediaTimedOut",
    "OpenListen",
    "OpenMedia",
    "Publish",
    "SetListenPeer",
    "SetMediaPeer",
    "Side",
    "StartRecording",
    "WriteCallAnswered",
    "WriteCallEnded",
    "WriteCallStarted",
    "WriteCallSurvey",
    "WriteCallVariables",
]


class Side(Enum):
    """Which party a media leg carries; the recording puts the customer left, the seat right."""

    CUSTOMER = "customer"
    SEAT = "seat"


@dataclass(frozen=True, slots=True)
class OpenMedia:
    """Bind the two RTP ports (and their RTCP ports + 1) of a call's relay.

    With ``hosted``, that side is not bridged yet: callfloor hosts it (IVR, queue) until
    :class:`ConnectMedia` bridges the two sides.
    """

    call: str
    ports: dict[Side, int]
    hosted: Side | None = None


@dataclass(frozen=True, slots=True)
class ConnectMedia:
    """Bridge the two sides (relay packets between them) or unbridge them (host them again)."""

    call: str
    connected: bool


@dataclass(frozen=True, slots=True)
class PlayAudio:
    """Play prompts (by name, back to back) to one side of an unbridged call; ``loop`` repeats."""

    call: str
    side: Side
    token: str
    prompts: tuple[str, ...]
    loop: bool = False


@dataclass(frozen=True, slots=True)
class StopAudio:
    """Stop what plays to ``side`` (silence follows; the stopped token is not reported)."""

    call: str
    side: Side


@dataclass(frozen=True, slots=True)
class RecordAudio:
    """Record what ``side`` says into a mono WAV at ``path`` (relative to the recordings
    directory), for at most ``max_seconds`` (a voice message)."""

    call: str
    side: Side
    token: str
    path: str
    max_seconds: float


@dataclass(frozen=True, slots=True)
class StopAudioRecording:
    """End :class:`RecordAudio` early; :class:`AudioRecorded` follows."""

    call: str
    side: Side


@dataclass(frozen=True, slots=True)
class AnalyzeAudio:
    """Feed what ``side`` says (decoded, from now on) to an audio classifier, such as the
    answering-machine detector, for at most ``max_seconds``; one :class:`AudioClassified` follows."""

    call: str
    side: Side
    token: str
    max_seconds: float


@dataclass(frozen=True, slots=True)
class StopRecording:
    """Finish the call's WAV now (the bridged part is over; the caller may stay, e.g. a survey)."""

    call: str


@dataclass(frozen=True, slots=True)
class SetMediaPeer:
    """Where to send one side's media until latching learns its real address (RFC 3264 answer).

    ``audio_pt``/``event_pt`` are the payload types this side expects, so the relay can rewrite the
    other side's packets; ``sends`` says whether the side is expected to send RTP (not on hold),
    which arms the dead-media watchdog.
    """

    call: str
    side: Side
    host: str
    port: int
    codec: str
    audio_pt: int
    event_pt: int | None
    sends: bool = True


@dataclass(frozen=True, slots=True)
class StartRecording:
    """Start the stereo recording at ``path`` (relative to the recordings directory)."""

    call: str
    path: str


@dataclass(frozen=True, slots=True)
class CloseMedia:
    """Stop relaying, finish the recording and release the ports."""

    call: str


@dataclass(frozen=True, slots=True)
class OpenListen:
    """Bind the RTP port (and its RTCP port + 1) of listen leg ``listen`` on bridged ``call``: a
    team lead's phone that will hear both sides of ``call`` mixed (telephony.calls.listen)."""

    listen: str
    call: str
    port: int


@dataclass(frozen=True, slots=True)
class SetListenPeer:
    """Where the listener's phone takes its audio (until latching knows better), in which G.711
    law and payload type; the mix starts flowing to it."""

    listen: str
    host: str
    port: int
    codec: str
    audio_pt: int


@dataclass(frozen=True, slots=True)
class CloseListen:
    """Stop the listener's mix and close its ports; the monitored call is not touched."""

    listen: str


@dataclass(frozen=True, slots=True)
class WriteCallStarted:
    """Insert the call-detail row as soon as a call is offered (status 'active')."""

    uuid: str
    sip_call_id: str
    direction: str
    caller: str
    callee: str
    did: str
    seat_id: str | None
    started_at: float
    recording_path: str | None = None


@dataclass(frozen=True, slots=True)
class WriteCallAnswered:
    """Mark the row answered (talk time starts)."""

    uuid: str
    answered_at: float
    seat_id: str | None


@dataclass(frozen=True, slots=True)
class WriteCallEnded:
    """Close the row with how the call ended."""

    uuid: str
    ended_at: float
    reason: str
    sip_status: int | None = None
    hangup_by: str | None = None


@dataclass(frozen=True, slots=True)
class WriteCallVariables:
    """Keep the call's variables (set by the IVR) with its record."""

    uuid: str
    variables: dict[str, str]


@dataclass(frozen=True, slots=True)
class WriteCallSurvey:
    """Keep the caller's post-call survey score with the call's record."""

    uuid: str
    score: int
    scale: int = 5


@dataclass(frozen=True, slots=True)
class Publish:
    """Publish an event on the bus (and keep it in the event log when ``store``)."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    store: bool = False


Command = (
    OpenMedia
    | ConnectMedia
    | PlayAudio
    | StopAudio
    | RecordAudio
    | StopAudioRecording
    | AnalyzeAudio
    | StopRecording
    | SetMediaPeer
    | StartRecording
    | CloseMedia
    | OpenListen
    | SetListenPeer
    | CloseListen
    | WriteCallStarted
    | WriteCallAnswered
    | WriteCallEnded
    | WriteCallVariables
    | WriteCallSurvey
    | Publish
)


@dataclass(frozen=True, slots=True)
class MediaTimedOut:
    """No RTP arrived from ``side`` for the media timeout."""

    call: str
    side: Side


@dataclass(frozen=True, slots=True)
class MediaFailed:
    """The relay could not be set up (e.g. a port could not be bound)."""

    call: str
    reason: str


@dataclass(frozen=True, slots=True)
class PlaybackFinished:
    """What :class:`PlayAudio` started under ``token`` has played to the end."""

    call: str
    side: Side
    token: str


@dataclass(frozen=True, slots=True)
class DigitDetected:
    """A DTMF digit from a hosted side: ``source`` is "rfc4733" or "inband"."""

    call: str
    side: Side
    digit: str
    source: str


@dataclass(frozen=True, slots=True)
class AudioRecorded:
    """A :class:`RecordAudio` ended (length reached, stopped, or the call ended)."""

    call: str
    side: Side
    token: str
    path: str
    seconds: float


@dataclass(frozen=True, slots=True)
class AudioClassified:
    """The verdict of an :class:`AnalyzeAudio` ("human", "machine", or "unknown" when nothing could
    listen), with the classifier's own figures in ``detail``."""

    call: str
    token: str
    verdict: str
    detail: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ListenFailed:
    """A listen leg's media could not be set up (its port could not be bound)."""

    call: str
    listen: str
    reason: str


MediaEvent = (
    MediaTimedOut | MediaFailed | PlaybackFinished | DigitDetected | AudioRecorded | AudioClassified
    | ListenFailed
)
