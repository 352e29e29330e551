"""baresip as a seat: a generated config dir, a bounded lifetime, and a ctrl_tcp client.

ctrl_tcp speaks netstrings (``LEN:JSON,``) both ways: commands are
``{"command": ..., "params": ..., "token": ...}``, answers carry ``"response": true`` and the
same token, and UA events (``CALL_INCOMING``, ``CALL_ESTABLISHED``, ``CALL_CLOSED``, ...) carry
``"event": true``. baresip runs in its own process group so a test can always kill all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.integration.harness import free_port, require_binary
from tests.integration.peers.process import stop_group

__all__ = ["Baresip", "BaresipAccount", "CtrlError", "baresip", "write_config"]

MODULE_DIRS = ("/usr/lib/baresip/modules", "/usr/lib/x86_64-linux-gnu/baresip/modules",
               "/usr/local/lib/baresip/modules")


class CtrlError(RuntimeError):
    """baresip answered a ctrl_tcp command with ok=false (or not at all)."""


@dataclass(frozen=True)
class BaresipAccount:
    """One line of baresip's ``accounts`` file."""

    user: str
    password: str
    registrar: tuple[str, int]
    regint: int = 60
    answermode: str = "manual"  # "auto" answers every call by itself
    codecs: str = "pcmu,pcma"

    def line(self) -> str:
        """The account line: ``<sip:USER@HOST:PORT>;auth_pass=...;regint=...``."""
        host, port = self.registrar
        return (f"<sip:{self.user}@{host}:{port};transport=udp>;auth_pass={self.password}"
                f";regint={self.regint};answermode={self.answermode};audio_codecs={self.codecs}"
                ";ptime=20")


def module_path() -> str:
    """Where the Debian package put baresip's modules."""
    for candidate in MODULE_DIRS:
        if Path(candidate, "ctrl_tcp.so").exists():
            return candidate
    raise FileNotFoundError(f"baresip modules not found in {MODULE_DIRS}")


def write_config(directory: Path, account: BaresipAccount, *, sip_port: int, ctrl_port: int,
                 cons_port: int, source_wav: Path, record_dir: Path | None = None) -> Path:
    """Write ``config`` and ``accounts`` for a headless baresip into ``directory``.

    The microphone is ``source_wav`` (8 kHz mono S16, the ``aufile`` source), the speaker is
    ALSA's ``null`` device, and ``sndfile`` (when ``record_dir`` is given) writes what the phone
    hears and sends to WAV files there.
    """
    directory.mkdir(parents=True, exist_ok=True)
    modules = ["cons.so", "g711.so", "aufile.so", "alsa.so"]
    if record_dir is not None:
        record_dir.mkdir(parents=True, exist_ok=True)
        modules.append("sndfile.so")
    lines = [
        "poll_method epoll",
        f"sip_listen 127.0.0.1:{sip_port}",
        "call_local_timeout 120",
        "call_max_calls 4",
        "audio_player alsa,null",
        f"audio_source aufile,{source_wav}",
        "audio_alert alsa,null",
        "ausrc_srate 8000",
        "auplay_srate 8000",
        "ausrc_channels 1",
        "auplay_channels 1",
        "rtcp_mux no",
        f"module_path {module_path()}",
        *(f"module {m}" for m in modules),
        "module_tmp account.so",
        "module_app menu.so",
        "module_app ctrl_tcp.so",
        f"cons_listen 127.0.0.1:{cons_port}",
        f"ctrl_tcp_listen 127.0.0.1:{ctrl_port}",
        "ringback_disabled yes",
        "statmode_default off",
    ]
    if record_dir is not None:
        lines.append(f"snd_path {record_dir}")
    (directory / "config").write_text("\n".join(lines) + "\n")
    (directory / "accounts").write_text(account.line() + "\n")
    (directory / "contacts").write_text("")
    return directory


