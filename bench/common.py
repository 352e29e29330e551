"""Shared plumbing of the benchmarks: a generated configuration, callfloor as a pinned subprocess,
CPU accounting from /proc, and JSON output.

The benchmarks are scripts (``python bench/relay.py``), not a package: they import this module
from their own directory. callfloor itself is imported from the installed (editable) package.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BENCH_DIR",
    "CARRIER_HOST",
    "FIRST_SEAT",
    "FLOOR_CORE",
    "LOAD_CORE",
    "Meter",
    "PYTHON",
    "RTP_PORTS",
    "Floor",
    "FloorConfig",
    "core_busy",
    "cpu_seconds",
    "did",
    "emit",
    "free_port",
    "log",
    "machine",
    "password",
    "pin",
    "raise_nofile",
    "run_pinned",
    "seat",
    "udp_drops",
    "workspace",
    "write_config",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
PYTHON = sys.executable
CARRIER_HOST = "127.0.0.2"
FLOOR_CORE = 0
LOAD_CORE = 1
FIRST_SEAT = 2000
# callfloor's RTP range in the benchmarks: below the ephemeral ports (32768-60999), above the
# ports softphones such as baresip pick by default (10000-20000), apart from the tests' ranges.
RTP_PORTS = "20000-29999"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PR_SET_PDEATHSIG = 1


def _child_setup(core: int | None) -> None:
    """In a child before exec: pin it, give it its own process group (a Ctrl-C of the benchmark
    reaches it only through our orderly stop) and SIGTERM it if the benchmark dies."""
    if core is not None and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {core})
    os.setpgrp()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


# -- numbering -------------------------------------------------------------------------------
def seat(i: int) -> str:
    """The id of seat number ``i`` (0-based): 2000, 2001, ..."""
    return str(FIRST_SEAT + i)


def did(i: int) -> str:
    """The DID routed to seat number ``i``: +15552000000, +15552000001, ..."""
    return f"+1555200{i:04d}"


def password(seat_id: str) -> str:
    """The digest password of a seat."""
    return f"pw{seat_id}"


# -- process helpers ---------------------------------------------------------------------------
def log(message: str) -> None:
    """A progress line on stderr (stdout carries only the JSON result)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def emit(result: dict[str, Any]) -> None:
    """The one JSON object a benchmark prints on stdout."""
    print(json.dumps(result, indent=2), flush=True)


def pin(core: int) -> int | None:
    """Pin this process to ``core`` when the machine has it; returns the core or None."""
    try:
        if core in os.sched_getaffinity(0) and (os.cpu_count() or 1) > 1:
            os.sched_setaffinity(0, {core})
            return core
    except OSError:
        pass
    return None


