"""The customers behind the simulated carrier: how each one reacts when the dialer calls.

Every INVITE the floor sends out meets one customer, drawn by a random generator seeded per
call from the population's own (so a seeded population replays the same customers):

- ``live``: rings, a person answers, says "Hello?", talks in short turns and stays on the line
  until the seat hangs up, or hangs up after their patience runs out;
- ``busy``: 486 Busy Here at once;
- ``no_answer``: 180 Ringing until the dialer gives up with CANCEL (487, RFC 3261 §9.2);
- ``machine``: rings, answers, plays a greeting and a beep, and records until hung up;
- ``error``: 503 Service Unavailable, as a congested carrier route would.

The shares and timings are a :class:`CustomerMix`; the voices come from ``voices.py``.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from callfloor.sim.incoming import IncomingCall
from callfloor.sim.voices import machine_voice, person_voice

__all__ = ["Behaviour", "CustomerMix", "SimCustomers"]

VOICES = 4  # distinct people (and half as many machines) the population's calls share


class Behaviour(StrEnum):
    """What a called customer does."""

    LIVE = "live"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    MACHINE = "machine"
    ERROR = "error"


@dataclass(frozen=True)
class CustomerMix:
    """Shares of the behaviours (weights; they need not add up to 1) and their timings in s."""

    live: float = 0.35
    busy: float = 0.20
    no_answer: float = 0.25
    machine: float = 0.15
    error: float = 0.05
    ring: tuple[float, float] = (1.0, 6.0)  # ringing before a person or a machine answers
    patience: tuple[float, float] = (10.0, 90.0)  # a person hangs up after this, at the latest
    machine_records: float = 40.0  # a machine hangs up after recording this long
    give_up: float = 120.0  # a call nobody answers and nobody cancels ends with 480

    def __post_init__(self) -> None:
        shares = self.shares()
        if any(v < 0 for v in shares.values()) or not sum(shares.values()) > 0:
            raise ValueError("customer shares must be >= 0 and not all 0")
        for name in ("ring", "patience"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"customers.{name}: expected 0 <= low <= high, got {(low, high)}")
        if self.machine_records <= 0 or self.give_up <= 0:
            raise ValueError("customers.machine_records and give_up must be positive")

    def shares(self) -> dict[Behaviour, float]:
        """Each behaviour's weight."""
        return {b: float(getattr(self, b.value)) for b in Behaviour}

    def pick(self, rng: random.Random) -> Behaviour:
        """One customer's behaviour."""
        shares = self.shares()
        return rng.choices(list(shares), weights=list(shares.values()))[0]

    @classmethod
    def parse(cls, text: str) -> CustomerMix:
        """``"live=35,busy=20,no_answer=25,machine=15,error=5"`` (percentages or fractions;
        behaviours left out keep their default share)."""
        known = {b.value for b in Behaviour}
        values: dict[str, float] = {}
        for item in filter(None, (p.strip() for p in text.split(","))):
            name, sep, value = item.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in known:
                raise ValueError(f"{item!r}: expected NAME=SHARE with NAME one of {', '.join(sorted(known))}")
            try:
                values[name] = float(value)
            except ValueError:
                raise ValueError(f"{item!r}: {value.strip()!r} is not a number") from None
        return cls(**values)  # type: ignore[arg-type]

    def describe(self) -> str:
        """The shares as percentages, e.g. "35% live, 20% busy, ..."."""
        shares = self.shares()
        total = sum(shares.values())
        return ", ".join(f"{100 * v / total:.0f}% {b.value.replace('_', ' ')}"
                         for b, v in shares.items())


class SimCustomers:
    """The population: picks each call's customer and plays the behaviour out on the call."""

    def __init__(self, mix: CustomerMix | None = None, *, rng: random.Random | None = None,
                 on_pick: Callable[[IncomingCall, Behaviour], None] | None = None) -> None:
        self.mix = mix or CustomerMix()
        self.rng = rng or random.Random()
        self.on_pick = on_pick
        self.counts: Counter[Behaviour] = Counter()
        self.picked: dict[str, Behaviour] = {}  # Call-ID -> behaviour, for tests and summaries

    def choose(self, call: IncomingCall) -> tuple[Behaviour, random.Random]:
        """Draw this call's customer and the generator its timings come from."""
        rng = random.Random(self.rng.getrandbits(64))
        behaviour = self.mix.pick(rng)
        self.counts[behaviour] += 1
        self.picked[call.call_id] = behaviour
        if self.on_pick is not None:
            self.on_pick(call, behaviour)
        return behaviour, rng

    async def answer(self, call: IncomingCall) -> None:
        """Play one customer out on ``call`` (the carrier's task for this INVITE)."""
        behaviour, rng = self.choose(call)
        try:
            if behaviour is Behaviour.BUSY:
                call.reject(486, "Busy Here")
            elif behaviour is Behaviour.ERROR:
                call.reject(503, "Service Unavailable")
            elif behaviour is Behaviour.NO_ANSWER:
                call.ring()
                if not await call.wait_ended(self.mix.give_up):
                    call.reject(480, "Temporarily Unavailable")
            elif behaviour is Behaviour.MACHINE:
                call.stream.play(machine_voice(rng.randrange(VOICES // 2)))
                await self._pick_up(call, rng, self.mix.machine_records)
            else:
                call.stream.play(person_voice(rng.randrange(VOICES)))
                await self._pick_up(call, rng, rng.uniform(*self.mix.patience))
        finally:
            call.abort("cancelled")  # no-op unless the task was cancelled midway

    async def _pick_up(self, call: IncomingCall, rng: random.Random, stay: float) -> None:
        """Ring, answer (unless cancelled first), stay ``stay`` s unless hung up on, hang up."""
        call.ring()
        if await call.wait_ended(rng.uniform(*self.mix.ring)) or not await call.answer():
            return
        if not await call.wait_ended(stay):
            await call.hangup("customer hung up")
