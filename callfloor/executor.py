"""The one executor: carries out the call engine's commands (media, call records, the bus).

Media commands run at once (they only touch sockets of this process). Database writes go through
one ordered queue drained by one task, so a row is started before it is answered or ended and the
SIP path never waits for SQLite.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from callfloor.bus.mqtt import EventBus
from callfloor.store import CallStart, Store
from telephony.calls.commands import (
    AnalyzeAudio,
    CloseListen,
    CloseMedia,
    Command,
    ConnectMedia,
    OpenListen,
    OpenMedia,
    PlayAudio,
    Publish,
    RecordAudio,
    SetListenPeer,
    SetMediaPeer,
    StartRecording,
    StopAudio,
    StopAudioRecording,
    StopRecording,
    WriteCallAnswered,
    WriteCallEnded,
    WriteCallStarted,
    WriteCallSurvey,
    WriteCallVariables,
)
from telephony.net.relay import MediaRelay

__all__ = ["FloorExecutor"]

log = logging.getLogger("callfloor.executor")

Write = Callable[[], Awaitable[object]]


class FloorExecutor:
    """Executes commands against the relay, the store and the bus."""

    def __init__(self, relay: MediaRelay, store: Store, bus: EventBus | None) -> None:
        self.relay = relay
        self.store = store
        self.bus = bus
        self._writes: asyncio.Queue[Write | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.failed_writes = 0
        # In-process readers of every published event (the live floor's metrics), called in order.
        self.listeners: list[Callable[[str, Mapping[str, Any]], None]] = []

    def start(self) -> None:
        """Start the database writer task."""
        self._writer = asyncio.get_running_loop().create_task(self._drain())

    def execute(self, command: Command) -> None:
        """Carry out one command."""
        store = self.store
        match command:
            case OpenMedia(call, ports, hosted):
                self.relay.open(call, ports, hosted)
            case ConnectMedia(call, connected):
                self.relay.connect(call, connected)
            case PlayAudio(call, side, token, prompts, loop):
                self.relay.play(call, side, token, prompts, loop)
            case StopAudio(call, side):
                self.relay.stop_playback(call, side)
            case StopRecording(call):
                self.relay.stop_recording(call)
            case RecordAudio(call, side, token, path, max_seconds):
                self.relay.record_audio(call, side, token, path, max_seconds)
            case StopAudioRecording(call, side):
                self.relay.stop_audio_recording(call, side)
            case AnalyzeAudio(call, side, token, max_seconds):
                self.relay.analyze(call, side, token, max_seconds)
            case SetMediaPeer():
                self.relay.set_peer(command)
            case StartRecording(call, path):
                if self.relay.start_recording(call, path) is not None:
                    self._write(lambda: store.set_recording(call, path))
            case CloseMedia(call):
                self.relay.close(call)
            case OpenListen(listen, call, port):
                self.relay.fanout.open(listen, call, port)
            case SetListenPeer():
                self.relay.fanout.set_peer(command)
            case CloseListen(listen):
                self.relay.fanout.close(listen)
            case WriteCallStarted():
                start = CallStart(command.uuid, command.sip_call_id, command.direction,  # type: ignore[arg-type]
                                  command.caller, command.callee, command.did or None,
                                  command.seat_id, command.started_at, command.recording_path)
                self._write(lambda: store.call_started(start))
            case WriteCallAnswered(uuid, at, seat):
                self._write(lambda: store.call_answered(uuid, at, seat))
            case WriteCallEnded(uuid, at, reason, status, by):
                self._write(lambda: store.call_ended(uuid, at, reason, sip_status=status, hangup_by=by))
            case WriteCallVariables(uuid, variables):
                self._write(lambda: store.set_variables(uuid, variables))
            case WriteCallSurvey(uuid, score, _):
                self._write(lambda: store.set_survey(uuid, score))
            case Publish(kind, payload, keep):
                for listener in self.listeners:
                    listener(kind, payload)
                if self.bus is not None:
                    self.bus.publish_event(kind, payload)
                if keep:
                    subject = str(payload.get("seat") or payload.get("call") or payload.get("trunk")
                                  or payload.get("source") or "")
                    at = float(payload.get("ts", 0.0))
                    self._write(lambda: store.record_event(kind, subject, at, payload))

    def _write(self, write: Write) -> None:
        self._writes.put_nowait(write)

    def write(self, write: Write) -> None:
        """Queue a database write behind the call records already queued (the dialer's ledger)."""
        self._writes.put_nowait(write)

    async def _drain(self) -> None:
        while True:
            write = await self._writes.get()
            try:
                if write is None:
                    return
                await write()
            except Exception:  # a failed row must not stop the writer; it is logged with its cause
                self.failed_writes += 1
                log.exception("database write failed")
            finally:
                self._writes.task_done()

    async def close(self) -> None:
        """Finish every queued write, then stop the writer."""
        if self._writer is None:
            return
        self._writes.put_nowait(None)
        await self._writer
        self._writer = None
