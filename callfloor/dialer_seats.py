"""The dialer's side that faces the seats: held seats, preview, the screen pop and dispositions.

:class:`DialerSeats` is a mixin of :class:`~callfloor.dialer_runtime.DialerRuntime`: the seat pages
and the API call these methods on the runtime, and its calls (:class:`~callfloor.dialer_calls.Dial`)
pop the seat's screen through them. A seat's screen events go to its open SSE streams.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from callfloor.dialer_calls import CampaignRun, Dial
from callfloor.store.dialer import DialerStore, NotDialableError
from callfloor.switchboard import Switchboard
from dialer.records import LeadRow
from telephony.net.server import SipServer

if TYPE_CHECKING:
    from dialer.pacing import PacingSnapshot

__all__ = ["DialerSeats"]


class DialerSeats:
    """Seat-facing methods of the dialer runtime; the runtime provides the state declared here."""

    store: DialerStore
    server: SipServer
    board: Switchboard
    runs: dict[str, CampaignRun]
    seat_calls: dict[str, Dial]  # the seat's current or last dialer call
    previews: dict[str, tuple[CampaignRun, LeadRow]]  # seat -> the lead it previews
    subscribers: dict[str, list[asyncio.Queue[dict[str, Any]]]]

    if TYPE_CHECKING:  # provided by DialerRuntime
        def snapshot(self, run: CampaignRun, now: float) -> PacingSnapshot: ...

        async def open_zones(self, run: CampaignRun, now: float) -> frozenset[tuple[str, str]]: ...

        async def _place(self, run: CampaignRun, lead: LeadRow, now: float, mode: str,
                         seat: str | None) -> Dial: ...

        def publish(self, kind: str, at: float, **payload: Any) -> None: ...

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

    def previewing(self, seat: str) -> dict[str, Any] | None:
        """The lead the seat holds in preview, as the ``preview`` event showed it, with
        ``dialling`` and the ``call`` once dialled and until answered (a reloaded page shows it
        again); None otherwise."""
        if seat not in self.previews:
            return None
        run, lead = self.previews[seat]
        current = self.seat_calls.get(seat)
        if current is not None and current.lead.id == lead.id:
            return None  # answered: its call (or the call's end) is what the seat sees
        view = {"event": "preview", **self.lead_view(run, lead)}
        dial = next((d for d in run.dials.values() if d.lead.id == lead.id), None)
        if dial is not None:
            view.update(dialling=True, call=dial.uuid)
        return view

    def preview_skip(self, seat: str) -> None:
        """The seat passes on the previewed lead (it stays due); the seat is free again."""
        if seat not in self.previews:
            raise LookupError(f"seat {seat} has no lead in preview")
        self.release(seat)

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
