"""The switchboard: the director that joins the call engine, the IVR and the ACD.

A call to a number a flow answers is hosted by the engine and handed here: its IVR session runs
(prompts, digits, variables), ``enqueue`` puts it in the ACD with music on hold and position
announcements, and the ACD's offers ring seats through the call. Feature codes change a seat's
presence, registrations and outside calls tell the ACD which seats can be offered calls. Every
queue event and seat state change is published and stored.

Pure like its parts: time comes in as ``now``; its timers run on the engine's timer heap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, auto
from typing import Any, Protocol

from floor.acd import Acd
from floor.errors import FeatureCodeError
from floor.eventlog import acd_record
from floor.events import (
    AcdCommand,
    Announce,
    CancelOffer,
    OfferCall,
    Overflow,
    QueueEvent,
    SeatAvailabilityChanged,
    SeatMembershipChanged,
    SeatStateChanged,
)
from floor.features import FeatureCodes
from floor.model import OverflowKind
from floor.states import PresenceAction
from ivr import commands as ic
from ivr import events as ie
from ivr.context import CallInfo, CustomerLookup
from ivr.loader import FlowSet
from ivr.prompts import queue_announcement
from ivr.session import IvrSession
from telephony.calls.commands import Command, Publish, WriteCallSurvey, WriteCallVariables
from telephony.calls.director import CallControl

__all__ = ["Switchboard", "TimerHost"]

log = logging.getLogger("callfloor.switchboard")

TRANSFER_RING = 30.0  # seconds an IVR transfer to a seat rings before it fails
VOICEMAIL_SECONDS = 120.0


class TimerHost(Protocol):
    """Where the switchboard's own timer runs (the engine's timer heap)."""

    def set_timer(self, key: Hashable, deadline: float, fn: Callable[[float], None]) -> None: ...
    def cancel_timer(self, key: Hashable) -> None: ...


class Mode(Enum):
    """Where a hosted call is in the floor."""

    IVR = auto()  # the flow talks to the caller
    QUEUE = auto()  # waiting (music on hold, announcements) or being offered to seats
    TRANSFER = auto()  # an IVR transfer rings one seat
    BRIDGED = auto()  # talking to a seat
    VOICEMAIL = auto()  # the queue overflowed to a mailbox
    FEATURE = auto()  # a seat dialled a feature code: a confirmation, then goodbye
    DONE = auto()


@dataclass
class Caller:
    """The switchboard's view of one hosted call."""

    control: CallControl
    mode: Mode = Mode.IVR
    session: IvrSession | None = None
    queue: str | None = None
    seat: str | None = None
    moh: str = "hold"
    mailbox: str | None = None
    on_end: Callable[[float], None] | None = None  # a feature code's presence change, due at the end
    on_overflow: Callable[[float], None] | None = None  # an outbound call the queue gave up on
    variables: dict[str, str] = field(default_factory=dict)


