"""Shared plumbing for integration tests: a callfloor on free loopback ports, and real peers.

The service runs inside the test's event loop (``callfloor.app.running``), so a test can look at
the engine, the relay and the store directly while SIPp, baresip or pyVoIP talk to it over UDP.
The carrier side binds 127.0.0.2 so that its source address, not a password, identifies it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from callfloor.app import Running, running
from callfloor.settings import Settings

__all__ = [
    "CARRIER_HOST",
    "SIPP_DIR",
    "SippResult",
    "floor",
    "floor_settings",
    "free_port",
    "require_binary",
    "run_sipp",
]

CARRIER_HOST = "127.0.0.2"
SIPP_DIR = Path(__file__).parent / "sipp"
SIPP_MEDIA = Path("/usr/share/sip-tester")


def require_binary(name: str) -> str:
    """The path of ``name``; skipped locally when absent, a failure in CI (integration tests must run there)."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; .ci/run installs it")
        pytest.skip(f"{name} not installed")
    return path


def free_port(host: str = "127.0.0.1", *, pair: bool = False) -> int:
    """A port free for UDP and TCP on ``host`` (with ``pair``, an even one whose odd neighbour is free too)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = int(udp.getsockname()[1])
        if pair and port % 2:
            continue
        try:
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                with socket.socket(socket.AF_INET, kind) as probe:
                    probe.bind((host, port))
                    if pair:
                        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as odd:
                            odd.bind((host, port + 1))
        except OSError:
            continue
        return port
    raise OSError("no free port")


def floor_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test floor: seats 1001-1004, a carrier on 127.0.0.2, free ports everywhere."""
    # Below Linux's ephemeral range (32768-60999), where the peers' own sockets land.
    rtp_low = 12000 + (os.getpid() * 1000) % 19000
    rtp_low -= rtp_low % 2
    data: dict[str, Any] = {
        "sip": {"listen": f"127.0.0.1:{free_port()}", "auth_algorithms": ["MD5", "SHA-256"],
                "ring_timeout": 8.0, "media_timeout": 10.0},
        "seats": [{"id": f"100{i}", "password": f"secret100{i}"} for i in range(1, 5)],
        "trunk": {"host": CARRIER_HOST, "port": 5070, "allow": [f"{CARRIER_HOST}/32"],
                  "did": ["+15550100", "+15550101"], "caller_id": "+15550100"},
        "routes": {"+15550100": "1001", "+15550101": "1002"},
        "storage": {"data_dir": str(tmp_path / "data")},
        "http": {"listen": f"127.0.0.1:{free_port()}"},
        "rtp": {"ports": f"{rtp_low}-{rtp_low + 999}"},
        "bus": {"embedded_listen": f"127.0.0.1:{free_port()}"},
        "log": {"level": "INFO"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Settings.model_validate(data)


@asynccontextmanager
async def floor(settings: Settings, *, http: bool = False) -> AsyncIterator[Running]:
    """A running callfloor for the duration of the block."""
    async with running(settings, http=http) as service:
        yield service


@dataclass
class SippResult:
    """What a SIPp run left behind."""

    returncode: int
    output: str
    errors: str
    messages: str

    def explain(self) -> str:
        """Everything useful for an assertion message."""
        return f"sipp exited {self.returncode}\n{self.output[-3000:]}\n{self.errors[-3000:]}"


async def run_sipp(args: Sequence[str], workdir: Path, *, timeout: float = 60.0) -> SippResult:
    """Run ``sipp`` to completion (bounded by ``timeout``) with message and error traces in ``workdir``."""
    sipp = require_binary("sipp")
    proc = await asyncio.create_subprocess_exec(
        sipp, *args, "-nostdin", "-trace_err", "-trace_msg", cwd=workdir,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    except asyncio.CancelledError:
        # A test that cancels its peer's task must not leave the peer running after it.
        if proc.returncode is None:
            proc.kill()
        await proc.wait()  # reaped while the loop runs, not collected after it closed
        raise
    errors = "".join(p.read_text(errors="replace") for p in workdir.glob("*_errors.log"))
    messages = "".join(p.read_text(errors="replace") for p in workdir.glob("*_messages.log"))
    return SippResult(proc.returncode if proc.returncode is not None else -1,
                      out.decode(errors="replace"), errors, messages)


async def start_service(config: Path, log: Path) -> asyncio.subprocess.Process:
    """``callfloor run --config`` as its own process, once it listens for SIP (the log may hold
    earlier runs: it is appended to, so a restart's test sees both)."""
    seen = log.read_text(errors="replace").count("listening for SIP") if log.exists() else 0
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "callfloor.cli", "run", "--config", str(config),
        stdout=log.open("ab"), stderr=asyncio.subprocess.STDOUT)
    for _ in range(200):
        if log.read_text(errors="replace").count("listening for SIP") > seen:
            return proc
        if proc.returncode is not None:
            break
        await asyncio.sleep(0.05)
    if proc.returncode is None:
        proc.kill()
    raise AssertionError(f"callfloor did not start:\n{log.read_text()[-3000:]}")
