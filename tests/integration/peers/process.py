"""Peer processes run in their own process group, so a test can always end all of it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

__all__ = ["stop_group"]


async def stop_group(process: asyncio.subprocess.Process, grace: float = 3.0) -> None:
    """Terminate ``process`` and its process group; kill it if it lingers."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
