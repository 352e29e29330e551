"""What the demo prints: one line per interesting floor event, from callfloor's own bus events.

Pure formatting (no I/O, no clock): :class:`Narrator` turns an event kind and its payload into
a line or None, and keeps the dialer's tallies for the campaign figures printed every minute
(:meth:`Narrator.campaign_line`, from ``GET /api/campaigns``).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

__all__ = ["Narrator"]


def _short(call: Any) -> str:
    return str(call or "-")[:8]


class Narrator:
    """Formats events; counts the dialer's attempts by outcome, connects and dispositions."""

    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.connected = 0
        self.abandoned = 0
        self.dispositions: Counter[str] = Counter()
        self.dialer_calls: set[str] = set()  # the dialer's call uuids, told by their events

    def line(self, kind: str, p: dict[str, Any]) -> str | None:
        """The line for one event (None: nothing worth a line; media, DTMF, variables, progress
        and the like are in the store and on the bus all the same)."""
        if kind.startswith("dialer."):
            return self._dialer(kind, p)
        if kind.startswith(("call.", "queue.")):
            return self._call(kind, p)
        if kind.startswith("seat."):
            return self._seat(kind, p)
        if kind in ("voicemail.left", "callback.requested"):
            return f"call {_short(p.get('call'))}  {kind}"
        return f"{kind} {json.dumps(p)[:100]}"

    def _dialer(self, kind: str, p: dict[str, Any]) -> str | None:
        call = _short(p.get("call"))
        self.dialer_calls.add(str(p.get("call")))
        campaign = p.get("campaign")
        if kind == "dialer.dial":
            return None  # the call's own call.offered line tells of the dial
        if kind == "dialer.attempt":
            outcome = str(p.get("outcome"))
            self.outcomes[outcome] += 1
            seat = f", seat {p['seat']}" if p.get("seat") else ""
            amd = f", AMD {p['amd']}" if p.get("amd") else ""
            return f"call {call}  dialer {campaign}: attempt {p.get('attempt')} (lead {p.get('lead')}) {outcome}{seat}{amd}"
        if kind == "dialer.connected":
            self.connected += 1
            return (f"call {call}  dialer {campaign}: lead {p.get('lead')} connected to seat "
                    f"{p.get('seat')} {float(p.get('after_s') or 0):.2f} s after the answer")
        if kind == "dialer.abandoned":
            self.abandoned += 1
            return (f"call {call}  dialer {campaign}: ABANDONED {p.get('number')}: no seat within the "
                    f"grace time ({float(p.get('waited_s') or 0):.1f} s), the message plays")
        if kind == "dialer.disposition":
            self.dispositions[str(p.get("code"))] += 1
            callback = " (callback booked)" if p.get("callback_at") else ""
            return (f"call {call}  dialer {campaign}: seat {p.get('seat')} set disposition "
                    f"{p.get('code')}{callback}")
        return f"{kind} {json.dumps(p)[:100]}"

    def _call(self, kind: str, p: dict[str, Any]) -> str | None:
        call = _short(p.get("call"))
        if kind == "call.offered":
            seat = f" (seat {p['seat']})" if p.get("seat") else ""
            return f"call {call}  {p.get('direction', ''):8}  {p.get('caller')} -> {p.get('callee')}{seat}"
        if kind == "call.answered":
            return f"call {call}  answered by seat {p.get('seat')}, recording"
        if kind == "call.ended":
            if str(p.get("call")) in self.dialer_calls:
                self.dialer_calls.discard(str(p.get("call")))
                if not p.get("talk_seconds"):
                    return None  # the attempt's line said how it went
            return (f"call {call}  ended: {p.get('reason')} by {p.get('hangup_by') or '-'}, "
                    f"talk {float(p.get('talk_seconds') or 0):.1f} s")
        if kind == "call.survey":
            return f"call {call}  rated {p.get('score')}/{p.get('scale')}"
        if kind in ("queue.joined", "queue.abandoned", "queue.overflowed"):
            queue = str(p.get("queue"))
            if queue.startswith("campaign-"):
                return None  # the dialer's own lines say what happened
            waited = f" after {float(p.get('wait_s') or 0):.0f} s" if kind != "queue.joined" else ""
            return f"call {call}  {kind.split('.')[1]} queue {queue}{waited}"
        return None

    def _seat(self, kind: str, p: dict[str, Any]) -> str | None:
        if kind in ("seat.registered", "seat.unregistered"):
            return f"seat {p.get('seat')} {kind.split('.')[1]} ({p.get('contact')})"
        if kind == "seat.state" and p.get("presence") != p.get("previous_presence"):
            reason = f" ({p['reason']})" if p.get("reason") else ""
            return f"seat {p.get('seat')} is {p.get('presence')}{reason}"
        return None

    def campaign_line(self, stats: dict[str, Any]) -> str:
        """A campaign's figures (one ``GET /api/campaigns`` item) and this run's tallies."""
        seats = stats.get("seats") or {}
        outcomes = ", ".join(f"{n} {o.replace('_', ' ')}" for o, n in sorted(self.outcomes.items()))
        return (f"campaign {stats.get('id')}: {stats.get('launched', 0)} dials this run "
                f"({outcomes or 'none closed yet'}); {self.connected} connected, "
                f"{self.abandoned} abandoned; abandon rate "
                f"{100 * float(stats.get('abandon_24h') or 0):.1f}% over 24 h (target "
                f"{100 * float(stats.get('target_abandon') or 0):.0f}%); pacing now "
                f"{stats.get('pacing_now')} (mode {stats.get('mode')}); seats {seats.get('ready', 0)} "
                f"ready, {seats.get('talking', 0)} talking, {seats.get('wrap_up', 0)} in wrap-up; "
                f"{stats.get('dialing', 0)} ringing")

    def summary(self) -> str:
        """This run's dialer tallies in one sentence."""
        outcomes = ", ".join(f"{n} {o.replace('_', ' ')}" for o, n in sorted(self.outcomes.items()))
        codes = ", ".join(f"{n} {c}" for c, n in sorted(self.dispositions.items()))
        return (f"the dialer closed {sum(self.outcomes.values())} attempts ({outcomes or 'none'}); "
                f"{self.connected} connected to a seat, {self.abandoned} abandoned; "
                f"{sum(self.dispositions.values())} dispositions set ({codes or 'none'})")
