"""The live floor: metrics fed from every event, pushed to the monitor (SSE) and to MQTT, the
team lead's actions on seats, and the queue-watcher's loop.

Every figure the monitor shows comes from the events the service publishes (the same rows the
event log keeps), folded by the pure ``floor.metrics.FloorMetrics``; nothing polls SQL, so the
board and a replay of the log cannot disagree. Seat moves, by a lead or by the watcher, go through
the ACD like any other input and come back as events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from callfloor.bus.floorcommands import SeatCommand
from callfloor.bus.floortopics import FloorPublisher
from callfloor.bus.mqtt import EventBus
from callfloor.dialer_runtime import DialerRuntime
from callfloor.executor import FloorExecutor
from callfloor.floorwatch import WatcherLoop, load_policy
from callfloor.floorwiring import (
    campaign_queue,
    campaign_queues,
    campaign_teams,
    local_day_start,
    queue_configs,
    seat_configs,
)
from callfloor.settings import Settings
from callfloor.store import Store
from callfloor.store.audit import AuditLog
from callfloor.switchboard import Switchboard
from dialer.campaign import Campaign
from floor.metrics import FLOOR_STARTED, AlertThresholds, BadEvent, FloorMetrics, Subject
from floor.states import PresenceAction
from telephony.calls.commands import Publish
from telephony.calls.listen import ListenError
from telephony.net.server import SipServer

__all__ = ["LiveFloor", "SUBSCRIBER_BACKLOG"]

log = logging.getLogger("callfloor.floor")

# The event kinds the board is folded from (plus 30 days of dialer events for the drop rates).
FLOOR_PREFIXES = ("queue.", "seat.state", "seat.availability", "seat.membership", "call.offered",
                  "call.ended")
DIALER_HISTORY_S = 30 * 86400.0
SUBSCRIBER_BACKLOG = 2000  # items a slow monitor may fall behind before it is cut off (it reconnects)
TICK = 1.0  # seconds between alert checks (time-based figures: longest wait, time in state)


class LiveFloor:
    """The floor as the monitor and the wallboards see it, and the actions a lead may take on it."""

    def __init__(self, settings: Settings, sip: SipServer, switchboard: Switchboard,
                 campaigns: Sequence[Campaign], audit: AuditLog, *, bus: EventBus | None = None) -> None:
        self.settings = settings
        self.sip = sip
        self.switchboard = switchboard
        self.dialer: DialerRuntime | None = None  # set once the dialer runs (the seat page's screen pop)
        self.audit = audit
        self.clock: Callable[[], float] = sip.clock
        self.metrics = FloorMetrics.for_floor(
            [*queue_configs(settings), *campaign_queues(campaigns)], seat_configs(settings, campaigns),
            campaigns, day_start=local_day_start)
        self.thresholds = AlertThresholds(
            longest_wait_s=settings.monitor.alert_longest_wait,
            service_level=settings.monitor.alert_service_level,
            drop_rate=settings.monitor.alert_drop_rate)
        self.publisher = (FloorPublisher(bus, settings.bus.site, prefix=settings.bus.topic_prefix,
                                         handler=self.on_command, clock=self.clock)
                          if bus is not None and settings.monitor.publish_topics else None)
        watcher = settings.monitor.watcher
        self.watcher = (WatcherLoop(self, load_policy(watcher), settings.monitor.watcher_every)
                        if watcher is not None else None)
        self.subscribers: list[asyncio.Queue[dict[str, Any]]] = []
        self._dirty: set[tuple[str, str]] = set()
        self._flush_pending = False
        self._alerts: dict[str, dict[str, Any]] = {}
        self._decisions: deque[dict[str, Any]] = deque(maxlen=200)
        self._task: asyncio.Task[None] | None = None
        self._campaign_ids = [c.id for c in campaigns]  # the campaigns the service runs at start
        self.bad_events = 0

    # -- history at start-up ----------------------------------------------------------------------
    async def restore(self, store: Store, executor: FloorExecutor, now: float) -> int:
        """Fold the event log back in (today's queues and seats, 30 days of the dialer), then
        publish what the start means: seats the stop left logged in are logged out (their spans
        end here for the reports too), and ``floor.started`` empties callers and dials; a campaign
        that no longer runs leaves the board. Returns the number of events replayed."""
        since = min(local_day_start(now), now - 3600.0)
        rows = await store.events_since(since, FLOOR_PREFIXES)
        rows += await store.events_since(now - DIALER_HISTORY_S, ("dialer.",))
        rows.sort(key=lambda r: (r.at, r.id))
        bad = 0
        for row in rows:
            try:
                self.metrics.apply(row.kind, row.at, row.data)
            except (BadEvent, LookupError) as exc:  # a bad row, or a seat no longer configured
                bad += 1
                log.warning("event %d (%s) not replayed: %s", row.id, row.kind, exc)
        for seat in self.settings.seats:
            last = await store.last_event("seat.state", seat.id)
            if last is not None and last.data.get("presence") not in (None, "logged-out"):
                executor.execute(Publish("seat.state", {
                    "seat": seat.id, "presence": "logged-out", "call_state": "idle", "reason": None,
                    "call": None, "since": last.at, "previous_presence": last.data.get("presence"),
                    "previous_call_state": last.data.get("call_state"),
                    "previous_reason": last.data.get("reason"), "by": "restart", "ts": now},
                    store=True))
        self._drop_gone_campaigns()
        executor.execute(Publish(FLOOR_STARTED, {"ts": now, "replayed": len(rows) - bad}, store=True))
        return len(rows) - bad

    def _drop_gone_campaigns(self) -> None:
        """The replay brings back every campaign of the last 30 days; one that no longer runs (a
        campaign deleted, or its file removed) gets no tile, nor a retained topic from an earlier
        run on a broker that keeps them."""
        running = set(self._campaign_ids)
        for kind, ident in self.metrics.subjects():
            if kind == "campaign" and ident not in running:
                self.campaign_removed(ident)

    # -- events in -------------------------------------------------------------------------------
    def on_event(self, kind: str, payload: Mapping[str, Any]) -> None:
        """An event the service published: fold it, and push what changed on the next loop turn."""
        at = float(payload.get("ts") or self.clock())
        if kind == "seat.membership" and self.watcher is not None:
            self.watcher.moved_at[str(payload.get("seat"))] = at  # a hand move counts for dwell too
        try:
            changed = self.metrics.apply(kind, at, payload)
        except (BadEvent, LookupError) as exc:
            # The event is stored and published all the same; only the board misses it. Raising
            # here would reach the engine, which published it in the middle of a call.
            self.bad_events += 1
            log.warning("event %s not on the board: %s", kind, exc)
            return
        if changed:
            self._mark(changed)

    def campaign_changed(self, campaign: Campaign, *, created: bool) -> None:
        """A campaign created or changed at run time: its queue and tile on the board (before the
        ACD's membership events for its queue come in), pushed to the open pages."""
        queue = campaign_queues([campaign])[0]
        if created:
            changed = self.metrics.add_queue(queue) | self.metrics.add_campaign(campaign)
        else:
            changed = self.metrics.replace_queue(queue) | self.metrics.replace_campaign(campaign)
        self._mark(changed)

    def campaign_removed(self, campaign_id: str) -> None:
        """A campaign deleted at run time (its queue already gone from the ACD): off the board and
        every open page, its retained MQTT topics cleared, its queue out of the watcher's homes."""
        try:
            gone = self.metrics.remove_campaign(campaign_id)
        except LookupError:
            return
        queue = campaign_queue(campaign_id)
        if self.watcher is not None:
            homes = self.watcher.home_queues
            homes.update((seat, tuple(q for q in queues if q != queue)) for seat, queues in homes.items())
        self._dirty -= gone
        for kind, ident in sorted(gone):
            if self.publisher is not None:
                self.publisher.removed(kind, ident)
            self._to_pages({"type": kind, "id": ident, "data": None})  # the page drops the tile

    def campaign_switched(self, campaign_id: str) -> None:
        """A campaign started or stopped (``CampaignAdmin.set_active``): its tile, pushed again."""
        self._mark({("campaign", campaign_id)})

    def _mark(self, changed: Iterable[tuple[str, str]]) -> None:
        """Push these subjects on the next loop turn (a burst of changes goes out once)."""
        self._dirty.update(changed)
        if not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        dirty, self._dirty = self._dirty, set()
        now = self.clock()
        for subject in sorted(dirty):
            try:
                data = self.published(subject, now)
            except (LookupError, ValueError):  # gone from the board since it was marked
                continue
            self._push({"type": subject[0], "id": subject[1], "data": data})

    def view(self, kind: str, ident: str, now: float) -> dict[str, Any] | None:
        """One queue, seat or campaign as the board shows it (None when unknown)."""
        try:
            return self.metrics.view((kind, ident), now)
        except (LookupError, ValueError):  # an unknown id, or not a queue, seat or campaign
            return None

    def published(self, subject: Subject, now: float) -> dict[str, Any]:
        """A queue, seat or campaign as the monitor's pages and its MQTT topic both carry it: the
        metrics' view, a campaign's with its :meth:`dialling` state. LookupError when unknown."""
        kind, ident = subject
        data = self.metrics.view(subject, now)
        return {**data, **self.dialling(ident, now)} if kind == "campaign" else data

    def campaign_tile(self, campaign_id: str, now: float) -> dict[str, Any] | None:
        """One campaign as the monitor's board shows it (None when unknown)."""
        try:
            return self.published(("campaign", campaign_id), now)
        except (LookupError, ValueError):
            return None

    def dialling(self, campaign_id: str, now: float) -> dict[str, Any]:
        """What the dialer adds to a campaign's tile on the monitor and to its MQTT payload:
        ``active``, its ``mode`` and ``pacing_now`` (predictive falls back to progressive while
        the abandonment budget is spent), and the ``teams`` whose seats it assigns (by ``teams``
        or seat id); {} without the dialer."""
        dialer = self.dialer
        run = dialer.runs.get(campaign_id) if dialer is not None else None
        if dialer is None or run is None:
            return {}
        campaign = run.campaign
        return {"active": campaign.active, "mode": campaign.mode,
                "pacing_now": run.pacer.mode_when(run.tracker.budget(now).predictive_allowed).value,
                "teams": sorted(campaign_teams(self.settings, campaign))}

    # -- the monitor's reads ---------------------------------------------------------------------
    def board(self, now: float) -> dict[str, Any]:
        """The whole floor (each campaign with its :meth:`dialling` state), the alerts standing
        now and the watcher's latest decisions."""
        board = self.metrics.board(now)
        board["campaigns"] = {cid: {**c, **self.dialling(cid, now)} for cid, c in board["campaigns"].items()}
        return {**board, "alerts": self.alerts(now), "decisions": self.decisions(50)}

    def alerts(self, now: float) -> list[dict[str, Any]]:
        """Thresholds crossed now."""
        return self.metrics.alerts(now, self.thresholds)

    def decisions(self, limit: int) -> list[dict[str, Any]]:
        """The watcher's explained decisions, newest first."""
        return list(self._decisions)[:limit]

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue of board changes for one monitor page."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(SUBSCRIBER_BACKLOG)
        self.subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Stop feeding a monitor page."""
        with contextlib.suppress(ValueError):
            self.subscribers.remove(queue)

    def _push(self, item: dict[str, Any]) -> None:
        if self.publisher is not None and item["type"] in ("queue", "seat", "campaign"):
            self.publisher.changed(item["type"], item["id"], item["data"], self.clock())
        self._to_pages(item)

    def _to_pages(self, item: dict[str, Any]) -> None:
        for queue in list(self.subscribers):
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                # A page this far behind shows a stale floor: cut it off; it reconnects to a fresh board.
                self.unsubscribe(queue)

    # -- a lead's actions ------------------------------------------------------------------------
    def seat_ids(self) -> set[str]:
        """The seats of the floor."""
        return {s.id for s in self.settings.seats}

    def _check_seat(self, seat: str) -> None:
        if seat not in self.seat_ids():
            raise LookupError(f"unknown seat {seat!r}")

    def queues_for(self, target: str) -> list[str]:
        """The ACD queues a move target names: ``queue:<name>``, ``queues:<a>,<b>``, ``campaign:<id>``."""
        kind, _, rest = target.partition(":")
        names = [n.strip() for n in rest.split(",") if n.strip()]
        if kind == "campaign" and len(names) == 1:
            names = [campaign_queue(names[0])]
        elif kind not in ("queue", "queues") or not names or (kind == "queue" and len(names) != 1):
            raise ValueError(f"move target {target!r}: expected queue:<name>, queues:<a>,<b> or campaign:<id>")
        known = set(self.switchboard.acd.snapshot(self.clock()).queues)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"move target {target!r}: no such queue or campaign: {', '.join(unknown)}")
        return names

    async def move_seat(self, seat: str, target: str, by: str, now: float) -> dict[str, Any]:
        """Make ``target`` the seat's queues from now on (a call in progress carries on)."""
        self._check_seat(seat)
        queues = self.queues_for(target)
        board = self.switchboard
        self.sip.apply(lambda t: board.run(board.acd.set_membership(seat, queues, t, by=by), t))
        return self.view("seat", seat, self.clock()) or {}

    async def set_presence(self, seat: str, action: str, reason: str | None, by: str,
                           now: float) -> dict[str, Any]:
        """Ready, pause (with a reason) or log out a seat."""
        self._check_seat(seat)
        try:
            wanted = PresenceAction(action)
        except ValueError:
            raise ValueError(f"presence action {action!r}: expected ready, pause or logout") from None
        board = self.switchboard
        self.sip.apply(lambda t: board.set_presence(seat, wanted, t, reason=reason, by=by))
        return self.view("seat", seat, self.clock()) or {}

    async def listen(self, call: str, listener_seat: str, by: str, now: float) -> dict[str, Any]:
        """Ring the listener's phone with the call's audio; neither party is told."""
        self._check_seat(listener_seat)
        engine = self.sip.engine
        result: dict[str, Any] = {}

        def start(t: float) -> None:
            try:
                result["leg"] = engine.listen(call, listener_seat, t)
            except ListenError as exc:
                result["error"] = exc

        self.sip.apply(start)
        error = result.get("error")
        if isinstance(error, ListenError):
            raise (LookupError if error.reason == "unknown_call" else ValueError)(str(error))
        return {"call": call, "listener": listener_seat, "leg": result.get("leg")}

    async def on_command(self, command: SeatCommand) -> Mapping[str, Any]:
        """A move or presence command from the MQTT commands topic."""
        now = self.clock()
        by = command.by or "mqtt"
        if command.verb == "move":
            data = await self.move_seat(command.seat, command.target or "", by, now)
        else:
            data = await self.set_presence(command.seat, command.action or "", command.reason, by, now)
        await self.audit.write(by, f"seat.{command.verb}", f"seat:{command.seat}",
                               {"via": "mqtt", "target": command.target, "action": command.action,
                                "reason": command.reason}, at=now)
        return data

    # -- the watcher's decisions and the alerts --------------------------------------------------
    def record_decision(self, decision: dict[str, Any]) -> None:
        """Keep a watcher decision for the monitor and push it to the open pages."""
        self._decisions.appendleft(decision)
        self._push({"type": "decision", "id": str(decision.get("seat", "")), "data": decision})

    def _check_alerts(self, now: float) -> None:
        current = {a["id"]: a for a in self.alerts(now)}
        for ident, alert in current.items():
            before = self._alerts.get(ident)
            if before is None or before.get("value") != alert.get("value"):  # new, or its figure moved
                self._push({"type": "alert", "id": ident, "data": {**alert, "active": True}})
        for ident, alert in self._alerts.items():
            if ident not in current:
                self._push({"type": "alert", "id": ident, "data": {**alert, "active": False}})
        self._alerts = current

    async def start(self) -> None:
        """Start the once-a-second tick (alerts, time-based figures on MQTT), the MQTT publisher
        with its commands, and the watcher."""
        if self.publisher is not None:
            await self.publisher.__aenter__()
        if self.watcher is not None:
            self.watcher.start()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            try:
                now = self.clock()
                self._check_alerts(now)
                if self.publisher is not None:
                    self.publisher.refresh(self.metrics, now, view=self.published)
            except Exception:  # the tick must outlive one bad figure; it is logged with its cause
                log.exception("live floor tick failed")

    async def close(self) -> None:
        """Stop the watcher, the tick and the publisher (what is pending is still sent)."""
        if self.watcher is not None:
            await self.watcher.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.publisher is not None:
            await self.publisher.close()
