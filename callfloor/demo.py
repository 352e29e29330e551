"""``callfloor demo``: the service on embedded defaults with simulated seats and a simulated carrier.

The floor comes from ``config/demo.toml`` and ``config/ivr/demo.toml`` (ports that are taken are
replaced by free ones). The seats are :class:`SimPhone` softphones registered over SIP that log in
by dialling ``*1``; the carrier is a :class:`SimCarrier` on 127.0.0.2 whose customers call the IVR
line, pick from the menu by DTMF, wait in a queue, talk and rate the call; now and then a seat
dials out. What happens is printed from callfloor's own MQTT events, so the demo also shows the
bus at work.
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
    """The demo floor of config/demo.toml (more seats cloned from its last one) on free ports."""
    data: dict[str, Any] = tomllib.loads(CONFIG.read_text())
    template = data["seats"][-1]
    data["seats"] = [*data["seats"][:seats],
                     *({**template, "id": f"{1001 + i}", "password": f"demo{1001 + i}",
                        "name": f"Seat {1001 + i}"} for i in range(len(data["seats"]), seats))]
    both = (socket.SOCK_DGRAM, socket.SOCK_STREAM)
    data["sip"] = {**data.get("sip", {}), "listen": f"127.0.0.1:{_free('127.0.0.1', sip_port, both)}"}
    data["trunk"] = {**data["trunk"], "host": CARRIER[0], "port": CARRIER[1], "allow": [f"{CARRIER[0]}/32"]}
    data["ivr"] = {**data.get("ivr", {}), "flows": str(CONFIG.parent / "ivr")}
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
            elif kind == "seat.state":
                if p.get("presence") != p.get("previous_presence"):
                    reason = f" ({p['reason']})" if p.get("reason") else ""
                    _say(f"seat {p['seat']} is {p['presence']}{reason}")
            elif kind in ("queue.joined", "queue.abandoned", "queue.overflowed"):
                _say(f"call {p['call'][:8]}  {kind.split('.')[1]} queue {p['queue']}"
                     + (f" after {p['wait_s']:.0f} s" if kind != "queue.joined" else ""))
            elif kind == "call.survey":
                _say(f"call {p['call'][:8]}  rated {p['score']}/{p['scale']}")
            elif kind in ("voicemail.left", "callback.requested"):
                _say(f"call {p['call'][:8]}  {kind}")
            elif kind.startswith(("queue.", "call.", "seat.")):
                pass  # offered/rna/ended, variables, media, availability: in the store and on the bus
            else:
                _say(f"{kind} {json.dumps(p)[:100]}")


def _refused(event: SimEvent) -> None:
    """The carrier's view of calls the floor turned away."""
    if event.kind is EventKind.ENDED and event.status is not None and event.status >= 300:
        _say(f"carrier: call to {event.remote} refused with {event.status} ({event.detail})")


async def _caller(carrier: SimCarrier, caller_id: str, rng: random.Random) -> None:
    """One customer: calls the demo line, picks from the menu, waits, talks, rates the call."""
    call = carrier.new_call("+15550100", caller_id)
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


async def _traffic(carrier: SimCarrier, per_minute: float, stop: asyncio.Event,
                   rng: random.Random) -> int:
    """Poisson arrivals at the IVR until ``stop``; returns how many customers called."""
    tasks: set[asyncio.Task[None]] = set()
    placed = 0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rng.expovariate(per_minute / 60.0))
            break
        placed += 1
        task = loop.create_task(_caller(carrier, f"+1555{rng.randrange(10**7):07d}", rng))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return placed


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
        phones = [SimPhone(s.id, s.password, sip, answer_after=(1.0, 3.0), hangup_after=(6.0, 15.0),
                           tone_hz=300.0 + 100 * i, rng=random.Random(rng.random()))
                  for i, s in enumerate(settings.seats)]
        for phone in phones:
            await phone.start()
            await phone.dial(settings.features.ready, talk=(5.0, 5.0))  # *1: log in, ready
        carrier = SimCarrier(CARRIER, sip, rng=random.Random(rng.random()), on_event=_refused)
        await carrier.start()
        recordings = settings.storage.recordings_dir.resolve()
        print(f"""
callfloor demo floor is up
  SIP            {sip[0]}:{sip[1]} (UDP+TCP)   carrier {CARRIER[0]}:{CARRIER[1]}   seats {', '.join(p.user for p in phones)}
  IVR            +15550100: config/ivr/demo.toml -> queues {', '.join(q.name for q in settings.queues)}
  recordings     {recordings}/YYYY/MM/DD/<call>.wav (stereo: left customer, right seat)
  database       {settings.storage.db_path.resolve()}  (table calls)
  HTTP           http://{web[0]}:{web[1]}/api/queues  /api/seats  /api/calls  /api/calls/live
  MQTT           {settings.bus.embedded_listen}  topic {settings.bus.topic_prefix}/{settings.bus.site}/events/#
Ctrl-C stops the demo.
""" if web else "", flush=True)
        traffic = loop.create_task(_traffic(carrier, calls_per_minute, stop, rng))
        dialer = loop.create_task(_dial_out_now_and_then(phones, stop, rng))
        if duration is not None:
            loop.call_later(duration, stop.set)
        await stop.wait()
        _say("stopping: hanging up calls")
        placed = await traffic
        dialer.cancel()
        await carrier.stop()
        for phone in phones:
            await phone.stop()
        await asyncio.sleep(0.3)
        printer.cancel()
        rows = await service.store.calls(limit=1000)
    answered = sum(1 for r in rows if r.answered_at)
    print(f"\n{placed} customers called the demo line, {answered} calls reached a seat; "
          f"recordings in {recordings}", flush=True)


def run_demo(*, seats: int = 4, calls_per_minute: float = 8.0, duration: float | None = None,
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