class Switchboard:
    """Implements :class:`~telephony.calls.director.Director` and the calls' observer."""

    def __init__(self, flows: FlowSet | None, acd: Acd, *, timers: TimerHost,
                 emit: Callable[[Command], None], features: FeatureCodes | None = None,
                 queue_moh: Mapping[str, str] | None = None, default_moh: str = "hold",
                 customers: CustomerLookup | None = None) -> None:
        self.flows = flows
        self.acd = acd
        self.timers = timers
        self.emit = emit
        self.features = features or FeatureCodes()
        self.queue_moh = dict(queue_moh or {})
        self.default_moh = default_moh
        self.customers = customers
        self.calls: dict[str, Caller] = {}

    # -- Director ---------------------------------------------------------------------------------
    def takes(self, number: str) -> bool:
        """Numbers a flow answers."""
        return self.flows is not None and self.flows.for_number(number) is not None

    def is_feature_code(self, dialled: str) -> bool:
        """Feature codes (a known code with a bad argument still is one: it gets an error tone)."""
        try:
            return self.features.parse(dialled) is not None
        except FeatureCodeError:
            return True

    def call_arrived(self, call: CallControl, now: float) -> None:
        """Start the number's flow."""
        assert self.flows is not None
        flow = self.flows.for_number(call.callee)
        caller = self.calls[call.uuid] = Caller(call)
        call.observe(self)
        if flow is None:
            call.hangup(now, "no flow")
            return
        self._start_flow(caller, flow.name, now)

    def feature_code(self, seat: str, dialled: str, call: CallControl, now: float) -> None:
        """A seat changes its presence from its phone; it hears a beep (or an error) and goodbye."""
        caller = self.calls[call.uuid] = Caller(call, mode=Mode.FEATURE)
        call.observe(self)
        try:
            request = self.features.parse(dialled)
        except FeatureCodeError as err:
            log.info("seat %s dialled %s: %s", seat, dialled, err)
            request = None
        if request is None:
            call.play("feature", ("invalid",), now)
            return
        action, reason = request.action, request.reason
        # Applied when the feature call is over: a seat made ready now would be offered a
        # waiting caller while its phone is still on this call.
        caller.on_end = lambda t: self._run(self.acd.set_presence(seat, action, t, reason=reason), t)
        confirm = "goodbye" if request.action is PresenceAction.LOGOUT else "beep"
        caller.control.play("feature", (confirm,), now)

    def seat_reachable(self, seat: str, reachable: bool, now: float) -> None:
        """Registrations come and go."""
        self._run(self.acd.seat_reachable(seat, reachable, now), now)

    def seat_busy(self, seat: str, busy: bool, now: float) -> None:
        """A seat on a call the ACD did not place is not offered queue calls meanwhile."""
        self._run(self.acd.seat_busy_elsewhere(seat, busy, now), now)

    def set_presence(self, seat: str, action: PresenceAction, now: float, *,
                     reason: str | None = None, by: str = "api") -> None:
        """Presence from the HTTP API (a team lead or the seat's own page)."""
        self._run(self.acd.set_presence(seat, action, now, reason=reason, by=by), now)

    def adopt(self, call: CallControl, queue: str, now: float, *, info: Mapping[str, str],
              on_overflow: Callable[[float], None]) -> None:
        """Queue a call placed by the dialer (answered by a live person) for a seat of ``queue``.

        The call's observer stays with the dialer, which forwards the seat events here; when the
        queue gives up (its ``max_wait``: the campaign's grace) ``on_overflow`` decides what the
        customer hears. No music: the customer just said hello and is connected in seconds.
        """
        caller = self.calls[call.uuid] = Caller(call, mode=Mode.QUEUE, queue=queue,
                                                on_overflow=on_overflow)
        caller.variables.update(info)
        self._run(self.acd.caller_joined(call.uuid, queue, now, info=dict(info)), now)

    # -- the calls' observer ----------------------------------------------------------------------
    def digit(self, call: CallControl, digit: str, source: str, now: float) -> None:
        """Digits only matter to a flow."""
        caller = self.calls.get(call.uuid)
        if caller is not None and caller.mode is Mode.IVR and caller.session is not None:
            src = source if source in ("rfc4733", "info", "inband") else "rfc4733"
            self._ivr(caller, caller.session.handle(ie.DigitReceived(digit, src), now), now)  # type: ignore[arg-type]

    def playback_done(self, call: CallControl, token: str, now: float) -> None:
        """A prompt ended: the flow goes on, music resumes after an announcement, and so on."""
        caller = self.calls.get(call.uuid)
        if caller is None:
            return
        if caller.mode is Mode.IVR and caller.session is not None:
            self._ivr(caller, caller.session.handle(ie.PlaybackFinished(token), now), now)
        elif caller.mode is Mode.QUEUE and token == "announce":
            call.play("moh", (caller.moh,), now, loop=True)
        elif caller.mode is Mode.FEATURE:
            self._finish(caller, "feature done", now)
        elif caller.mode is Mode.VOICEMAIL and token == "greeting":
            call.record("voicemail", VOICEMAIL_SECONDS, now)

    def recording_done(self, call: CallControl, token: str, path: str, seconds: float, now: float) -> None:
        """A voice message is on disk: the flow hears of it, or the queue's mailbox keeps it."""
        caller = self.calls.get(call.uuid)
        if caller is None:
            return
        if caller.mode is Mode.IVR and caller.session is not None:
            self._ivr(caller, caller.session.handle(ie.RecordingFinished(token, path, seconds), now), now)
        elif caller.mailbox is not None:
            self._publish("voicemail.left", now, call=call.uuid, mailbox=caller.mailbox, path=path,
                          seconds=round(seconds, 2), caller=call.caller)
            if caller.mode is Mode.VOICEMAIL:
                self._finish(caller, "voicemail", now)

    def seat_answered(self, call: CallControl, seat: str, now: float) -> None:
        """Bridged: the ACD knows, the flow waits for the seat to hang up."""
        caller = self.calls.get(call.uuid)
        if caller is None:
            return
        if caller.mode is Mode.QUEUE:
            self._run(self.acd.offer_accepted(call.uuid, seat, now), now)
            self._outcome(caller, ie.QueueOutcome("answered", seat), now)
        elif caller.mode is Mode.TRANSFER:
            call.cancel_timer("transfer")
            self._outcome(caller, ie.TransferOutcome("answered"), now)
        caller.mode, caller.seat = Mode.BRIDGED, seat

    def seat_failed(self, call: CallControl, seat: str, status: int, now: float) -> None:
        """A seat's phone refused: the ACD offers the next seat; a transfer reports back."""
        caller = self.calls.get(call.uuid)
        if caller is None:
            return
        if caller.mode is Mode.QUEUE:
            reason = "busy" if status in (486, 600) else "declined" if status == 603 else "error"
            self._run(self.acd.offer_failed(call.uuid, seat, now, reason=reason), now)
        elif caller.mode is Mode.TRANSFER:
            call.cancel_timer("transfer")
            caller.mode = Mode.IVR
            self._outcome(caller, ie.TransferOutcome("busy" if status in (486, 600) else "failed"), now)

    def seat_hung_up(self, call: CallControl, seat: str, now: float) -> bool:
        """The seat left; a flow with a survey armed keeps the caller."""
        caller = self.calls.get(call.uuid)
        if caller is None:
            return False
        if caller.queue is not None:
            self._run(self.acd.call_ended(call.uuid, seat, now), now)
        session = caller.session
        if session is None or session.finished:
            return False
        caller.mode, caller.queue, caller.seat = Mode.IVR, None, None
        commands = session.handle(ie.SeatHungUp(), now)
        keep = not any(isinstance(c, ic.Hangup) for c in commands)
        if keep:
            self._ivr(caller, commands, now)
        return keep

    def caller_gone(self, call: CallControl, reason: str, now: float) -> None:
        """The caller hung up (or the call died): take it out of the queue, end its flow."""
        caller = self.calls.pop(call.uuid, None)
        if caller is None:
            return
        if caller.mode is Mode.QUEUE:
            self._run(self.acd.caller_left(call.uuid, now), now)
        elif caller.mode is Mode.BRIDGED and caller.seat is not None and caller.queue is not None:
            self._run(self.acd.call_ended(call.uuid, caller.seat, now), now)
        if caller.session is not None and not caller.session.finished:
            self._store(caller, caller.session.handle(ie.CallerHungUp(), now), now)
        call.cancel_timer("ivr")
        call.cancel_timer("transfer")
        self._ended(caller, now)

    # -- IVR --------------------------------------------------------------------------------------
    def _start_flow(self, caller: Caller, flow_name: str, now: float) -> None:
        assert self.flows is not None
        call = caller.control
        info = CallInfo(call.uuid, call.caller, call.callee, now, dict(caller.variables))
        caller.session = IvrSession(self.flows.flows[flow_name], info, now=now, customers=self.customers)
        caller.mode = Mode.IVR
        self._ivr(caller, caller.session.start(now), now)

    def _ivr(self, caller: Caller, commands: Sequence[ic.IvrCommand], now: float) -> None:
        """Carry out what the flow asks, then re-arm its timer."""
        call = caller.control
        for command in commands:
            if self.calls.get(call.uuid) is not caller:
                return  # an earlier command ended the call
            self._ivr_command(caller, command, now)
        session = caller.session
        deadline = session.get_timer() if session is not None and not session.finished else None
        if deadline is None or self.calls.get(call.uuid) is not caller:
            call.cancel_timer("ivr")
        else:
            call.set_timer("ivr", deadline, lambda t: self._ivr_timer(caller, t))

    def _ivr_timer(self, caller: Caller, now: float) -> None:
        if caller.session is not None and not caller.session.finished:
            self._ivr(caller, caller.session.handle_timer(now), now)

    def _ivr_command(self, caller: Caller, command: ic.IvrCommand, now: float) -> None:
        call = caller.control
        match command:
            case ic.Play(token, prompts, _):
                call.play(token, tuple(prompts), now)
            case ic.StopPlayback():
                call.stop_playback(now)
            case ic.Record(token, max_seconds, _):
                call.record(token, max_seconds, now)
            case ic.StopRecording():
                call.stop_recording(now)
            case ic.Enqueue(queue, priority, skills, variables):
                self._enqueue(caller, queue, priority, skills, variables, now)
            case ic.Transfer(kind, target, _):
                self._transfer(caller, kind, target, now)
            case ic.Hangup(reason):
                self._finish(caller, reason, now)
            case ic.Answer() | ic.ArmSurvey() | ic.FlowFinished():
                pass  # answered on arrival; the session itself resumes at its survey step
            case _:
                self._store(caller, [command], now)

    def _store(self, caller: Caller, commands: Sequence[ic.IvrCommand], now: float) -> None:
        """What the flow wants kept with the call: variables, survey scores, callbacks, messages."""
        call = caller.control
        for command in commands:
            match command:
                case ic.StoreVariables(variables):
                    call.variables.update(variables)
                    self.emit(WriteCallVariables(call.uuid, dict(call.variables)))
                    self._publish("call.variables", now, call=call.uuid, variables=dict(variables))
                case ic.StoreSurvey(score, scale):
                    self.emit(WriteCallSurvey(call.uuid, score, scale))
                    self._publish("call.survey", now, call=call.uuid, score=score, scale=scale)
                case ic.CallbackRequested(number, variables):
                    self._publish("callback.requested", now, call=call.uuid, number=number,
                                  variables=dict(variables))
                case ic.VoicemailLeft(mailbox, path, seconds, _):
                    self._publish("voicemail.left", now, call=call.uuid, mailbox=mailbox, path=path,
                                  seconds=round(seconds, 2), caller=call.caller)

    def _outcome(self, caller: Caller, event: ie.IvrEvent, now: float) -> None:
        if caller.session is not None and not caller.session.finished:
            self._ivr(caller, caller.session.handle(event, now), now)

    def _transfer(self, caller: Caller, kind: str, target: str, now: float) -> None:
        """Ring one seat, or an outside number through the carrier, for the flow."""
        call = caller.control
        rung = call.ring_seat(target, now) if kind == "seat" else call.ring_number(target, now)
        if not rung:
            self._outcome(caller, ie.TransferOutcome("failed"), now)
            return
        caller.mode = Mode.TRANSFER
        key = target if kind == "seat" else f"number:{target}"

        def no_answer(t: float) -> None:
            call.cancel_seat(key, t)
            caller.mode = Mode.IVR
            self._outcome(caller, ie.TransferOutcome("no_answer"), t)

        call.set_timer("transfer", now + TRANSFER_RING, no_answer)

    def _finish(self, caller: Caller, reason: str, now: float) -> None:
        call = caller.control
        self.calls.pop(call.uuid, None)
        caller.mode = Mode.DONE
        call.cancel_timer("ivr")
        call.hangup(now, reason)
        self._ended(caller, now)

    def _ended(self, caller: Caller, now: float) -> None:
        if caller.on_end is not None:
            on_end, caller.on_end = caller.on_end, None
            on_end(now)

    # -- the ACD ----------------------------------------------------------------------------------
    def _enqueue(self, caller: Caller, queue: str, priority: int, skills: Mapping[str, int],
                 variables: Mapping[str, str], now: float) -> None:
        call = caller.control
        caller.mode, caller.queue = Mode.QUEUE, queue
        caller.moh = self.queue_moh.get(queue, self.default_moh)
        info = {"caller": call.caller, "dialled": call.callee, **variables}
        call.play("moh", (caller.moh,), now, loop=True)
        self._run(self.acd.caller_joined(call.uuid, queue, now, priority=priority, skills=skills,
                                         info=info), now)

    def run(self, commands: Sequence[AcdCommand], now: float) -> None:
        """Carry out commands of the ACD called from outside (the dialer lending a seat)."""
        self._run(commands, now)

    def _run(self, commands: Sequence[AcdCommand], now: float) -> None:
        """Carry out the ACD's commands (they may cause more), then re-arm its timer."""
        pending = list(commands)
        while pending:
            pending.extend(self._acd_command(pending.pop(0), now))
        deadline = self.acd.get_timer()
        if deadline is None:
            self.timers.cancel_timer(("acd",))
        else:
            self.timers.set_timer(("acd",), deadline, self._acd_tick)

    def _acd_tick(self, now: float) -> None:
        self._run(self.acd.handle_timer(now), now)

    def _acd_command(self, command: AcdCommand, now: float) -> list[AcdCommand]:
        match command:
            case OfferCall(call, seat):
                caller = self.calls.get(call)
                if caller is None or not caller.control.ring_seat(seat, now):
                    return self.acd.offer_failed(call, seat, now, reason="unreachable")
            case CancelOffer(call, seat, _):
                caller = self.calls.get(call)
                if caller is not None:
                    caller.control.cancel_seat(seat, now)
            case Announce(call, _, position, wait):
                caller = self.calls.get(call)
                if caller is not None and caller.mode is Mode.QUEUE:
                    minutes = None if wait is None else max(1, round(wait / 60))
                    caller.control.play("announce", tuple(queue_announcement(position, minutes)), now)
            case Overflow(call, queue, target, reason, wait):
                self._overflow(call, queue, target.kind, target.name, reason, now)
            case QueueEvent() | SeatStateChanged() | SeatAvailabilityChanged() | SeatMembershipChanged():
                record = acd_record(command)
                if record is not None:
                    kind, _, payload = record
                    self.emit(Publish(kind, payload, store=True))
        return []

    def _overflow(self, call: str, queue: str, kind: OverflowKind, name: str, reason: str,
                  now: float) -> None:
        """A flow waiting on ``enqueue`` decides (its timeout/overflow exits); otherwise the
        queue's target applies: another queue (the ACD moved the caller), a flow, a mailbox."""
        caller = self.calls.get(call)
        if caller is None:
            return
        if caller.on_overflow is not None:
            self.calls.pop(call, None)
            caller.mode, caller.queue = Mode.DONE, None
            caller.on_overflow(now)
            return
        if kind is OverflowKind.QUEUE:
            caller.queue = name
            caller.moh = self.queue_moh.get(name, self.default_moh)
            return
        caller.queue = None
        session = caller.session
        if session is not None and not session.finished:
            caller.mode = Mode.IVR
            status = "timeout" if reason == "max-wait" else "overflow"
            self._outcome(caller, ie.QueueOutcome(status, f"{kind.value}:{name}"), now)
        elif kind is OverflowKind.FLOW and self.flows is not None and name in self.flows.flows:
            self._start_flow(caller, name, now)
        else:
            caller.mode, caller.mailbox = Mode.VOICEMAIL, name
            caller.control.play("greeting", ("voicemail_greeting", "beep"), now)

    def _publish(self, kind: str, at: float, **payload: Any) -> None:
        self.emit(Publish(kind, {**payload, "ts": at}, store=True))
