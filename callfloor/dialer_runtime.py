"""The dialer in the service: each campaign paced twice a second, the attempt ledger, the calls.

Per tick and campaign: a :class:`~dialer.pacing.PacingSnapshot` from the ACD's seats and the dials
in flight goes to the campaign's :class:`~dialer.pacing.Pacer`; for the number of dials it returns,
due leads whose calling window is open are read, each attempt is committed to the ledger, and only
then is the INVITE sent (``CallEngine.originate``). A live answer (after answering-machine detection
when the campaign has it) joins the campaign's ACD queue, whose ``max_wait`` is the grace time: a
seat of the campaign gets it at once (auto-answer), or when the grace runs out the customer hears
the abandon message and the call counts against the campaign's abandonment budget.

Everything that touches a call runs inside the engine (``SipServer.apply`` or an observer
callback); the ledger's closing writes go through the executor's ordered writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid as uuidlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from callfloor.executor import FloorExecutor
from callfloor.floorwiring import campaign_queue
from callfloor.store.dialer import DialerStore, NotDialableError
from callfloor.switchboard import Switchboard
from dialer.abandon import AbandonTracker
from dialer.campaign import Campaign
from dialer.pacing import Pacer, PacerPriors, PacingSnapshot, SeatState, SeatView
from dialer.pacing_history import (
    DEFAULT_LIMIT,
    DEFAULT_WINDOW,
    HistoryError,
    ReplayContext,
    WarmSummary,
    estimates,
    replay,
)
from dialer.pacing_model import ModelConfig
from dialer.records import AmdResult, LeadRow, Outcome
from dialer.windows import Windows, open_zones
from floor.states import Presence, SeatCallState
from ivr.prompts import digit_prompts
from telephony.calls.commands import Publish
from telephony.calls.director import CallControl, DialControl
from telephony.calls.outbound import OriginatedCall, OriginateRefused
from telephony.net.server import SipServer

__all__ = ["CampaignRun", "Dial", "DialerRuntime", "campaign_queue"]

log = logging.getLogger("callfloor.dialer")

TICK = 0.5  # seconds between pacing decisions
STOP_WAIT = 5.0  # seconds a stop waits for a launch under way to send its INVITEs
MESSAGE_CUE_SECONDS = 30.0  # the longest greeting waited out before a message starts anyway
ZONES_EVERY = 60.0  # seconds between re-reads of a campaign's lead time zones


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


class DialerRuntime:
    """Runs every active campaign against the engine, the ACD and the store."""

    def __init__(self, campaigns: Sequence[Campaign], store: DialerStore, server: SipServer,
                 board: Switchboard, executor: FloorExecutor, *,
                 trackers: dict[str, AbandonTracker] | None = None,
                 default_region: str | None = None, amd_seconds: float = 4.0, clock: Callable[[], float] = time.time,
                 new_id: Callable[[], str] = lambda: uuidlib.uuid4().hex) -> None:
        self.store = store
        self.server = server
        self.board = board
        self.executor = executor
        self.clock = clock
        self.new_id = new_id
        self.default_region = default_region
        self.amd_seconds = amd_seconds
        self.runs: dict[str, CampaignRun] = {}
        trackers = trackers or {}
        for c in campaigns:
            tracker = trackers.get(c.id) or AbandonTracker(c.target_abandon, c.abandon_formula,
                                                           c.amd_allowance)
            pacer = Pacer(c.mode, priors=PacerPriors(wrap_up=c.wrap_up), model=ModelConfig(grace=c.grace),
                          min_ring=c.min_ring if c.cancel_surplus else None)
            self.runs[c.id] = CampaignRun(c, pacer, tracker, c.window_rules(), campaign_queue(c.id))
        self.seat_calls: dict[str, Dial] = {}  # the seat's current or last dialer call
        self.previews: dict[str, tuple[CampaignRun, LeadRow]] = {}  # seat -> the lead it previews
        self.subscribers: dict[str, list[asyncio.Queue[dict[str, Any]]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._busy: set[str] = set()  # campaigns with a launch under way
        self._stopping = asyncio.Event()

    # -- lifetime --------------------------------------------------------------------------------
    async def warm(self, now: float, *, window: float = DEFAULT_WINDOW, limit: int = DEFAULT_LIMIT) -> None:
        """Before the first pacing decision: each campaign's pacer replays the campaign's closed
        attempts of the last ``window`` s (at most ``limit``), so it resumes where the last run
        left it instead of from generic priors (``dialer/pacing_history.py``)."""
        if not self.runs:
            return
        seats = list(self.board.acd.snapshot(now).seats.values())
        for run in self.runs.values():
            history = await self.store.closed_attempts(run.id, now - window, limit)
            assigned = sum(run.queue in view.queues for view in seats)
            context = ReplayContext.of(run.campaign, assigned, run.tracker.budget(now).false_positive_24h)
            try:
                run.warmed = replay(run.pacer, history, context, now=now, window=window, limit=limit)
            except HistoryError as exc:
                log.error("campaign %s: pacing starts from its priors, the ledger is not replayed: %s",
                          run.id, exc)
                continue
            log.info("campaign %s: pacer resumed from the ledger: %s", run.id, run.warmed)

    def start(self) -> None:
        """Start pacing."""
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def close(self) -> None:
        """Stop launching new dials (calls in progress end with the engine's drain). A launch
        under way finishes first: an attempt committed to the ledger gets its INVITE."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_WAIT)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            for run in list(self.runs.values()):
                if self._stopping.is_set():
                    return
                if run.campaign.active and run.id not in self._busy:
                    try:
                        await self.pace(run)
                    except Exception:  # one campaign's failure must not stop the others
                        log.exception("pacing campaign %s failed", run.id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), TICK)

    # -- pacing ----------------------------------------------------------------------------------
    def snapshot(self, run: CampaignRun, now: float) -> PacingSnapshot:
        """The campaign as the pacer sees it: its seats from the ACD, its dials in flight."""
        floor = self.board.acd.snapshot(now)
        seats = []
        for view in floor.seats.values():
            if run.queue not in view.queues or not view.reachable or view.lent_to is not None:
                continue
            busy = view.call_state is not SeatCallState.IDLE or view.busy_elsewhere
            # A seat paused (or logging out) during a call will not take the next one.
            if view.presence is Presence.READY and not busy:
                seats.append(SeatView(view.seat, SeatState.READY))
            elif view.presence in (Presence.READY, Presence.WRAP_UP) and busy:
                seats.append(SeatView(view.seat, SeatState.TALKING, view.time_in_state_s))
            elif view.presence is Presence.WRAP_UP:
                seats.append(SeatView(view.seat, SeatState.WRAP_UP, view.time_in_state_s))
        ringing = self.ringing(run)
        dialing = [now - d.launched_at for d in ringing]
        # A dial with a seat held for it (a callback, the 72-hour rule) is never surplus: to
        # pacing it has not rung, so it is never cancelled.
        rung = [now - d.rang_at if d.rang_at is not None and d.reserved_seat is None else 0.0
                for d in ringing]
        # Answered and not yet at a seat: in the queue (its grace running), or still heard by the
        # AMD (most are people: each needs a seat the moment the verdict comes).
        waiting = [now - d.human_at if d.human_at is not None else 0.0 for d in run.dials.values()
                   if d.answered_at is not None and d.connected_at is None and d.outcome is None
                   and (d.queued or d.human_at is None)]
        budget = run.tracker.budget(now)
        return PacingSnapshot.from_seats(
            now, seats, dialing, waiting, target_abandon=run.campaign.target_abandon,
            predictive_allowed=budget.predictive_allowed, abandon_slack=budget.slack_24h,
            uncontrolled_abandon=budget.false_positive_24h, rung=rung)

    @staticmethod
    def ringing(run: CampaignRun) -> list[Dial]:
        """The campaign's dials not yet answered, in the order of a snapshot's ``dialing``."""
        return [d for d in run.dials.values() if d.answered_at is None]

    @staticmethod
    def pace_out(run: CampaignRun, dials: Sequence[Dial], now: float) -> None:
        """Cancel the campaign's dials still ringing unanswered (runs inside the engine)."""
        for dial in dials:
            if (dial.call is not None and dial.answered_at is None and not dial.closed
                    and dial.reserved_seat is None):
                dial.call.hangup(now, PACED_OUT)
                run.paced_out += 1

    async def pace(self, run: CampaignRun) -> int:
        """One pacing decision for ``run``; returns the number of dials launched."""
        now = self.clock()
        snap = self.snapshot(run, now)
        cancel = run.pacer.cancellations(snap)
        if cancel:
            ringing = self.ringing(run)
            victims = [ringing[i] for i in cancel]
            self.server.apply(lambda t: self.pace_out(run, victims, t))
            snap = self.snapshot(run, now)
        wanted = run.pacer.decide(snap)
        if wanted <= 0:
            return 0
        self._busy.add(run.id)
        try:
            return await self._launch(run, wanted, now, snap)
        finally:
            self._busy.discard(run.id)

    async def _launch(self, run: CampaignRun, wanted: int, now: float, snap: PacingSnapshot) -> int:
        zones = await self.open_zones(run, now)
        if not zones:
            return 0
        ready = sorted(snap.ready_ids)
        mode = run.pacer.effective_mode(snap).value
        leads = await self.store.next_leads(run.id, wanted, now, zones, ready_seats=ready)
        launched = 0
        for lead in leads:
            if self._stopping.is_set():
                break
            seat = None
            if lead.callback_seat is not None or lead.reserved_seat:
                # A callback promised by a seat goes to that seat; a number abandoned within
                # 72 h is dialled only with a seat held for it first.
                seat = lead.callback_seat if lead.callback_seat in ready else next(iter(ready), None)
                if seat is None:
                    continue
                ready.remove(seat)
            if await self.dial(run, lead, now, mode, seat=seat):
                launched += 1
        return launched

    async def open_zones(self, run: CampaignRun, now: float) -> frozenset[tuple[str, str]]:
        """The (time zone, country) pairs of the campaign's leads whose window is open now; the
        pairs themselves are re-read from the leads once a minute."""
        if now - run.zones_at > ZONES_EVERY:
            run.zones, run.zones_at = await self.store.lead_zones(run.id), now
        return open_zones(run.zones, now, run.windows)

    async def dial(self, run: CampaignRun, lead: LeadRow, now: float, mode: str, *,
                   seat: str | None = None) -> bool:
        """Commit the attempt, then send the INVITE; False when the lead may not be dialled now.
        With ``seat``, that seat is held (lent to the campaign) for this call alone."""
        try:
            await self._place(run, lead, now, mode, seat)
        except NotDialableError as exc:
            log.info("campaign %s: lead %s not dialled: %s", run.id, lead.id, exc)
            return False
        return True

    async def _place(self, run: CampaignRun, lead: LeadRow, now: float, mode: str,
                     seat: str | None) -> Dial:
        """The ledger first, then the INVITE; ``NotDialableError`` (the seat given back) when the
        ledger refuses the lead now."""
        call_id = self.new_id()
        dial = Dial(self, run, lead, call_id, now, mode, reserved_seat=seat)
        run.dials[call_id] = dial  # counted as in flight from now: the next tick must see it
        if seat is not None:
            self.hold(seat, run, now)  # a no-op for a seat already held (preview)
        try:
            dial.attempt_id = await self.store.open_attempt(lead.id, call_id, mode, now,
                                                            seat_reserved=seat is not None)
        except NotDialableError:
            run.dials.pop(call_id, None)
            if seat is not None:
                self.release(seat)
            raise
        self.server.apply(lambda t: self._originate(dial, t))
        run.launched += 1
        self.publish("dialer.dial", now, campaign=run.id, call=call_id, lead=lead.id, mode=mode,
                     attempt=dial.attempt_id)
        return dial

    # -- reserved seats ----------------------------------------------------------------------
    def hold(self, seat: str, run: CampaignRun, now: float) -> None:
        """Take the seat out of the ACD's offers for one dial of ``run``."""
        board = self.board
        self.server.apply(lambda t: board.run(board.acd.lend(seat, run.id, t), t))

    def release(self, seat: str) -> None:
        """Give a held seat back to the ACD."""
        self.server.apply(lambda t: self._give_back(seat, t))

    def release_later(self, seat: str, at: float) -> None:
        """Give the seat back after its wrap-up (runs inside the engine: no apply needed)."""
        self.board.timers.set_timer(("dialer-hold", seat), at, lambda t: self._give_back(seat, t))

    def _give_back(self, seat: str, now: float) -> None:
        self.previews.pop(seat, None)
        self.board.run(self.board.acd.lend(seat, None, now), now)

    async def preview(self, seat: str, now: float) -> dict[str, Any]:
        """Preview pacing: hold the seat and give it the next lead of its preview campaign."""
        if seat in self.previews:
            run, lead = self.previews[seat]
            return self.lead_view(run, lead)
        for run in self.runs.values():
            if run.campaign.mode != "preview" or not run.campaign.active:
                continue
            snap = self.snapshot(run, now)
            if not run.pacer.may_preview(snap, seat):
                continue
            leads = await self.store.next_leads(run.id, 1, now, await self.open_zones(run, now),
                                                ready_seats=[seat])
            if leads:
                self.previews[seat] = (run, leads[0])
                self.hold(seat, run, now)
                view = self.lead_view(run, leads[0])
                self.notify(seat, {"event": "preview", **view})
                return view
        raise LookupError(f"seat {seat} is not ready in a preview campaign with a lead to call now")

    async def preview_dial(self, seat: str, now: float) -> dict[str, Any]:
        """Dial the lead the seat is previewing; the seat is rung when the customer answers."""
        if seat not in self.previews:
            raise LookupError(f"seat {seat} has no lead in preview")
        run, lead = self.previews[seat]
        try:
            dial = await self._place(run, lead, now, "preview", seat)
        except NotDialableError as exc:
            raise LookupError(f"lead {lead.id} may not be dialled now: {exc}") from None
        return {"call": dial.uuid, "attempt": dial.attempt_id, "lead": lead.id}

    def preview_skip(self, seat: str) -> None:
        """The seat passes on the previewed lead (it stays due); the seat is free again."""
        if seat not in self.previews:
            raise LookupError(f"seat {seat} has no lead in preview")
        self.release(seat)

    def _originate(self, dial: Dial, now: float) -> None:
        campaign = dial.run.campaign
        dial.launched_at = now
        try:
            call = self.server.engine.originate(
                dial.lead.number, caller_id=campaign.caller_id, uuid=dial.uuid, observer=dial,
                ring_timeout=campaign.ring_timeout, now=now,
                headers=[("X-Callfloor-Campaign", campaign.id)])
        except OriginateRefused as exc:
            log.warning("campaign %s: call to %s refused: %s", campaign.id, dial.lead.number, exc)
            # The trunk's toll-fraud allow-list will refuse it again: not a passing failure.
            outcome: Outcome = ("rejected" if exc.reason == "number_not_allowed"
                                else "cancelled" if exc.reason == "draining" else "network_error")
            dial._close(outcome, now)
            return
        if call is None:
            dial._close("network_error", now)
            return
        dial.call = call
        call.seat_auto_answer = True  # within the grace time: no seat may let it ring
        call.seat_headers = [("X-Callfloor-Campaign", campaign.id),
                             ("X-Callfloor-Lead", str(dial.lead.id))]

    # -- the ledger ----------------------------------------------------------------------------
    def close_attempt(self, dial: Dial, now: float) -> None:
        """Close the attempt in the ledger (ordered after the call's own records)."""
        if dial.attempt_id is None:
            return
        attempt_id, outcome = dial.attempt_id, dial.outcome or "cancelled"
        store = self.store

        async def write() -> None:
            await store.close_attempt(
                attempt_id, outcome, now=now, sip_status=dial.sip_status, answered_at=dial.answered_at,
                connected_at=dial.connected_at, seat_id=dial.seat, amd=dial.amd)

        self.executor.write(write)
        self.publish("dialer.attempt", now, campaign=dial.run.id, call=dial.uuid, lead=dial.lead.id,
                     attempt=attempt_id, outcome=outcome, seat=dial.seat, amd=dial.amd)
        if dial.seat is not None:
            self.notify(dial.seat, {"event": "ended", "call": dial.uuid, "attempt": attempt_id,
                                    "outcome": outcome, "at": now})

    # -- seats: the screen pop -----------------------------------------------------------------
    def pop_info(self, dial: Dial) -> dict[str, str]:
        """What travels with the call to the ACD (and so to the queue events)."""
        return {"caller": dial.lead.number, "campaign": dial.run.id, "lead": str(dial.lead.id)}

    def lead_view(self, run: CampaignRun, lead: LeadRow, *, dialled: bool = False) -> dict[str, Any]:
        """A lead as the seat's screen shows it, with the campaign's script and dispositions."""
        c = run.campaign
        return {
            "campaign": c.id, "campaign_name": c.name, "script": c.script,
            "dispositions": [{"code": d.code, "label": d.label, "kind": d.kind} for d in c.dispositions],
            "lead": {"id": lead.id, "number": lead.number, "name": lead.name,
                     "attempts": lead.attempts + (1 if dialled else 0), "data": dict(lead.data),
                     "last_outcome": lead.last_outcome},
        }

    def screen(self, dial: Dial) -> dict[str, Any]:
        """The screen pop of a connected call: the lead, the script, the dispositions."""
        return {"event": "call", "call": dial.uuid, "attempt": dial.attempt_id,
                **self.lead_view(dial.run, dial.lead, dialled=True), "connected_at": dial.connected_at}

    def connected(self, dial: Dial, now: float) -> None:
        """A seat has the call: pop its screen and publish."""
        assert dial.seat is not None
        self.seat_calls[dial.seat] = dial
        self.notify(dial.seat, self.screen(dial))
        self.publish("dialer.connected", now, campaign=dial.run.id, call=dial.uuid, lead=dial.lead.id,
                     seat=dial.seat, after_s=round(now - (dial.human_at or now), 3), amd=dial.amd)

    def notify(self, seat: str, event: dict[str, Any]) -> None:
        """Send an event to the seat's open screens (SSE)."""
        for queue in self.subscribers.get(seat, ()):
            queue.put_nowait(event)

    def subscribe(self, seat: str) -> asyncio.Queue[dict[str, Any]]:
        """A queue of the seat's screen events (the SSE stream reads it)."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)
        self.subscribers.setdefault(seat, []).append(queue)
        return queue

    def unsubscribe(self, seat: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """The seat's screen went away."""
        queues = self.subscribers.get(seat, [])
        if queue in queues:
            queues.remove(queue)

    async def dispose(self, seat: str, code: str, now: float, *, note: str | None = None,
                      callback_at: float | None = None, callback_to: str = "seat") -> Any:
        """The seat's disposition of its last dialer call (in wrap-up, or later that day)."""
        dial = self.seat_calls.get(seat)
        if dial is None or dial.attempt_id is None:
            raise LookupError(f"seat {seat} has no dialer call to dispose of")
        row = await self.store.set_disposition(
            dial.attempt_id, seat, code, now, note=note, callback_at=callback_at,
            callback_seat=seat if callback_to == "seat" and callback_at is not None else None)
        self.publish("dialer.disposition", now, campaign=dial.run.id, call=dial.uuid,
                     lead=dial.lead.id, attempt=dial.attempt_id, seat=seat, code=code,
                     callback_at=callback_at)
        self.notify(seat, {"event": "disposition", "call": dial.uuid, "code": code, "at": now})
        return row

    def stats(self, run: CampaignRun, now: float) -> dict[str, Any]:
        """A campaign's state for the API and the monitor."""
        snap = self.snapshot(run, now)
        budget = run.tracker.budget(now)
        return {
            "id": run.id, "name": run.campaign.name, "active": run.campaign.active,
            "mode": run.campaign.mode, "pacing_now": run.pacer.effective_mode(snap).value,
            "seats": {"ready": snap.ready, "talking": len(snap.talking), "wrap_up": len(snap.wrapping)},
            "dialing": len(snap.dialing), "waiting_for_seat": len(snap.waiting),
            "launched": run.launched, "paced_out": run.paced_out,
            "pacer": {**estimates(run.pacer), "warmed_from": run.warmed.attempts if run.warmed else 0},
            "target_abandon": run.campaign.target_abandon,
            "abandon_24h": round(budget.rate_24h, 5), "abandon_30d": round(budget.rate_30d, 5),
            "predictive_allowed": budget.predictive_allowed,
        }

    # -- messages and helpers ------------------------------------------------------------------
    def region(self, campaign: Campaign) -> str | None:
        """The region of a campaign's national-format numbers."""
        return campaign.default_region or self.default_region

    def abandon_prompts(self, campaign: Campaign) -> tuple[str, ...]:
        """The abandon message: its prompt (naming the caller), then the call-back number."""
        return (campaign.abandon_message.prompt or "abandon",
                *digit_prompts(campaign.callback_number.lstrip("+")))

    def wrap_up(self, run: CampaignRun) -> float:
        """The campaign's wrap-up seconds."""
        return run.campaign.wrap_up

    def publish(self, kind: str, at: float, **payload: Any) -> None:
        """An event on the bus and in the event log."""
        self.executor.execute(Publish(kind, {**payload, "ts": at}, store=True))
