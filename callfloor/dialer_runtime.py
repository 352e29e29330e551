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

Each dial's call is a :class:`~callfloor.dialer_calls.Dial` (``callfloor/dialer_calls.py``); what
the seats see and do (preview, the screen pop, dispositions) is the :class:`DialerSeats` mixin
(``callfloor/dialer_seats.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid as uuidlib
from collections.abc import Callable, Sequence
from typing import Any

from callfloor.dialer_calls import PACED_OUT, CampaignRun, Dial
from callfloor.dialer_seats import DialerSeats
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
    estimates,
    replay,
)
from dialer.pacing_model import ModelConfig
from dialer.records import LeadRow, Outcome
from dialer.windows import open_zones
from floor.snapshot import SeatView as AcdSeatView
from floor.states import Presence, SeatCallState
from ivr.prompts import digit_prompts
from telephony.calls.commands import Publish
from telephony.calls.outbound import OriginateRefused
from telephony.net.server import SipServer

__all__ = ["ABANDON_HISTORY", "CampaignRun", "Dial", "DialerRuntime", "campaign_queue", "ledger_tracker"]

log = logging.getLogger("callfloor.dialer")

TICK = 0.5  # seconds between pacing decisions
STOP_WAIT = 5.0  # seconds a stop waits for a launch under way to send its INVITEs
ZONES_EVERY = 60.0  # seconds between re-reads of a campaign's lead time zones
ABANDON_HISTORY = 30 * 86400.0  # seconds of the ledger an abandonment tracker is rebuilt from


async def ledger_tracker(store: DialerStore, campaign: Campaign, now: float) -> AbandonTracker:
    """The campaign's abandonment tracker rebuilt from its last 30 days in the ledger."""
    return AbandonTracker.from_ledger(await store.abandonment_ledger(campaign.id, now - ABANDON_HISTORY),
                                      now=now, target=campaign.target_abandon,
                                      formula=campaign.abandon_formula, amd_allowance=campaign.amd_allowance)


class DialerRuntime(DialerSeats):
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
            self.runs[c.id] = self._run(c, trackers.get(c.id))
        self.seat_calls: dict[str, Dial] = {}  # the seat's current or last dialer call
        self.previews: dict[str, tuple[CampaignRun, LeadRow]] = {}  # seat -> the lead it previews
        self.subscribers: dict[str, list[asyncio.Queue[dict[str, Any]]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._busy: set[str] = set()  # campaigns with a launch under way
        self._stopping = asyncio.Event()

    @staticmethod
    def _run(c: Campaign, tracker: AbandonTracker | None) -> CampaignRun:
        tracker = tracker or AbandonTracker(c.target_abandon, c.abandon_formula, c.amd_allowance)
        pacer = Pacer(c.mode, priors=PacerPriors(wrap_up=c.wrap_up), model=ModelConfig(grace=c.grace),
                      min_ring=c.min_ring if c.cancel_surplus else None)
        return CampaignRun(c, pacer, tracker, c.window_rules(), campaign_queue(c.id))

    # -- campaigns changed while running (callfloor/campaignadmin.py); then start, warm, stop --------
    async def add_campaign(self, campaign: Campaign, tracker: AbandonTracker, now: float) -> CampaignRun:
        """Run a new campaign from now on, its pacer warmed from the ledger (``ValueError``: the
        id runs already). Its ACD queue must exist first."""
        if campaign.id in self.runs:
            raise ValueError(f"campaign {campaign.id!r} runs already")
        run = self._run(campaign, tracker)
        await self._warm(run, list(self.board.acd.snapshot(now).seats.values()), now)
        self.runs[campaign.id] = run
        return run

    def replace_campaign(self, campaign: Campaign, now: float) -> CampaignRun:
        """New settings for a running campaign from the next decision (``KeyError``: not running);
        the pacer keeps what it has learnt, the run its dials and counters."""
        self.runs[campaign.id].replace(campaign)
        return self.runs[campaign.id]

    def remove_campaign(self, campaign_id: str) -> CampaignRun:
        """Stop running a campaign for good (``KeyError``: not running; ``ValueError``: a dial in
        progress or a launch under way); a seat previewing one of its leads is given back."""
        run = self.runs[campaign_id]
        if run.dials or campaign_id in self._busy:
            raise ValueError(f"campaign {campaign_id!r} has {len(run.dials) or 'a'} dial(s) in progress")
        for seat in [seat for seat, (held, _) in self.previews.items() if held is run]:
            self.release(seat)
        return self.runs.pop(campaign_id)

    def set_active(self, campaign_id: str, active: bool) -> CampaignRun:
        """Start or stop launching dials (``KeyError``: not running); calls in progress carry on."""
        run = self.runs[campaign_id]
        run.campaign = run.campaign.model_copy(update={"active": active})
        return run

    async def warm(self, now: float, *, window: float = DEFAULT_WINDOW, limit: int = DEFAULT_LIMIT) -> None:
        """Before the first pacing decision: each campaign's pacer replays the campaign's closed
        attempts of the last ``window`` s (at most ``limit``), so it resumes where the last run
        left it instead of from generic priors (``dialer/pacing_history.py``)."""
        if not self.runs:
            return
        seats = list(self.board.acd.snapshot(now).seats.values())
        for run in self.runs.values():
            await self._warm(run, seats, now, window=window, limit=limit)

    async def _warm(self, run: CampaignRun, seats: Sequence[AcdSeatView], now: float, *,
                    window: float = DEFAULT_WINDOW, limit: int = DEFAULT_LIMIT) -> None:
        history = await self.store.closed_attempts(run.id, now - window, limit)
        assigned = sum(run.queue in view.queues for view in seats)
        context = ReplayContext.of(run.campaign, assigned, run.tracker.budget(now).false_positive_24h)
        try:
            run.warmed = replay(run.pacer, history, context, now=now, window=window, limit=limit)
        except HistoryError as exc:
            log.error("campaign %s: pacing starts from its priors, the ledger is not replayed: %s",
                      run.id, exc)
            return
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
        seat = dial.seat or dial.reserved_seat  # a preview dial not answered: its seat still waits
        if seat is not None:
            self.notify(seat, {"event": "ended", "call": dial.uuid, "attempt": attempt_id,
                               "outcome": outcome, "at": now})

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
