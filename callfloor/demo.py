"""``callfloor demo``: the service on embedded defaults with simulated seats and a simulated carrier.

The floor comes from ``config/demo.toml`` (ports that are taken are replaced by free ones). The
seats are :class:`SimPhone` softphones registered over SIP; the carrier is a :class:`SimCarrier` on
127.0.0.2 placing Poisson traffic to the floor's numbers, and now and then a seat dials out. What
happens is printed from callfloor's own MQTT events, so the demo also shows the bus at work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import signal
import socket
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from callfloor.app import Running, configure_logging, running
from callfloor.settings import Settings
from callfloor.sim import EventKind, SimCarrier, SimEvent, SimPhone

__all__ = ["demo_settings", "run_demo"]

CONFIG = Path(__file__).resolve().parents[1] / "config" / "demo.toml"
CARRIER = ("127.0.0.2", 5070)


def _port_free(host: str, port: int, kinds: tuple[int, ...]) -> bool:
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                return False
    return True


def _free(host: str, port: int, kinds: tuple[int, ...] = (socket.SOCK_STREAM,)) -> int:
    """``port`` if it is free on ``host``, else one the kernel picks (free for every kind)."""
    if port and _port_free(host, port, kinds):
        return port
    for _ in range(100):
        with socket.socket(socket.AF_INET, kinds[0]) as probe:
            probe.bind((host, 0))
            candidate = int(probe.getsockname()[1])
        if _port_free(host, candidate, kinds):
            return candidate
    raise OSError(f"no free port on {host}")


def demo_settings(*, seats: int, data_dir: Path, sip_port: int, http_port: int) -> Settings:
    """The demo floor: config/demo.toml with ``seats`` seats (one number each) and free ports."""
    data: dict[str, Any] = tomllib.loads(CONFIG.read_text()) if CONFIG.exists() else {}
    ids = [f"{1001 + i}" for i in range(seats)]
    dids = [f"+155501{i + 1:02d}" for i in range(seats)]
    both = (socket.SOCK_DGRAM, socket.SOCK_STREAM)
    data["sip"] = {**data.get("sip", {}), "listen": f"127.0.0.1:{_free('127.0.0.1', sip_port, both)}"}
    data["seats"] = [{"id": i, "password": f"demo{i}", "name": f"Seat {i}"} for i in ids]
    data["trunk"] = {**data.get("trunk", {}), "host": CARRIER[0], "port": CARRIER[1],
                     "allow": [f"{CARRIER[0]}/32"], "did": dids}
    data["routes"] = dict(zip(dids, ids, strict=True))
    data["storage"] = {"data_dir": str(data_dir)}
    data["http"] = {"listen": f"127.0.0.1:{_free('127.0.0.1', http_port)}"}
    broker = _free("127.0.0.1", 1883)
    data["bus"] = {**data.get("bus", {}), "embedded_listen": f"127.0.0.1:{broker}"}
    data["log"] = {"level": "WARNING"}
    return Settings.model_validate(data)


def _say(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')}  {text}", flush=True)


async def _print_events(service: Running, ready: asyncio.Event) -> None:
    """Narrate the floor from callfloor's own bus events."""
    if service.bus is None:
        ready.set()
        return
    bus = service.settings.bus
    async with service.bus.subscribe(f"{bus.topic_prefix}/{bus.site}/events/#") as events:
        ready.set()
        async for message in events:
            kind = message.topic.rsplit("/", 1)[-1]
            p: dict[str, Any] = message.payload if isinstance(message.payload, dict) else {}
            if kind == "call.offered":
                _say(f"call {p['call'][:8]}  {p['direction']:8}  {p['caller']} -> {p['callee']} (seat {p['seat']})")
            elif kind == "call.answered":
                _say(f"call {p['call'][:8]}  answered by seat {p['seat']}, recording")
            elif kind == "call.ended":
                _say(f"call {p['call'][:8]}  ended: {p.get('reason')} by {p.get('hangup_by') or '-'}, "
                     f"talk {p.get('talk_seconds', 0):.1f} s")
            elif kind in ("seat.registered", "seat.unregistered"):
                _say(f"seat {p.get('seat')} {kind.split('.')[1]} ({p.get('contact')})")
            else:
                _say(f"{kind} {json.dumps(p)[:100]}")


