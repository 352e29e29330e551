"""The demo line's callers and the seats' own calls: traffic for ``callfloor demo``.

:func:`ivr_traffic` sends Poisson arrivals through a :class:`SimCarrier` to the IVR line; each
caller listens to the welcome, picks from the menu by DTMF (sometimes types an account number),
waits in the queue with a patience of its own, talks, and rates the call afterwards.
:func:`seat_dial_outs` has an idle seat dial a customer through the carrier now and then.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

from callfloor.sim.carrier import SimCarrier
from callfloor.sim.phone import SimPhone

__all__ = ["DEMO_LINE", "ivr_caller", "ivr_traffic", "seat_dial_outs"]

DEMO_LINE = "+15550100"


async def ivr_caller(carrier: SimCarrier, caller_id: str, rng: random.Random) -> None:
    """One customer: calls the demo line, picks from the menu, waits, talks, rates the call."""
    call = carrier.new_call(DEMO_LINE, caller_id)
    await call.start()
    if not await call.wait_answered(10):
        return
    await asyncio.sleep(rng.uniform(1.5, 3.0))  # the welcome and the menu
    choice = rng.choices(["1", "2", "3", ""], weights=[4, 5, 1, 1])[0]
    call.send_dtmf(choice + ("1234#" if choice == "3" else ""))
    patience = rng.uniform(30, 90)
    waited = 0.0
    while waited < patience:
        if await call.wait_ended(3.0):
            return
        waited += 3.0
        call.send_dtmf(str(rng.randint(2, 5)))  # ignored while waiting; rates the call afterwards
    await call.hangup()  # gave up waiting: an abandoned call


async def ivr_traffic(carrier: SimCarrier, per_minute: float, stop: asyncio.Event,
                   rng: random.Random) -> int:
    """Poisson arrivals at the IVR until ``stop``; returns how many customers called."""
    tasks: set[asyncio.Task[None]] = set()
    placed = 0
    loop = asyncio.get_running_loop()
    while not stop.is_set() and per_minute > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rng.expovariate(per_minute / 60.0))
            break
        placed += 1
        task = loop.create_task(ivr_caller(carrier, f"+1555{rng.randrange(10**7):07d}", rng))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return placed


async def seat_dial_outs(phones: list[SimPhone], stop: asyncio.Event, rng: random.Random) -> None:
    """Every minute or so an idle seat calls a customer through the carrier (9 + number)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rng.uniform(40, 80))
            return
        idle = [p for p in phones if not p.active]
        if idle:
            await rng.choice(idle).dial(f"9+1555{rng.randrange(10**7):07d}", talk=(5, 10))
