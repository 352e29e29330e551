"""The queue-watcher in the live service: the floor's metrics become a ``WatcherSnapshot``, the
pure ``floor.watcher.QueueWatcher`` decides, and each move is carried out through the ACD,
explained on the monitor and written to the audit log.

A seat serving several queues is described to the watcher by one assignment, its first queue
(or its campaign); a move returns it home by restoring the whole membership it started with.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tomllib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from callfloor.floorwiring import campaign_queue
from callfloor.settings import ConfigError
from floor.watcher import QueueWatcher
from floor.watcher_policy import PolicyError, WatcherPolicy, parse_policy
from floor.watcher_snapshot import (
    QueueInfo,
    SeatActivity,
    SeatInfo,
    SeatMove,
    WatcherSnapshot,
    campaign_target,
    queue_target,
)

if TYPE_CHECKING:
    from callfloor.floorlive import LiveFloor

__all__ = ["WatcherLoop", "assignment_of", "load_policy", "seat_activity"]

log = logging.getLogger("callfloor.watcher")

_CAMPAIGN = campaign_queue("")


def load_policy(path: Any) -> WatcherPolicy:
    """Read and validate a watcher policy file; ``ConfigError`` naming the file and key."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError([f"{path}: {exc}"]) from exc
    try:
        return parse_policy(data, str(path))
    except PolicyError as exc:
        raise ConfigError([str(exc)]) from exc


def assignment_of(queues: Sequence[str]) -> str:
    """The one assignment the watcher sees for a membership: its campaign, else its first queue."""
    for name in queues:
        if name.startswith(_CAMPAIGN):
            return campaign_target(name.removeprefix(_CAMPAIGN))
    return queue_target(sorted(queues)[0]) if queues else queue_target("")


def seat_activity(view: Mapping[str, Any]) -> SeatActivity:
    """The watcher's state of a seat from its board view."""
    presence, call = view.get("presence"), view.get("call_state")
    if presence == "logged-out":
        return SeatActivity.LOGGED_OUT
    if call == "ringing":
        return SeatActivity.RINGING
    if call == "on-call":
        return SeatActivity.TALKING
    if presence == "wrap-up":
        return SeatActivity.WRAP_UP
    if presence == "paused":
        return SeatActivity.PAUSED
    return SeatActivity.READY


class WatcherLoop:
    """Runs the watcher every ``every`` seconds against the live floor."""

    def __init__(self, live: LiveFloor, policy: WatcherPolicy, every: float) -> None:
        self.live = live
        self.watcher = QueueWatcher(policy)
        self.every = every
        settings = live.settings
        self.home_queues: dict[str, tuple[str, ...]] = {}
        self.skills: dict[str, dict[str, int]] = {}
        for seat in settings.seats:
            self.skills[seat.id] = {**{q: 1 for q in seat.queues}, **dict(seat.skills)}
        self.moved_at: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    def remember_homes(self, now: float) -> None:
        """Each seat's membership at start: where a returned seat goes back to."""
        for seat, view in self.live.switchboard.acd.snapshot(now).seats.items():
            self.home_queues.setdefault(seat, tuple(sorted(view.queues)))

    def snapshot(self, now: float) -> WatcherSnapshot:
        """The floor as the watcher sees it, from the live metrics."""
        board = self.live.metrics.board(now)
        queues = {
            qid: QueueInfo(id=qid, sl_15m=(q.get("sl") or {}).get("15m"),
                           longest_wait_s=float(q.get("longest_wait_s") or 0.0),
                           waiting=int(q.get("waiting") or 0), arrival_rate=q.get("arrival_rate_15m"),
                           handle_time_s=q.get("aht_60m_s"))
            for qid, q in board["queues"].items() if not qid.startswith(_CAMPAIGN)
        }
        seats = {
            sid: SeatInfo(id=sid, home=assignment_of(self.home_queues.get(sid, ())),
                          assignment=assignment_of(tuple(view.get("queues") or ())),
                          skills=self.skills.get(sid, {}), state=seat_activity(view),
                          moved_at=self.moved_at.get(sid))
            for sid, view in board["seats"].items()
        }
        return WatcherSnapshot(at=now, queues=queues, seats=seats)

    def target_for(self, move: SeatMove) -> str:
        """The move target as the live floor takes it: home restores the whole home membership."""
        home = self.home_queues.get(move.seat, ())
        if move.target == assignment_of(home) and len(home) > 1:
            return "queues:" + ",".join(home)
        return move.target

    async def step(self, now: float) -> list[SeatMove]:
        """One decision: compute, carry out, explain and audit every move."""
        moves = self.watcher.decide(self.snapshot(now), now)
        for move in moves:
            decision = move.to_dict()
            try:
                await self.live.move_seat(move.seat, self.target_for(move), "watcher", now)
            except (LookupError, ValueError) as exc:
                log.warning("watcher: move of seat %s to %s refused: %s", move.seat, move.target, exc)
                continue
            self.moved_at[move.seat] = now
            self.live.record_decision(decision)
            await self.live.audit.write("watcher", "seat.move", f"seat:{move.seat}", decision, at=now)
        return moves

    def start(self) -> None:
        """Start deciding every ``every`` seconds."""
        self.remember_homes(self.live.clock())
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.step(self.live.clock())
            except Exception:  # one bad decision must not stop the watcher; logged with its cause
                log.exception("queue-watcher step failed")

    async def close(self) -> None:
        """Stop deciding."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