@dataclass
class Baresip:
    """A running baresip: its process, its log and a ctrl_tcp connection."""

    process: asyncio.subprocess.Process
    log_path: Path
    ctrl_port: int
    sip_port: int
    events: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    seen: list[dict[str, Any]] = field(default_factory=list)
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None
    _pending: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _pump: asyncio.Task[None] | None = None
    _tokens: itertools.count[int] = field(default_factory=itertools.count)

    def log(self) -> str:
        """What baresip printed so far (for assertion messages)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def connect(self, timeout: float = 10.0) -> None:
        """Open the ctrl_tcp connection, retrying while baresip starts up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.process.returncode is not None:
                raise CtrlError(f"baresip exited {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.ctrl_port)
                break
            except OSError:
                if loop.time() > deadline:
                    raise CtrlError(f"ctrl_tcp never listened:\n{self.log()[-3000:]}") from None
                await asyncio.sleep(0.1)
        self._pump = asyncio.create_task(self._read_loop())

    async def _read_loop(self) -> None:
        assert self._reader is not None
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, ValueError):
            while True:
                length = int((await self._reader.readuntil(b":"))[:-1])
                body = await self._reader.readexactly(length + 1)  # the payload and its ","
                message = json.loads(body[:-1])
                if message.get("response"):
                    future = self._pending.pop(str(message.get("token")), None)
                    if future is not None and not future.done():
                        future.set_result(message)
                elif message.get("event"):
                    self.seen.append(message)
                    self.events.put_nowait(message)

    async def command(self, name: str, params: str = "", timeout: float = 5.0) -> str:
        """Run a long command (``accept``, ``hangup``, ``reginfo`` ...) and return its text."""
        assert self._writer is not None, "connect() first"
        token = str(next(self._tokens))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[token] = future
        data = json.dumps({"command": name, "params": params, "token": token}).encode()
        self._writer.write(b"%d:%s," % (len(data), data))
        await self._writer.drain()
        try:
            answer = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise CtrlError(f"no answer to {name!r} within {timeout}s") from None
        if not answer.get("ok"):
            raise CtrlError(f"{name} {params}: {answer.get('data')}")
        return str(answer.get("data", ""))

    async def registration(self) -> str | None:
        """baresip's own view of its account: "OK", "ERR", or None while the first REGISTER is out."""
        text = re.sub(r"\x1b\[[0-9;]*m", "", await self.command("reginfo"))
        for state in ("OK", "ERR"):
            if re.search(rf"\s{state}\s", text):
                return state
        return None

    async def wait_event(self, kind: str, timeout: float = 15.0) -> dict[str, Any]:
        """The next UA event of type ``kind`` (earlier events of other types are skipped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            try:
                event = await asyncio.wait_for(self.events.get(), max(left, 0.001))
            except TimeoutError:
                kinds = [e.get("type") for e in self.seen]
                raise CtrlError(f"no {kind} within {timeout}s; events so far {kinds}\n"
                                f"{self.log()[-3000:]}") from None
            if event.get("type") == kind:
                return event

    async def stop(self) -> None:
        """Close ctrl_tcp and end the process group (TERM, then KILL)."""
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        await stop_group(self.process)


@contextlib.asynccontextmanager
async def baresip(workdir: Path, account: BaresipAccount, source_wav: Path, *,
                  lifetime: int = 45, record: bool = False) -> AsyncIterator[Baresip]:
    """A baresip seat for the block: configured in ``workdir``, quitting by itself after ``lifetime`` s.

    With ``record``, what the phone sends and hears is dumped to ``workdir/heard/*-{enc,dec}.wav``.
    """
    binary = require_binary("baresip")
    sip_port, ctrl_port = free_port(), free_port()
    config = write_config(workdir / "conf", account, sip_port=sip_port, ctrl_port=ctrl_port,
                          cons_port=free_port(), source_wav=source_wav,
                          record_dir=workdir / "heard" if record else None)
    log_path = workdir / "baresip.log"
    with log_path.open("wb") as log_file:
        # -n binds SIP and RTP to loopback; -t makes it quit by itself should a test leak it.
        process = await asyncio.create_subprocess_exec(
            binary, "-f", str(config), "-t", str(lifetime), "-n", "127.0.0.1",
            stdin=asyncio.subprocess.DEVNULL, stdout=log_file, stderr=asyncio.subprocess.STDOUT,
            cwd=workdir, start_new_session=True,
        )
    phone = Baresip(process, log_path, ctrl_port, sip_port)
    try:
        await phone.connect()
        yield phone
    finally:
        await phone.stop()
