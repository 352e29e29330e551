"""Bounded waits on the floor under test: poll its state, never sleep a fixed time and hope."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from callfloor.app import Running
from callfloor.store import CallRow

__all__ = ["calls_when_idle", "registered", "until"]


async def until(predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Return once ``predicate()`` holds; raise ``TimeoutError`` naming ``what`` after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


def registered(service: Running, seat: str) -> bool:
    """True while the floor's registrar holds a live binding for ``seat``."""
    return bool(service.engine.seats.registrar.lookup(seat, time.time()))


async def calls_when_idle(service: Running, timeout: float = 10.0) -> list[CallRow]:
    """Wait until no call is live, let queued database writes land, and return the call records."""
    await until(lambda: not service.engine.calls, "the floor to have no live call", timeout)
    await service.executor.close()
    service.executor.start()
    return await service.store.calls()
