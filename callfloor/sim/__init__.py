"""Simulated softphones and a simulated carrier: real SIP over UDP and real G.711 RTP on 127.0.0.1,
built only from callfloor's own SIP/RTP core, for ``callfloor demo`` and the benchmarks.

:class:`SimPhone` is a seat's softphone (digest REGISTER, answers and talks), :class:`SimCarrier`
the trunk (places calls to the floor's numbers, answers the calls it sends out). Both run on a
:class:`SipAgent` and send media with :class:`RtpStream` on one shared :class:`MediaClock`.
"""

from __future__ import annotations

from callfloor.sim.agent import SipAgent
from callfloor.sim.call import CallState, SimCall
from callfloor.sim.carrier import SimCarrier
from callfloor.sim.events import (
    AgentStats,
    CallResult,
    EventHandler,
    EventKind,
    SimEvent,
    TrafficReport,
)
from callfloor.sim.incoming import IncomingCall, answer_flow
from callfloor.sim.media import AudioSource, MediaClock, RtpStream
from callfloor.sim.outgoing import OutgoingCall, talk_flow
from callfloor.sim.phone import SimPhone
from callfloor.sim.register import Registration

__all__ = [
    "AgentStats",
    "AudioSource",
    "CallResult",
    "CallState",
    "EventHandler",
    "EventKind",
    "IncomingCall",
    "MediaClock",
    "OutgoingCall",
    "Registration",
    "RtpStream",
    "SimCall",
    "SimCarrier",
    "SimEvent",
    "SimPhone",
    "SipAgent",
    "TrafficReport",
    "answer_flow",
    "talk_flow",
]
