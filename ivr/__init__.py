"""The IVR: inbound call flows as validated TOML data, one small pure handler per verb.

``load_flows(directory)`` reads and checks every flow (``FlowError`` names file and key);
``FlowSet.for_number(did)`` picks the flow of a dialled number; ``IvrSession`` runs one call
through it: events in, commands out, ``now`` passed in. Prompts are decoded once at load into
8 kHz int16 PCM (``FlowSet.prompts.pcm(name)``).
"""

from __future__ import annotations

from ivr.commands import (
    Answer,
    ArmSurvey,
    CallbackRequested,
    Enqueue,
    FlowFinished,
    Hangup,
    IvrCommand,
    Play,
    Record,
    StopPlayback,
    StopRecording,
    StoreSurvey,
    StoreVariables,
    Transfer,
    VoicemailLeft,
)
from ivr.context import CallInfo, CustomerLookup
from ivr.events import (
    CallerHungUp,
    DigitReceived,
    DigitSource,
    IvrEvent,
    PlaybackFinished,
    QueueOutcome,
    RecordingFinished,
    SeatHungUp,
    TransferOutcome,
)
from ivr.flow import Flow, Step
from ivr.hours import BusinessHours, HoursError
from ivr.loader import FlowError, FlowSet, load_flow, load_flows
from ivr.prompts import PromptError, PromptLibrary, queue_announcement
from ivr.session import IvrSession, SessionError, SessionState

__all__ = [
    "Answer",
    "ArmSurvey",
    "BusinessHours",
    "CallInfo",
    "CallbackRequested",
    "CallerHungUp",
    "CustomerLookup",
    "DigitReceived",
    "DigitSource",
    "Enqueue",
    "Flow",
    "FlowError",
    "FlowFinished",
    "FlowSet",
    "Hangup",
    "HoursError",
    "IvrCommand",
    "IvrEvent",
    "IvrSession",
    "Play",
    "PlaybackFinished",
    "PromptError",
    "PromptLibrary",
    "QueueOutcome",
    "Record",
    "RecordingFinished",
    "SeatHungUp",
    "SessionError",
    "SessionState",
    "Step",
    "StopPlayback",
    "StopRecording",
    "StoreSurvey",
    "StoreVariables",
    "Transfer",
    "TransferOutcome",
    "VoicemailLeft",
    "load_flow",
    "load_flows",
    "queue_announcement",
]