def raise_nofile() -> int:
    """Lift the soft descriptor limit to the hard one (four sockets per call); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def cpu_seconds(pid: int) -> float:
    """utime + stime of process ``pid`` and all its threads, in seconds (proc(5), fields 14-15)."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2 :].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def core_busy(core: int) -> float:
    """Seconds core ``core`` has spent busy (not idle or iowait), from /proc/stat."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{core} "):
                v = [int(x) for x in line.split()[1:9]]
                return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK_TCK
    return 0.0


class Meter:
    """CPU of one process and of the core it is pinned to over a window: what it used, and what
    everything else on that core took (other benchmarks, tests: a disturbed measurement)."""

    def __init__(self, pid: int, core: int) -> None:
        self.pid, self.core = pid, core
        self.t0 = time.monotonic()
        self.cpu0, self.busy0 = cpu_seconds(pid), core_busy(core)

    def read(self) -> dict[str, float]:
        """{'cpu_pct': the process, 'other_pct': the rest of the core's busy time}."""
        wall = max(time.monotonic() - self.t0, 1e-6)
        cpu = cpu_seconds(self.pid) - self.cpu0
        busy = core_busy(self.core) - self.busy0
        return {"cpu_pct": round(100 * cpu / wall, 1), "other_pct": round(max(0.0, 100 * (busy - cpu) / wall), 1)}


def udp_drops(ports: set[int] | None = None, inodes: set[int] | None = None) -> int:
    """Datagrams the kernel dropped on full receive queues, summed over IPv4 UDP sockets bound
    to ``ports`` or with the given socket ``inodes`` (the last column of /proc/net/udp)."""
    total = 0
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            cols = line.split()
            port = int(cols[1].split(":")[1], 16)
            if (ports is not None and port in ports) or (inodes is not None and int(cols[9]) in inodes):
                total += int(cols[12])
    return total


def free_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on ``host``."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
                return port
    raise OSError(f"no free port on {host}")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    try:
        import uvloop

        uv = str(getattr(uvloop, "__version__", ""))
    except ImportError:
        uv = None
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                                capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {
        "commit": commit, "cpus": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
        "uvloop": uv, "kernel": platform.release(), "loadavg_before": os.getloadavg()[0],
    }


# -- configuration -----------------------------------------------------------------------------
@dataclass
class FloorConfig:
    """What the generated callfloor configuration holds: seats, DIDs routed one-to-one, a trunk."""

    seats: int
    data_dir: Path
    sip_port: int = 0
    trunk_port: int = 0  # where the carrier listens on 127.0.0.2; 0 picks a free port
    rtp_ports: tuple[int, int] = (20000, 29999)
    media_timeout: float = 3600.0
    ring_timeout: float = 30.0
    log_level: str = "INFO"
    extra: dict[str, str] = field(default_factory=dict)  # raw TOML lines per [sip] key
    http_port: int = 0  # the HTTP API on 127.0.0.1; 0 picks a free port
    extra_dids: tuple[str, ...] = ()  # more numbers on the trunk (an IVR flow's)
    seat_queues: tuple[str, ...] = ()  # the queues every seat serves
    bus_url: str | None = None  # an external MQTT broker instead of the embedded one
    sections: list[str] = field(default_factory=list)  # raw TOML lines at the end ([ivr], [[queues]])

    def __post_init__(self) -> None:
        if self.sip_port == 0:
            self.sip_port = free_port()
        if self.http_port == 0:
            self.http_port = free_port()
        if self.trunk_port == 0:
            self.trunk_port = free_port(CARRIER_HOST)


def _q(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string for our characters


def write_config(cfg: FloorConfig, path: Path) -> Path:
    """Write a callfloor TOML for ``cfg`` to ``path``."""
    lines = [
        "[sip]", f"listen = {_q(f'127.0.0.1:{cfg.sip_port}')}",
        # SIPp's [authentication] only does MD5; our own clients take the first offered.
        'auth_algorithms = ["MD5", "SHA-256"]',
        f"media_timeout = {cfg.media_timeout}", f"ring_timeout = {cfg.ring_timeout}",
        "register_max_expires = 7200",
        *(f"{k} = {v}" for k, v in cfg.extra.items()),
        "",
        "[trunk]", f"host = {_q(CARRIER_HOST)}", f"port = {cfg.trunk_port}",
        f"allow = [{_q(CARRIER_HOST + '/32')}]",
        "did = [" + ", ".join([*(_q(did(i)) for i in range(cfg.seats)), *map(_q, cfg.extra_dids)]) + "]",
        f"caller_id = {_q('+15550100')}", "",
        "[storage]", f"data_dir = {_q(str(cfg.data_dir))}", "",
        "[http]", f"listen = {_q(f'127.0.0.1:{cfg.http_port}')}", "",
        "[rtp]", f"ports = {_q(f'{cfg.rtp_ports[0]}-{cfg.rtp_ports[1]}')}", "",
        "[bus]", f"embedded_listen = {_q(f'127.0.0.1:{free_port()}')}",
        *([f"url = {_q(cfg.bus_url)}"] if cfg.bus_url else []), "",
        "[log]", f"level = {_q(cfg.log_level)}", "",
        "[routes]", *(f"{_q(did(i))} = {_q(seat(i))}" for i in range(cfg.seats)), "",
    ]
    queues = [f"queues = [{', '.join(map(_q, cfg.seat_queues))}]"] if cfg.seat_queues else []
    for i in range(cfg.seats):
        lines += ["[[seats]]", f"id = {_q(seat(i))}", f"password = {_q(password(seat(i)))}", *queues, ""]
    lines += cfg.sections
    path.write_text("\n".join(lines))
    return path


# -- callfloor as a subprocess -----------------------------------------------------------------
def _ping(sock: socket.socket, sip: tuple[str, int], n: int) -> bool:
    """Send one OPTIONS; True when any SIP response comes back within 0.2 s."""
    host, port = sock.getsockname()
    msg = (f"OPTIONS sip:ping@{sip[0]}:{sip[1]} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK-bench-ping-{n};rport\r\n"
           f"From: <sip:bench@{host}>;tag=bench{n}\r\nTo: <sip:ping@{sip[0]}>\r\n"
           f"Call-ID: bench-ping-{n}-{os.getpid()}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
           "Content-Length: 0\r\n\r\n")
    sock.sendto(msg.encode(), sip)
    sock.settimeout(0.2)
    try:
        data = sock.recv(65535)
    except OSError:
        return False
    return data.startswith(b"SIP/2.0 ")


class Floor:
    """callfloor (``callfloor run --config``) in a subprocess pinned to core 0, in a temp dir.

    With ``profile`` it runs under bench/profiled.py: cProfile between SIGUSR1 and SIGUSR2.
    """

    def __init__(self, cfg: FloorConfig, workdir: Path, *, profile: Path | None = None,
                 core: int = FLOOR_CORE) -> None:
        self.cfg = cfg
        self.workdir = workdir
        self.profile = profile
        self.core = core
        self.config_path = workdir / "callfloor.toml"
        self.log_path = workdir / "callfloor.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def sip(self) -> tuple[str, int]:
        """callfloor's SIP address."""
        return ("127.0.0.1", self.cfg.sip_port)

    @property
    def http(self) -> str:
        """The base URL of callfloor's HTTP API."""
        return f"http://127.0.0.1:{self.cfg.http_port}"

    @property
    def pid(self) -> int:
        """The process id of callfloor."""
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60.0) -> None:
        """Start callfloor and wait until it answers OPTIONS."""
        write_config(self.cfg, self.config_path)
        if self.profile is not None:  # cProfile between SIGUSR1 and SIGUSR2 (bench/profiled.py)
            # -P: bench/ stays off sys.path, or callfloor's `import ivr` would find bench/ivr.py.
            cmd = [PYTHON, "-P", str(BENCH_DIR / "profiled.py"), str(self.profile)]
        else:
            cmd = [PYTHON, "-m", "callfloor.cli"]
        cmd += ["run", "--config", str(self.config_path)]
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir,
                                         preexec_fn=functools.partial(_child_setup, self.core))
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            n = 0
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"callfloor exited with {self.proc.returncode}:\n{self.tail()}")
                n += 1
                if _ping(sock, self.sip, n):
                    return
        self.stop()
        raise RuntimeError(f"callfloor did not answer OPTIONS within {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        """The last lines of callfloor's log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGINT (callfloor drains calls and cProfile writes its file), then SIGKILL."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        proc.send_signal(signal.SIGINT)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def kill(self) -> None:
        """Stop at once (a straggler after a hard timeout)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Floor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            self.kill()


@contextlib.contextmanager
def workspace(keep: bool, prefix: str) -> Iterator[Path]:
    """A temp directory, deleted afterwards unless ``keep``."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def run_pinned(cmd: Sequence[str], core: int, timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` pinned to ``core``; killed (with its group) after ``timeout`` seconds."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True,
                            preexec_fn=functools.partial(_child_setup, core), **kwargs)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return subprocess.CompletedProcess(cmd, -9, out, None)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, None)
