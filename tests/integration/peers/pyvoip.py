"""pyVoIP as a seat: a ``VoIPPhone`` registered to the floor that answers with a tone.

pyVoIP is threaded and blocking (``VoIPPhone.start`` registers synchronously, ``stop``
deregisters synchronously), while the floor under test runs in the test's event loop. So the
blocking calls run in worker threads (``asyncio.to_thread``) and the test polls plain attributes,
each wait bounded. pyVoIP's own threads are not daemons: ``stop`` must run, hence the
context manager.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tests.integration.harness import free_port

__all__ = ["PhoneLog", "ToneAnswerer", "pyvoip_phone", "to_unsigned_8bit"]


def to_unsigned_8bit(pcm: npt.NDArray[np.int16]) -> bytes:
    """pyVoIP's audio format: 8 kHz mono, unsigned 8-bit linear (silence is 0x80)."""
    return bytes(((pcm.astype(np.int32) >> 8) + 128).astype(np.uint8).tobytes())


@dataclass
class PhoneLog:
    """What happened to the phone's calls, written from pyVoIP's threads."""

    answered: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    calls: list[str] = field(default_factory=list)
    heard: bytearray = field(default_factory=bytearray)
    errors: list[str] = field(default_factory=list)


class ToneAnswerer:
    """A call callback: answer, play ``audio`` (pyVoIP format), listen, and wait for the BYE.

    With ``hangup_after`` the phone hangs up itself after that many seconds of talk.
    """

    def __init__(self, audio: bytes, *, hangup_after: float | None = None, limit: float = 30.0) -> None:
        self.audio = audio
        self.hangup_after = hangup_after
        self.limit = limit
        self.log = PhoneLog()

    def __call__(self, call: Any) -> None:
        from pyVoIP.VoIP import CallState

        log = self.log
        try:
            log.calls.append(str(call.call_id))
            call.answer()
            log.answered.set()
            call.write_audio(self.audio)
            started = time.monotonic()
            while call.state == CallState.ANSWERED and time.monotonic() - started < self.limit:
                log.heard += call.read_audio(160, blocking=False)
                if self.hangup_after is not None and time.monotonic() - started >= self.hangup_after:
                    call.hangup()
                    break
                time.sleep(0.02)  # pyVoIP's read is a poll; this thread is pyVoIP's, not the test's
        except Exception as exc:  # recorded for the test's assertion message, never swallowed silently
            log.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            log.ended.set()


@contextlib.asynccontextmanager
async def pyvoip_phone(sip: tuple[str, int], user: str, password: str, answer: ToneAnswerer,
                       *, register_timeout: int = 5) -> AsyncIterator[Any]:
    """A registered pyVoIP phone on 127.0.0.1 (SIP and RTP on free ports), always stopped after."""
    from pyVoIP.VoIP import PhoneStatus, VoIPPhone

    rtp = free_port()
    phone = VoIPPhone(sip[0], sip[1], user, password, myIP="127.0.0.1", callCallback=answer,
                      sipPort=free_port(), rtpPortLow=rtp, rtpPortHigh=rtp)
    phone.sip.register_timeout = register_timeout
    try:
        await asyncio.to_thread(phone.start)
        if phone.get_status() is not PhoneStatus.REGISTERED:
            raise RuntimeError(f"pyVoIP did not register: {phone.get_status()}")
        yield phone
    finally:
        await asyncio.to_thread(phone.stop)