def _refused(event: SimEvent) -> None:
    """The carrier's view of calls the floor turned away (a busy seat: 486)."""
    if event.kind is EventKind.ENDED and event.status is not None and event.status >= 300:
        _say(f"carrier: call to {event.remote} refused with {event.status} ({event.detail})")


async def _dial_out_now_and_then(phones: list[SimPhone], stop: asyncio.Event, rng: random.Random) -> None:
    """Every minute or so an idle seat calls a customer through the carrier (9 + number)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rng.uniform(40, 80))
            return
        idle = [p for p in phones if not p.active]
        if idle:
            await rng.choice(idle).dial(f"9+1555{rng.randrange(10**7):07d}", talk=(5, 10))


async def _demo(seats: int, calls_per_minute: float, duration: float | None, data_dir: Path,
                sip_port: int, http_port: int) -> None:
    settings = demo_settings(seats=seats, data_dir=data_dir, sip_port=sip_port, http_port=http_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    rng = random.Random()
    async with running(settings) as service:
        sip, web = service.sip_address, service.http_address
        ready = asyncio.Event()
        printer = loop.create_task(_print_events(service, ready))
        await asyncio.wait_for(ready.wait(), 10)
        phones = [SimPhone(s.id, s.password, sip, answer_after=(1.0, 3.0), tone_hz=300.0 + 100 * i,
                           rng=random.Random(rng.random()))
                  for i, s in enumerate(settings.seats)]
        for phone in phones:
            await phone.start()
        carrier = SimCarrier(CARRIER, sip, talk=(6.0, 15.0), rng=random.Random(rng.random()),
                             on_event=_refused)
        await carrier.start()
        recordings = settings.storage.recordings_dir.resolve()
        print(f"""
callfloor demo floor is up
  SIP            {sip[0]}:{sip[1]} (UDP+TCP)   carrier {CARRIER[0]}:{CARRIER[1]}   seats {', '.join(p.user for p in phones)}
  recordings     {recordings}/YYYY/MM/DD/<call>.wav (stereo: left customer, right seat)
  database       {settings.storage.db_path.resolve()}  (table calls)
  HTTP           http://{web[0]}:{web[1]}/api/calls  /api/calls/live  /api/seats  /health
  MQTT           {settings.bus.embedded_listen}  topic {settings.bus.topic_prefix}/{settings.bus.site}/events/#
Ctrl-C stops the demo.
""" if web else "", flush=True)
        traffic = loop.create_task(carrier.run_traffic(
            list(settings.trunk.did) if settings.trunk else [], calls_per_minute,
            max_concurrent=len(phones), stop_event=stop))
        dialer = loop.create_task(_dial_out_now_and_then(phones, stop, rng))
        if duration is not None:
            loop.call_later(duration, stop.set)
        await stop.wait()
        _say("stopping: hanging up calls")
        report = await traffic
        dialer.cancel()
        await carrier.stop()
        for phone in phones:
            await phone.stop()
        await asyncio.sleep(0.3)
        printer.cancel()
        rows = await service.store.calls(limit=1000)
    answered = sum(1 for r in rows if r.answered_at)
    print(f"\n{report.placed} calls placed by the carrier, {answered} calls answered in all; "
          f"recordings in {recordings}", flush=True)


def run_demo(*, seats: int = 4, calls_per_minute: float = 12.0, duration: float | None = None,
             data_dir: Path = Path("var/demo"), sip_port: int = 5060, http_port: int = 8080) -> None:
    """Run the demo until Ctrl-C (or ``duration`` seconds)."""
    if not 1 <= seats <= 99:
        raise SystemExit("callfloor demo: --seats must be between 1 and 99")
    configure_logging("WARNING")
    logging.getLogger("callfloor").setLevel(logging.WARNING)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    try:
        asyncio.run(_demo(seats, calls_per_minute, duration, data_dir, sip_port, http_port))
    except KeyboardInterrupt:
        sys.exit(130)
