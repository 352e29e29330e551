"""``callfloor demo``: the service on embedded defaults with simulated seats and a simulated carrier.

The floor comes from ``config/demo.toml``, ``config/ivr/demo.toml`` and the outbound campaign in
``config/demo-campaigns/`` (ports that are taken are replaced by free ones). The seats are
:class:`SimPhone` softphones registered over SIP that log in by dialling ``*1``; the carrier is
a :class:`SimCarrier` on 127.0.0.2 whose customers call the IVR line, pick from the menu by
DTMF, wait in a queue, talk and rate the call; now and then a seat dials out. The campaign's
seats (``--campaign-seats``) take the calls the dialer places through the carrier, where
:class:`SimCustomers` answer as people, are busy, never answer, are answering machines or meet
a failing route; after each call the seat sets a disposition on the HTTP API. What happens is
printed from callfloor's own MQTT events, so the demo also shows the bus at work.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import signal
import socket
import sys
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from callfloor.app import Running, configure_logging, running
from callfloor.settings import Settings
from callfloor.sim import EventKind, SimCarrier, SimEvent, SimPhone
from callfloor.sim.callers import ivr_traffic, seat_dial_outs
from callfloor.sim.customers import CustomerMix, SimCustomers
from callfloor.sim.desk import ApiError, SeatDesk
from callfloor.sim.narration import Narrator
from callfloor.sim.watch import CampaignWatch
from callfloor.store.users import UserStore
from callfloor.web.passwords import Passwords

__all__ = ["DemoOptions", "add_arguments", "demo_settings", "main", "options_from", "run_demo"]

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "demo.toml"
CAMPAIGNS = ROOT / "config" / "demo-campaigns"
WATCHER = ROOT / "config" / "demo-watcher.toml"
# The demo's web users (loopback only): the team lead's monitor, QA, and each seat's own page.
DEMO_USERS = (("lead", "lead", "demo-lead"), ("qa", "qa", "demo-qa-1"))
PROMPTS = ROOT / "config" / "ivr" / "prompts"
CARRIER = ("127.0.0.2", 5070)
CAMPAIGN = "demo"  # the campaign id (config/demo-campaigns/demo.toml)
OUTBOUND_TEAM = "outbound"


@dataclass(frozen=True)
class DemoOptions:
    """Everything ``callfloor demo`` can be asked for."""

    seats: int = 4
    calls_per_minute: float = 8.0
    duration: float | None = None
    data_dir: Path = Path("var/demo")
    sip_port: int = 5060
    http_port: int = 8080
    campaign: bool = True
    campaign_seats: tuple[str, ...] = ("1003", "1004")
    customers: CustomerMix = field(default_factory=CustomerMix)
    seed: int | None = None
    carrier_port: int = CARRIER[1]


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


def demo_settings(*, seats: int, data_dir: Path, sip_port: int, http_port: int,
                  campaign_seats: Sequence[str] = (), carrier_port: int = CARRIER[1]) -> Settings:
    """The demo floor of config/demo.toml (more seats cloned from its last one) on free ports.

    ``campaign_seats`` join the outbound team (the demo campaign's) and leave the inbound
    queues, so a ready seat the dialer counts on is never taken by an inbound call; without
    campaign seats there is no campaign."""
    data: dict[str, Any] = tomllib.loads(CONFIG.read_text())
    template = data["seats"][-1]
    data["seats"] = [*data["seats"][:seats],
                     *({**template, "id": f"{1001 + i}", "password": f"demo{1001 + i}",
                        "name": f"Seat {1001 + i}"} for i in range(len(data["seats"]), seats))]
    for seat in data["seats"]:
        if seat["id"] in campaign_seats:
            # Out of the inbound queues, but able to help support when the watcher lends them.
            seat.update(team=OUTBOUND_TEAM, queues=[], skills={**seat.get("skills", {}), "support": 1})
    both = (socket.SOCK_DGRAM, socket.SOCK_STREAM)
    data["sip"] = {**data.get("sip", {}), "listen": f"127.0.0.1:{_free('127.0.0.1', sip_port, both)}"}
    data["trunk"] = {**data["trunk"], "host": CARRIER[0], "port": carrier_port,
                     "allow": [f"{CARRIER[0]}/32"]}
    data["ivr"] = {**data.get("ivr", {}), "flows": str(CONFIG.parent / "ivr")}
    if campaign_seats:
        data["dialer"] = {**data.get("dialer", {}), "campaigns": str(CAMPAIGNS), "prompts": str(PROMPTS)}
    else:
        data.pop("dialer", None)
    data["storage"] = {"data_dir": str(data_dir)}
    data["http"] = {"listen": f"127.0.0.1:{_free('127.0.0.1', http_port)}"}
    broker = _free("127.0.0.1", 1883)
    data["bus"] = {**data.get("bus", {}), "embedded_listen": f"127.0.0.1:{broker}"}
    data["log"] = {"level": "WARNING"}
    if campaign_seats:
        data["monitor"] = {**data.get("monitor", {}), "watcher": str(WATCHER)}
    return Settings.model_validate(data)


async def _demo_users(service: Running) -> None:
    """The demo's web users, created once in the demo's database (hashing runs off the loop)."""
    users = UserStore(service.store)
    passwords = Passwords()
    wanted = [*DEMO_USERS, *((f"seat{s.id}", "seat", f"demo{s.id}") for s in service.settings.seats)]
    for username, role, password in wanted:
        if await users.get(username) is not None:
            continue
        hashed = await asyncio.to_thread(passwords.hash, password)
        seat = username.removeprefix("seat") if role == "seat" else None
        await users.add(username, role=role, password_hash=hashed, now=time.time(), by="demo",
                        seat=seat, name=username)


def _say(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')}  {text}", flush=True)


async def _print_events(service: Running, narrator: Narrator, ready: asyncio.Event) -> None:
    """Narrate the floor from callfloor's own bus events."""
    if service.bus is None:
        ready.set()
        return
    bus = service.settings.bus
    async with service.bus.subscribe(f"{bus.topic_prefix}/{bus.site}/events/#") as events:
        ready.set()
        async for message in events:
            kind = message.topic.rsplit("/", 1)[-1]
            payload: dict[str, Any] = message.payload if isinstance(message.payload, dict) else {}
            line = narrator.line(kind, payload)
            if line is not None:
                _say(line)


def _refused(event: SimEvent) -> None:
    """The carrier's view of calls the floor turned away."""
    if event.kind is EventKind.ENDED and event.status is not None and event.status >= 300 \
            and event.detail.startswith("remote"):
        _say(f"carrier: call to {event.remote} refused with {event.status} ({event.detail})")


async def _dials_closed(service: Running, timeout: float) -> None:
    """Wait (bounded) until every dial of the campaign is closed in the ledger's eyes."""
    if service.dialer is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while any(run.dials for run in service.dialer.runs.values()) and loop.time() < deadline:
        await asyncio.sleep(0.05)


def _banner(settings: Settings, service: Running, phones: list[SimPhone], options: DemoOptions,
            campaign_seats: tuple[str, ...]) -> str:
    sip, web = service.sip_address, service.http_address
    if web is None:
        return ""
    recordings = settings.storage.recordings_dir.resolve()
    inbound = [p.user for p in phones if p.user not in campaign_seats]
    lines = f"""
callfloor demo floor is up
  SIP            {sip[0]}:{sip[1]} (UDP+TCP)   carrier {CARRIER[0]}:{options.carrier_port}   seats {', '.join(p.user for p in phones)}
  IVR            +15550100: config/ivr/demo.toml -> queues {', '.join(q.name for q in settings.queues)} (seats {', '.join(inbound) or 'none'})"""
    run = service.dialer.runs.get(CAMPAIGN) if service.dialer is not None else None
    if campaign_seats and run is not None:
        lines += f"""
  campaign       {CAMPAIGN}: config/demo-campaigns/demo.toml, {run.campaign.mode}, seats {', '.join(campaign_seats)} (auto-answer)
  customers      {options.customers.describe()}"""
    return lines + f"""
  recordings     {recordings}/YYYY/MM/DD/<call>.wav (stereo: left customer, right seat)
  database       {settings.storage.db_path.resolve()}  (tables calls, leads, attempts, dispositions)
  monitor        http://{web[0]}:{web[1]}/monitor   (log in as lead / demo-lead; QA: qa / demo-qa-1;
                 a seat's own page /seat as seat<id> / demo<id>, e.g. seat1001 / demo1001)
  HTTP           http://{web[0]}:{web[1]}/api/queues  /api/seats  /api/calls  /api/calls/live  /api/campaigns
  MQTT           {settings.bus.embedded_listen}  topic {settings.bus.topic_prefix}/{settings.bus.site}/events/#
Ctrl-C stops the demo.
"""


def _campaign_seats(options: DemoOptions) -> tuple[str, ...]:
    """The campaign seats that exist on this floor (none: no campaign)."""
    if not options.campaign:
        return ()
    floor = {f"{1001 + i}" for i in range(options.seats)}
    missing = [s for s in options.campaign_seats if s not in floor]
    if missing:
        print(f"callfloor demo: no seat {', '.join(missing)} on a floor of {options.seats} seats",
              file=sys.stderr)
    chosen = tuple(s for s in options.campaign_seats if s in floor)
    if not chosen:
        print("callfloor demo: the campaign has no seats: inbound only", file=sys.stderr)
    return chosen


@dataclass
class _Floor:
    """The simulated side of the demo: the seats' phones (with their desks) and the carrier."""

    phones: list[SimPhone]
    desks: list[SeatDesk]
    carrier: SimCarrier

    @classmethod
    async def start(cls, settings: Settings, service: Running, options: DemoOptions,
                    campaign_seats: tuple[str, ...], rng: random.Random) -> _Floor:
        """Register every seat and log it in with *1, then open the carrier."""
        web = service.http_address
        desks: list[SeatDesk] = []
        phones = []
        for i, s in enumerate(settings.seats):
            desk = None
            if campaign_seats and web is not None and s.id in campaign_seats:
                desk = SeatDesk(s.id, web, rng=random.Random(rng.random()))
                desks.append(desk)
            phones.append(SimPhone(s.id, s.password, service.sip_address, answer_after=(1.0, 3.0),
                                   hangup_after=(6.0, 15.0), tone_hz=300.0 + 100 * i,
                                   rng=random.Random(rng.random()),
                                   on_call_end=desk.call_ended if desk else None))
        for phone in phones:
            await phone.start()
            await phone.dial(settings.features.ready, talk=(5.0, 5.0))  # *1: log in, ready
        customers = SimCustomers(options.customers, rng=random.Random(rng.random())) \
            if campaign_seats else None
        carrier = SimCarrier((CARRIER[0], options.carrier_port), service.sip_address,
                             rng=random.Random(rng.random()), on_event=_refused, customers=customers)
        await carrier.start()
        return cls(phones, desks, carrier)

    async def stop(self) -> None:
        """Hang up every call, unregister the seats, drop wrap-ups under way."""
        await self.carrier.stop()
        for phone in self.phones:
            await phone.stop()
        for desk in self.desks:
            await desk.close()


async def _demo(options: DemoOptions) -> None:
    campaign_seats = _campaign_seats(options)
    settings = demo_settings(seats=options.seats, data_dir=options.data_dir,
                             sip_port=options.sip_port, http_port=options.http_port,
                             campaign_seats=campaign_seats, carrier_port=options.carrier_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    rng = random.Random(options.seed)
    narrator = Narrator()
    started = time.time()
    async with running(settings) as service:
        web = service.http_address
        if service.dialer is None or web is None:
            campaign_seats = ()
        ready = asyncio.Event()
        printer = loop.create_task(_print_events(service, narrator, ready))
        await asyncio.wait_for(ready.wait(), 10)
        await _demo_users(service)
        floor = await _Floor.start(settings, service, options, campaign_seats, rng)
        print(_banner(settings, service, floor.phones, options, campaign_seats), flush=True)
        inbound = [p for p in floor.phones if p.user not in campaign_seats]
        tasks = [loop.create_task(seat_dial_outs(inbound, stop, rng))]
        watch = CampaignWatch(web, CAMPAIGN, narrator, random.Random(rng.random()), _say) if campaign_seats and web else None
        if watch is not None:
            tasks.append(loop.create_task(watch.run(stop)))
        traffic = loop.create_task(ivr_traffic(floor.carrier, options.calls_per_minute, stop, rng))
        if options.duration is not None:
            loop.call_later(options.duration, stop.set)
        await stop.wait()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)  # a second Ctrl-C interrupts the clean stop
        _say("stopping: no new dials, hanging up calls")
        if service.dialer is not None:
            await service.dialer.close()
        if watch is not None:
            with contextlib.suppress(ApiError):
                await watch.figures(top_up=False)
        placed = await traffic
        for task in tasks:
            task.cancel()
        await service.sip.drain(timeout=5.0)  # callfloor hangs up what is left, as on SIGTERM
        await _dials_closed(service, 5.0)
        await floor.stop()
        await asyncio.sleep(0.3)  # the last events on their way through the broker
        printer.cancel()
        rows = await service.store.calls(limit=1000)
    answered = sum(1 for r in rows if r.answered_at and r.started_at >= started)
    print(f"\n{placed} customers called the demo line; calls that reached a seat this run "
          f"(inbound and outbound): {answered}", flush=True)
    if campaign_seats:
        print(narrator.summary(), flush=True)
    print(f"recordings in {settings.storage.recordings_dir.resolve()}", flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options (``callfloor demo --help``)."""
    parser.add_argument("--seats", type=int, default=4, help="simulated seats (default 4)")
    parser.add_argument("--calls-per-minute", type=float, default=8.0, help="customers calling the IVR line per minute (default 8)")
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds (default: until Ctrl-C)")
    parser.add_argument("--data-dir", type=Path, default=Path("var/demo"), help="where the database and recordings go (default var/demo)")
    parser.add_argument("--sip-port", type=int, default=5060, help="callfloor's SIP port (default 5060; 0 picks a free one)")
    parser.add_argument("--http-port", type=int, default=8080, help="callfloor's HTTP port (default 8080)")
    parser.add_argument("--no-campaign", action="store_true", help="inbound only: no outbound campaign")
    parser.add_argument("--campaign-seats", default="1003,1004", help="the seats that take the campaign's calls, comma-separated (default 1003,1004)")
    parser.add_argument("--customers", default="", metavar="SHARES", help="how the campaign's customers react, e.g. live=35,busy=20,no_answer=25,machine=15,error=5 (the default)")
    parser.add_argument("--seed", type=int, default=None, help="seed of every random choice (default: a new one each run)")
    parser.add_argument("--carrier-port", type=int, default=CARRIER[1], help="the simulated carrier's port on 127.0.0.2 (default 5070)")


def options_from(args: argparse.Namespace) -> DemoOptions:
    """Options from parsed arguments; ``SystemExit`` naming a bad one."""
    try:
        customers = CustomerMix.parse(getattr(args, "customers", "") or "")
    except (TypeError, ValueError) as exc:
        raise SystemExit(f"callfloor demo: --customers: {exc}") from None
    seats = tuple(s.strip() for s in str(getattr(args, "campaign_seats", "1003,1004")).split(",") if s.strip())
    return DemoOptions(
        seats=args.seats, calls_per_minute=args.calls_per_minute, duration=args.duration,
        data_dir=args.data_dir, sip_port=args.sip_port, http_port=args.http_port,
        campaign=not getattr(args, "no_campaign", False), campaign_seats=seats, customers=customers,
        seed=getattr(args, "seed", None), carrier_port=getattr(args, "carrier_port", CARRIER[1]),
    )


def run_demo(options: DemoOptions | None = None, **kwargs: Any) -> None:
    """Run the demo until Ctrl-C (or ``duration`` seconds); keyword arguments override
    ``options`` field by field (``run_demo(seats=4, duration=60)``)."""
    options = replace(options or DemoOptions(), **kwargs)
    if not 1 <= options.seats <= 99:
        raise SystemExit("callfloor demo: --seats must be between 1 and 99")
    configure_logging("WARNING")
    logging.getLogger("callfloor").setLevel(logging.WARNING)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    try:
        asyncio.run(_demo(options))
    except KeyboardInterrupt:
        sys.exit(130)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m callfloor.demo [options]``: the same as ``callfloor demo``."""
    parser = argparse.ArgumentParser(
        prog="callfloor demo", description="The service with simulated seats, a simulated carrier "
        "whose customers call the IVR line, and an outbound campaign they answer (or not).")
    add_arguments(parser)
    run_demo(options_from(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
