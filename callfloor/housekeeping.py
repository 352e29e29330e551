"""Periodic jobs of the service that are not on any call's path (blacklist expiry)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

__all__ = ["Periodic"]

log = logging.getLogger("callfloor.housekeeping")


class Periodic:
    """Runs ``job(now)`` at start and then every ``every`` seconds until closed; a failing run is
    logged and the next one still comes."""

    def __init__(self, name: str, every: float, job: Callable[[float], Awaitable[object]]) -> None:
        self.name = name
        self.every = every
        self.job = job
        self.runs = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the loop on the running event loop."""
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=self.name)

    async def _loop(self) -> None:
        while True:
            try:
                await self.job(time.time())
                self.runs += 1
            except Exception:  # the next run may succeed; this one is logged with its cause
                log.exception("%s failed", self.name)
            await asyncio.sleep(self.every)

    async def close(self) -> None:
        """Stop the loop (a run in progress is cancelled: each run is one transaction)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
