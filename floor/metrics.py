"""The live floor's figures, computed incrementally from the event log (never by polling SQL).

Feed every published event to :meth:`FloorMetrics.apply` (or a stored log to :meth:`replay`);
each returns the subjects whose figures changed. The views (:meth:`board`, :meth:`queue`,
:meth:`seat`, :meth:`campaign`, :meth:`alerts`) are JSON-ready dicts whose schema is in
``docs/monitor.md``; reading them at ``now`` changes nothing. Pure: time comes in as ``at`` and
``now``, "today" from the injected ``day_start(now)``.

Events read: ``queue.*`` (floor/eventlog.py), ``seat.state|availability|membership``,
``dialer.dial|connected|abandoned|attempt``, and ``call.offered|ended`` for the caller's number.
Other kinds change nothing. Unknown queues, seats and campaigns are added when first seen;
queues and campaigns created at run time are announced with :meth:`FloorMetrics.add_queue` and
:meth:`FloorMetrics.add_campaign` (their spec; figures are never reset).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from floor.core import QueueNotFound
from floor.errors import ConfigError, UnknownSeat
from floor.metrics_campaign import (
    DIALER_KINDS,
    CampaignFigures,
    CampaignLike,
    CampaignNotFound,
    campaign_spec,
)
from floor.metrics_model import (
    AlertThresholds,
    BadEvent,
    CampaignSpec,
    Payload,
    QueueSpec,
    SeatSpec,
    opt_str,
    req_bool,
    req_str,
    utc_day_start,
)
from floor.metrics_queue import QUEUE_KINDS, QueueFigures, queue_spec
from floor.metrics_seat import SeatFigures
from floor.model import QueueConfig, SeatConfig

__all__ = [
    "AlertThresholds",
    "BadEvent",
    "CampaignLike",
    "CampaignNotFound",
    "CampaignSpec",
    "FLOOR_STARTED",
    "FloorMetrics",
    "QueueNotFound",
    "QueueSpec",
    "SeatSpec",
    "Subject",
    "campaign_spec",
    "queue_spec",
    "replay",
]

Subject = tuple[str, str]  # ("queue" | "seat" | "campaign", id)
MAX_CALLERS = 10_000  # caller numbers remembered for calls not yet in a queue
# Written by the service when it starts: what ran before is gone (the ACD starts afresh).
FLOOR_STARTED = "floor.started"


class FloorMetrics:
    """Per queue, campaign and seat figures, kept up to date event by event."""

    @classmethod
    def for_floor(cls, queues: Sequence[QueueConfig], seats: Sequence[SeatConfig],
                  campaigns: Sequence[CampaignLike] = (), *,
                  day_start: Callable[[float], float] = utc_day_start) -> FloorMetrics:
        """The board of an ACD built from these queue and seat configurations (campaign queues
        and memberships included), with these campaigns' drop-rate targets."""
        return cls(queues=[queue_spec(q) for q in queues],
                   campaigns=[campaign_spec(c) for c in campaigns],
                   seats=[SeatSpec(s.id, s.name, s.team, s.queues) for s in seats],
                   day_start=day_start)

    def __init__(self, *, queues: Sequence[QueueSpec] = (), campaigns: Sequence[CampaignSpec] = (),
                 seats: Sequence[SeatSpec] = (),
                 day_start: Callable[[float], float] = utc_day_start) -> None:
        self._day_start = day_start
        self._queues: dict[str, QueueFigures] = {}
        self._campaigns: dict[str, CampaignFigures] = {}
        self._by_queue: dict[str, str] = {}  # campaign queue -> campaign id
        self._seats: dict[str, SeatFigures] = {}
        self._lent: dict[str, set[str]] = {}  # campaign -> seats lent to it
        self._numbers: dict[str, str] = {}  # call -> caller number (call.offered)
        self._alerting: dict[str, float] = {}  # alert id -> when alerts() first saw it
        for q in queues:
            if q.name in self._queues:
                raise ConfigError(f"metrics: queue {q.name} is configured twice")
            self._queues[q.name] = QueueFigures(q)
        for c in campaigns:
            if c.id in self._campaigns:
                raise ConfigError(f"metrics: campaign {c.id} is configured twice")
            self._add_campaign(c)
        for s in seats:
            if s.id in self._seats:
                raise ConfigError(f"metrics: seat {s.id} is configured twice")
            self._seats[s.id] = SeatFigures(s)
            for name in s.queues:
                self._queue(name).members.add(s.id)

    # ---- queues and campaigns created or changed at run time ----------------------------------

    def add_queue(self, spec: QueueSpec | QueueConfig) -> frozenset[Subject]:
        """Show and count a queue created at run time. A known name (configured, or first seen in
        an event) keeps its figures and members and takes this spec; returns the changed tiles."""
        spec = queue_spec(spec)
        q = self._queues.get(spec.name)
        if q is None:
            self._queues[spec.name] = QueueFigures(spec)
        else:
            q.spec = spec
        return frozenset({("queue", spec.name)})

    def replace_queue(self, spec: QueueSpec | QueueConfig) -> frozenset[Subject]:
        """A known queue's new spec (its service-level threshold), its figures kept."""
        spec = queue_spec(spec)
        if spec.name not in self._queues:
            raise QueueNotFound(f"no queue {spec.name!r} on the board")
        return self.add_queue(spec)

    def add_campaign(self, spec: CampaignSpec | CampaignLike) -> frozenset[Subject]:
        """Show and count a campaign created at run time (its queue tile comes from
        :meth:`add_queue`). A known id keeps its figures and takes this spec."""
        spec = campaign_spec(spec)
        campaign = self._campaigns.get(spec.id)
        if campaign is None:
            self._add_campaign(spec)
        else:
            campaign.spec = spec
        return frozenset({("campaign", spec.id)})

    def replace_campaign(self, spec: CampaignSpec | CampaignLike) -> frozenset[Subject]:
        """A known campaign's new spec (target, formula, AMD allowance), its figures kept. Its
        seats follow the ACD's ``seat.membership`` events of its queue, not the spec."""
        spec = campaign_spec(spec)
        if spec.id not in self._campaigns:
            raise CampaignNotFound(f"no campaign {spec.id!r} on the board")
        return self.add_campaign(spec)

    def remove_campaign(self, campaign_id: str) -> frozenset[Subject]:
        """Take a campaign deleted at run time, and its queue, off the board; the subjects gone."""
        campaign = self._campaigns.pop(campaign_id, None)
        if campaign is None:
            raise CampaignNotFound(f"no campaign {campaign_id!r} on the board")
        queue = campaign.spec.queue
        del self._by_queue[queue]
        for seat_id in self._lent.pop(campaign_id):
            self._seats[seat_id].lent_to = None
        for seat in self._seats.values():
            seat.queues = seat.queues - {queue}
        gone: set[Subject] = {("campaign", campaign_id), ("queue", queue)}
        return frozenset(gone if self._queues.pop(queue, None) is not None else gone - {("queue", queue)})

    # ---- events in ---------------------------------------------------------------------------

    def apply(self, kind: str, at: float, payload: Payload) -> frozenset[Subject]:
        """One event; returns the subjects whose figures changed. Raises :class:`BadEvent`."""
        if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
            raise BadEvent(f"{kind} event: time {at!r} is not a finite number")
        head, _, what = kind.partition(".")
        if head == "queue":
            return frozenset(self._on_queue(kind, what, float(at), payload))
        if head == "seat" and what in ("state", "availability", "membership"):
            return frozenset(self._on_seat(kind, what, float(at), payload))
        if head == "dialer" and what in DIALER_KINDS:
            cid, call = req_str(kind, payload, "campaign"), req_str(kind, payload, "call")
            self._campaign(cid).apply(kind, what, at, self._day_start(at), call, payload)
            return frozenset({("campaign", cid)})
        if kind in ("call.offered", "call.ended"):
            self._on_call(kind, payload)
        if kind == FLOOR_STARTED:
            return frozenset(self._restart(float(at)))
        return frozenset()

    def _restart(self, at: float) -> set[Subject]:
        """The service (re)started at ``at``: its ACD begins with every seat logged out, unreachable
        and in its configured queues, and no caller or dial survives; the board follows, so a
        replay across a stop agrees with the ACD after it. Today's counts are kept."""
        changed: set[Subject] = set()
        for seat in self._seats.values():
            changed |= self._related(seat)
            for name in seat.queues:
                self._queues[name].members.discard(seat.id)
            if seat.lent_to is not None:
                self._lent[seat.lent_to].discard(seat.id)
            seat.restart(at)
            for name in seat.queues:
                self._queue(name).members.add(seat.id)
            changed |= {("seat", seat.id)} | self._related(seat)
        for q in self._queues.values():
            q.callers.clear()
            changed.add(("queue", q.name))
        for cid, campaign in self._campaigns.items():
            campaign.in_flight.clear()
            changed.add(("campaign", cid))
        self._numbers.clear()
        return changed

    def replay(self, events: Iterable[tuple[str, float, Payload]]) -> FloorMetrics:
        """Apply a stored event log, oldest first; returns this object."""
        for kind, at, payload in events:
            self.apply(kind, at, payload)
        return self

    def _on_queue(self, kind: str, what: str, at: float, p: Payload) -> set[Subject]:
        if what not in QUEUE_KINDS:
            raise BadEvent(f"{kind} event: unknown queue event (one of {', '.join(QUEUE_KINDS)})")
        name, call = req_str(kind, p, "queue"), req_str(kind, p, "call")
        seat = self._seat(req_str(kind, p, "seat")) if what in ("answered", "ended") else None
        day = self._day_start(at)
        q = self._queue(name)
        q.apply(kind, what, at, day, call, p, self._numbers.get(call))
        changed: set[Subject] = {("queue", name)}
        if seat is not None:
            if what == "answered":
                seat.answered(day)
            else:
                seat.ended(day, float(p["talk_s"]))  # checked by QueueFigures.apply
            changed.add(("seat", seat.id))
        return changed

    def _on_seat(self, kind: str, what: str, at: float, p: Payload) -> set[Subject]:
        seat = self._seat(req_str(kind, p, "seat"))
        before = self._related(seat)
        if what == "state":
            seat.set_state(kind, at, p)
        elif what == "availability":
            reachable, busy = req_bool(kind, p, "reachable"), req_bool(kind, p, "busy_elsewhere")
            lent = opt_str(kind, p, "lent_to")
            if seat.lent_to is not None:
                self._lent[seat.lent_to].discard(seat.id)
            if lent is not None:
                self._campaign(lent)
                self._lent[lent].add(seat.id)
            seat.reachable, seat.busy_elsewhere, seat.lent_to = reachable, busy, lent
        else:
            queues = _str_list(kind, p, "queues")
            for name in seat.queues - queues:
                self._queues[name].members.discard(seat.id)
            for name in queues:
                self._queue(name).members.add(seat.id)
            seat.queues = queues
        return {("seat", seat.id)} | before | self._related(seat)

    def _on_call(self, kind: str, p: Payload) -> None:
        call = req_str(kind, p, "call")
        if kind == "call.ended":
            self._numbers.pop(call, None)
            return
        number = opt_str(kind, p, "caller")
        if number:
            self._numbers[call] = number
            if len(self._numbers) > MAX_CALLERS:  # calls whose end was never seen
                del self._numbers[next(iter(self._numbers))]

    def _related(self, seat: SeatFigures) -> set[Subject]:
        """The queue and campaign tiles that count ``seat``."""
        related: set[Subject] = {("queue", name) for name in seat.queues}
        related |= {("campaign", self._by_queue[name]) for name in seat.queues if name in self._by_queue}
        if seat.lent_to is not None:
            related.add(("campaign", seat.lent_to))
        return related

    # ---- lookups (adding what is seen first in an event) -------------------------------------

    def _queue(self, name: str) -> QueueFigures:
        q = self._queues.get(name)
        if q is None:
            q = self._queues[name] = QueueFigures(QueueSpec(name))
        return q

    def _seat(self, seat_id: str) -> SeatFigures:
        seat = self._seats.get(seat_id)
        if seat is None:
            seat = self._seats[seat_id] = SeatFigures(SeatSpec(seat_id))
        return seat

    def _campaign(self, cid: str) -> CampaignFigures:
        campaign = self._campaigns.get(cid)
        return campaign if campaign is not None else self._add_campaign(CampaignSpec(cid))

    def _add_campaign(self, spec: CampaignSpec) -> CampaignFigures:
        campaign = self._campaigns[spec.id] = CampaignFigures(spec)
        self._by_queue[spec.queue] = spec.id
        self._lent[spec.id] = set()
        return campaign

    def _campaign_seats(self, campaign: CampaignFigures) -> Iterator[SeatFigures]:
        q = self._queues.get(campaign.spec.queue)
        members = q.members if q is not None else set()
        for seat_id in sorted(members | self._lent[campaign.id]):
            seat = self._seats[seat_id]
            if seat.lent_to in (None, campaign.id):  # lent to another campaign: serving that one
                yield seat

    # ---- views out ---------------------------------------------------------------------------

    def queue(self, name: str, now: float) -> dict[str, Any]:
        """One queue's figures at ``now``."""
        q = self._queues.get(name)
        if q is None:
            raise QueueNotFound(f"no queue {name!r} on the board")
        return q.to_json(now, self._day_start(now), self._seats.__getitem__)

    def seat(self, seat_id: str, now: float) -> dict[str, Any]:
        """One seat's state and today's figures at ``now``."""
        seat = self._seats.get(seat_id)
        if seat is None:
            raise UnknownSeat(f"no seat {seat_id!r} on the board")
        return seat.to_json(now, self._day_start(now))

    def campaign(self, cid: str, now: float) -> dict[str, Any]:
        """One campaign's figures at ``now``."""
        campaign = self._campaigns.get(cid)
        if campaign is None:
            raise CampaignNotFound(f"no campaign {cid!r} on the board")
        return campaign.to_json(now, self._day_start(now), self._campaign_seats(campaign))

    def view(self, subject: Subject, now: float) -> dict[str, Any]:
        """The figures of one subject (as :meth:`apply` names them)."""
        kind, ident = subject
        if kind == "queue":
            return self.queue(ident, now)
        if kind == "seat":
            return self.seat(ident, now)
        if kind == "campaign":
            return self.campaign(ident, now)
        raise ValueError(f"unknown subject kind {kind!r}")

    def subjects(self) -> list[Subject]:
        """Every subject on the board: queues, campaigns, seats."""
        return ([("queue", n) for n in self._queues] + [("campaign", c) for c in self._campaigns]
                + [("seat", s) for s in self._seats])

    def board(self, now: float) -> dict[str, Any]:
        """The whole floor at ``now``."""
        return {
            "queues": {name: self.queue(name, now) for name in self._queues},
            "campaigns": {cid: self.campaign(cid, now) for cid in self._campaigns},
            "seats": {sid: self.seat(sid, now) for sid in self._seats},
            "at": now,
        }

    def alerts(self, now: float, thresholds: AlertThresholds | None = None) -> list[dict[str, Any]]:
        """The thresholds crossed at ``now``: longest wait, 15-minute service level, drop rate.

        A long wait's ``since`` is when it crossed the threshold; for the rates it is the first
        call of this method that saw them crossed (the only view that keeps state).
        """
        t = thresholds or AlertThresholds()
        out: list[dict[str, Any]] = []
        for name, q in self._queues.items():
            first = next(iter(q.callers.values()), None)
            if first is not None and now - first[0] > t.longest_wait_s:
                out.append(_alert("longest_wait", f"queue:{name}", round(now - first[0], 3),
                                  t.longest_wait_s, first[0] + t.longest_wait_s, now))
            num, den = q.windows["15m"].totals(now)
            if den and num / den < t.service_level:
                out.append(_alert("service_level", f"queue:{name}", round(num / den, 4),
                                  t.service_level, None, now))
        for cid, campaign in self._campaigns.items():
            rate = campaign.windows.day(now).rate(campaign.spec.formula, campaign.spec.amd_allowance)
            if rate is not None and rate >= t.drop_rate:
                out.append(_alert("drop_rate", f"campaign:{cid}", round(rate, 5), t.drop_rate,
                                  None, now))
        seen = {a["id"]: a for a in out}
        self._alerting = {key: self._alerting.get(key, now) for key in seen}
        for key, alert in seen.items():
            if alert["since"] is None:
                alert["since"] = self._alerting[key]
        return out

def _alert(kind: str, subject: str, value: float, threshold: float, since: float | None,
           now: float) -> dict[str, Any]:
    return {"id": f"{kind}:{subject}", "kind": kind, "subject": subject, "value": value,
            "threshold": threshold, "since": since, "at": now}


def _str_list(kind: str, payload: Payload, key: str) -> frozenset[str]:
    value = payload.get(key)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise BadEvent(f"{kind} event: field {key!r} must be a list of names, not {value!r}")
    return frozenset(value)


def replay(events: Iterable[tuple[str, float, Payload]], *, queues: Sequence[QueueSpec] = (),
           campaigns: Sequence[CampaignSpec] = (), seats: Sequence[SeatSpec] = (),
           day_start: Callable[[float], float] = utc_day_start) -> FloorMetrics:
    """A fresh board built from a stored event log (oldest first)."""
    metrics = FloorMetrics(queues=queues, campaigns=campaigns, seats=seats, day_start=day_start)
    return metrics.replay(events)
