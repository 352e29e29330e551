"""Simulated softphones and a simulated carrier: real SIP over UDP and real G.711 RTP on 127.0.0.1,
built only from callfloor's own SIP/RTP core, for ``callfloor demo`` and the benchmarks.

:class:`SimPhone` is a seat's softphone (digest REGISTER, answers and talks), :class:`SimCarrier`
the trunk (places calls to the floor's numbers, answers the calls it sends out, as a population
of :class:`SimCustomers` when given one). Both run on a :class:`SipAgent` and send media with
:class:`RtpStream` on one shared :class:`MediaClock`. ``desk.py`` is a seat's side of the HTTP
API (dispositions), ``callers.py``, ``leads.py``, ``watch.py`` and ``narration.py`` the demo's
traffic, lead lists, campaign figures and printout.
"""

from __future__ import annotations

from callfloor.sim.agent import SipAgent
from callfloor.sim.call import CallState, SimCall
from callfloor.sim.carrier import SimCarrier
from callfloor.sim.customers import Behaviour, CustomerMix, SimCustomers
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
from callfloor.sim.phone import SimPhone, auto_answer_after
from callfloor.sim.register import Registration

__all__ = [
    "AgentStats",
    "AudioSource",
    "Behaviour",
    "CallResult",
    "CallState",
    "CustomerMix",
    "EventHandler",
    "EventKind",
    "IncomingCall",
    "MediaClock",
    "OutgoingCall",
    "Registration",
    "RtpStream",
    "SimCall",
    "SimCarrier",
    "SimCustomers",
    "SimEvent",
    "SimPhone",
    "SipAgent",
    "TrafficReport",
    "answer_flow",
    "auto_answer_after",
    "talk_flow",
]
