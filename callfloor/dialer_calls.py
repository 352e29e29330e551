"""The dialer's calls: one campaign at run time and one attempt's call as the engine reports it.

A :class:`Dial` is the engine's observer for one attempt (``DialObserver`` and ``CallObserver``):
it feeds the campaign's pacer and abandonment tracker, hands a live answer to the ACD (or rings
the seat held for it) and closes the attempt through its :class:`~callfloor.dialer_runtime.DialerRuntime`.
Its callbacks run inside the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from dialer.abandon import AbandonFormula, AbandonTracker
from dialer.campaign import Campaign
from dialer.pacing import Mode, Pacer
from dialer.pacing_history import WarmSummary
from dialer.records import AmdResult, LeadRow, Outcome
from dialer.windows import Windows
from telephony.calls.director import CallControl, DialControl
from telephony.calls.outbound import OriginatedCall

if TYPE_CHECKING:
    from callfloor.dialer_runtime import DialerRuntime

__all__ = ["MESSAGE_CUE_SECONDS", "PACED_OUT", "CampaignRun", "Dial"]

MESSAGE_CUE_SECONDS = 30.0  # the longest greeting waited out before a message starts anyway


@dataclass
class CampaignRun:
    """One campaign at run time: its pacer, abandonment tracker and dials in flight."""

    campaign: Campaign
    pacer: Pacer
    tracker: AbandonTracker
    windows: Windows
    queue: str
    dials: dict[str, Dial] = field(default_factory=dict)
    zones: list[tuple[str, str]] = field(default_factory=list)
    zones_at: float = -1e18
    launched: int = 0
    paced_out: int = 0  # dials cancelled after their minimum ring, their answer likely abandoned
    warmed: WarmSummary | None = None  # what the pacer replayed from the ledger at start-up

    @property
    def id(self) -> str:
        """The campaign id."""
        return self.campaign.id

    def replace(self, campaign: Campaign) -> None:
        """New settings from now on: the pacer keeps its estimators (a mode change just sets the
        mode, a new fixed ``wrap_up`` is known at once), the tracker its history (with the new
        target), the run its dials and counters."""
        if campaign.wrap_up != self.campaign.wrap_up:
            self.pacer.set_wrap_up(campaign.wrap_up)
        self.campaign = campaign
        self.windows = campaign.window_rules()
        self.zones_at = -1e18  # the new windows are looked at on the next decision
        self.pacer.mode = Mode(campaign.mode)
        self.pacer.min_ring = campaign.min_ring if campaign.cancel_surplus else None
        lookahead = self.pacer.lookahead
        if lookahead.config.grace != campaign.grace:  # answers now wait this long for a seat
            lookahead.config = replace(lookahead.config, grace=campaign.grace)
            lookahead.invalidate()
        self.tracker.target = campaign.target_abandon
        self.tracker.formula = AbandonFormula(campaign.abandon_formula)
        self.tracker.amd_allowance = campaign.amd_allowance


@dataclass(eq=False)
class Dial:
    """One attempt's call; the engine reports to it (``DialObserver``)."""

    runtime: DialerRuntime
    run: CampaignRun
    lead: LeadRow
    uuid: str
    launched_at: float
    mode: str
    attempt_id: int | None = None
    call: OriginatedCall | None = None
    answered_at: float | None = None
    human_at: float | None = None  # the grace clock starts here (answer, or the end of AMD)
    connected_at: float | None = None
    seat: str | None = None
    amd: AmdResult | None = None
    sip_status: int | None = None
    outcome: Outcome | None = None
    queued: bool = False
    closed: bool = False
    reserved_seat: str | None = None  # a seat held for this dial (preview, its callback, 72 h rule)
    rang_at: float | None = None  # the first 180/183: the minimum ring time counts from here

    # -- DialObserver -----------------------------------------------------------------------
    def dial_progress(self, call: DialControl, status: int, now: float) -> None:
        """Ringing or early media: not an answer; the ring time counts from the first."""
        if self.rang_at is None and 180 <= status < 190:
            self.rang_at = now

    def dial_answered(self, call: DialControl, now: float) -> None:
        """A 2xx: a person or a machine. Detect which when the campaign wants to know."""
        self.answered_at = now
        if self.run.campaign.amd.action == "off":
            self._live(now)
        else:
            call.analyze("amd", self.runtime.amd_seconds, now)

    def dial_failed(self, call: DialControl, status: int, reason: str, now: float) -> None:
        """No answer, busy, refused, network trouble: the attempt closes with that outcome."""
        self.sip_status = status or None
        if reason == PACED_OUT:
            # Its outcome is unknown (it might have been answered): not a failure to learn from.
            self.run.pacer.observe_cancelled(now - self.launched_at)
        else:
            self.run.pacer.observe_dial(now - self.launched_at, False)
        self._close(_failure_outcome(reason), now)

    def audio_classified(self, call: DialControl, token: str, verdict: str,
                         detail: dict[str, float], now: float) -> None:
        """The answering-machine verdict; or, for a message, the end of the greeting."""
        if token == "cue":
            call.play("machine", (self.run.campaign.amd.message or "machine_message",), now)
            return
        self.amd = verdict if verdict in ("human", "machine") else "unknown"  # type: ignore[assignment]
        action = self.run.campaign.amd.action
        if verdict != "machine" or action == "pass":
            self._live(now)
            return
        self.outcome = "machine"
        self.run.pacer.observe_dial(now - self.launched_at, False)
        self.run.tracker.record(now, "machine", "machine")
        if action == "message" and self.run.campaign.amd.message:
            # Wait for the beep (or the silence after the greeting): a message spoken over the
            # greeting is lost on the tape.
            call.analyze("cue", MESSAGE_CUE_SECONDS, now)
        else:
            call.hangup(now, "answering machine")

    def call_ended(self, call: DialControl, reason: str, by: str | None, now: float) -> None:
        """The answered call is over, however it ended: close the attempt."""
        if self.queued:
            self.runtime.board.caller_gone(call, reason, now)
            self.queued = False
        self._close(self.outcome or "cancelled", now)

    # -- CallObserver ------------------------------------------------------------------------
    def digit(self, call: CallControl, digit: str, source: str, now: float) -> None:
        """Digits from a customer mean nothing to the dialer."""

    def playback_done(self, call: CallControl, token: str, now: float) -> None:
        """The abandon message or the machine message is over: goodbye."""
        if token in ("abandon", "machine"):
            call.hangup(now, token)
        elif self.queued:
            self.runtime.board.playback_done(call, token, now)

    def seat_answered(self, call: CallControl, seat: str, now: float) -> None:
        """A seat took the customer: connected within the grace time."""
        self.connected_at, self.seat, self.outcome = now, seat, "answered"
        call.cancel_timer("grace")
        self.run.pacer.observe_connected(self.run.campaign.target_abandon)
        self.run.tracker.record(now, "answered", self.amd)
        if self.queued:
            self.runtime.board.seat_answered(call, seat, now)
        self.runtime.connected(self, now)

    def seat_failed(self, call: CallControl, seat: str, status: int, now: float) -> None:
        """A seat's phone refused: the ACD tries the next one while the grace lasts."""
        if self.queued:
            self.runtime.board.seat_failed(call, seat, status, now)

    def seat_hung_up(self, call: CallControl, seat: str, now: float) -> bool:
        """The seat ended the call: the customer is hung up too, the seat wraps up."""
        if self.queued:  # the switchboard forgets the call at call_ended (caller_gone)
            self.runtime.board.seat_hung_up(call, seat, now)
        return False

    def caller_gone(self, call: CallControl, reason: str, now: float) -> None:
        """The customer hung up (or the call died); ``call_ended`` follows and closes it."""
        if self.queued:
            self.runtime.board.caller_gone(call, reason, now)
            self.queued = False

    def recording_done(self, call: CallControl, token: str, path: str, seconds: float,
                       now: float) -> None:
        """The dialer records no messages."""

    # -- the dial's life ----------------------------------------------------------------------
    def _live(self, now: float) -> None:
        """A person answered: to the campaign's seats within the grace time."""
        call = self.call
        assert call is not None
        self.human_at = now
        self.run.pacer.observe_dial(now - self.launched_at, True)
        seat = self.reserved_seat
        if seat is not None:
            # The seat waits for this customer: ring it alone, within the grace time.
            if not call.ring_seat(seat, now):
                self._abandon(now)
                return
            call.set_timer("grace", now + self.run.campaign.grace, self._reserved_late)
            return
        self.queued = True
        call.reports_busy = False  # the ACD offers it: the ACD tracks the seat
        self.runtime.board.adopt(call, self.run.queue, now, info=self.runtime.pop_info(self),
                                 on_overflow=self._abandon)

    def _reserved_late(self, now: float) -> None:
        """The reserved seat did not answer within the grace time."""
        if self.connected_at is None and self.call is not None and self.reserved_seat is not None:
            self.call.cancel_seat(self.reserved_seat, now)
            self._abandon(now)

    def _abandon(self, now: float) -> None:
        """No seat within the grace time: the recorded message, then goodbye."""
        self.queued = False
        self.outcome = "abandoned"
        self.run.pacer.observe_abandoned(self.run.campaign.target_abandon)
        self.run.tracker.record(now, "abandoned", self.amd)
        assert self.call is not None
        self.call.play("abandon", self.runtime.abandon_prompts(self.run.campaign), now)
        self.runtime.publish("dialer.abandoned", now, campaign=self.run.id, call=self.uuid,
                             lead=self.lead.id, number=self.lead.number,
                             waited_s=round(now - (self.human_at or now), 3),
                             message=self.run.campaign.abandon_words())

    def _close(self, outcome: Outcome, now: float) -> None:
        if self.closed:
            return
        self.closed = True
        self.outcome = outcome
        if self.connected_at is not None:
            self.run.pacer.observe_talk(now - self.connected_at)
            self.run.pacer.observe_wrap(self.run.campaign.wrap_up)
        self.run.dials.pop(self.uuid, None)
        self.runtime.close_attempt(self, now)
        if self.reserved_seat is not None:
            wrap = self.run.campaign.wrap_up if self.connected_at is not None else 0.0
            self.runtime.release_later(self.reserved_seat, now + wrap)


# The hang-up reason of a dial that pacing cancelled after its minimum ring: for the ledger and
# the retry delays it was not answered.
PACED_OUT = "paced_out"

_FAILURES: dict[str, Outcome] = {
    "busy": "busy", "no_answer": "no_answer", PACED_OUT: "no_answer", "network_error": "network_error",
    "declined": "rejected", "invalid_number": "rejected", "rejected": "rejected",
}


def _failure_outcome(reason: str) -> Outcome:
    """The ledger's outcome for an engine failure reason (see ``DialObserver``); any other
    reason is callfloor's own hangup before the answer."""
    return _FAILURES.get(reason, "cancelled")
