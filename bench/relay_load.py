"""The load process of bench/relay.py (run by it; pinned to its own core).

1. baseline: the RTP generator looped back to itself (side A sends straight to side B);
2. registers N seats whose Contacts all point at one seat-side agent that answers every INVITE;
3. the carrier (its own address, 127.0.0.2) places N calls to N DIDs at a limited rate;
4. RTP through callfloor's relay, 50 packets/s per direction per call: warm-up, then the window;
5. BYE for every call. Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    CARRIER_HOST,
    FIRST_SEAT,
    FLOOR_CORE,
    LOAD_CORE,
    RTP_PORTS,
    Meter,
    did,
    log,
    password,
    pin,
    raise_nofile,
    seat,
    udp_drops,
)
from rtpblast import Blaster, dump, open_socket, summarize  # noqa: E402
from sipload import CarrierLoad, SeatAnswerer, register_all  # noqa: E402

from callfloor.sim.agent import SipAgent  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sip", required=True, help="callfloor's SIP address host:port")
    p.add_argument("--trunk-port", type=int, required=True, help="port the carrier listens on (trunk.port)")
    p.add_argument("--calls", type=int, required=True)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--baseline-seconds", type=float, default=5.0)
    p.add_argument("--setup-rate", type=float, default=100.0)
    p.add_argument("--slots", type=int, default=20)
    p.add_argument("--floor-pid", type=int, default=0, help="callfloor's pid, for its CPU time")
    p.add_argument("--rtp-ports", default=RTP_PORTS, help="callfloor's RTP range (for drop counts)")
    p.add_argument("--core", type=int, default=LOAD_CORE)
    p.add_argument("--dump", default=None, help="save every measured packet's figures here (.npz)")
    p.add_argument("--profile-window", action="store_true",
                   help="SIGUSR1/SIGUSR2 callfloor at the window's start/end (bench/profiled.py)")
    return p


async def _baseline(sock_a: Any, sock_b: Any, n: int, seconds: float, slots: int) -> dict[str, Any]:
    """The same generator with the relay taken out: A sends straight to B and B to A."""
    blaster = Blaster(sock_a, sock_b, [sock_b.getsockname()] * n, [sock_a.getsockname()] * n,
                      slots=slots)
    res = await blaster.run(0.5, seconds, drain=0.3)
    return summarize(res, blaster.call_of_row)


async def _setup(args: argparse.Namespace, seats_agent: SipAgent, carrier: CarrierLoad,
                 answerer: SeatAnswerer, sip: tuple[str, int]) -> dict[str, Any]:
    n = args.calls
    t = time.monotonic()
    regs = await register_all(seats_agent, [(seat(i), password(seat(i))) for i in range(n)], sip)
    reg_s = time.monotonic() - t
    log(f"registered {regs} in {reg_s:.1f} s; placing {n} calls at {args.setup_rate:g}/s")
    t = time.monotonic()
    try:
        calls = await carrier.place_all([did(i) for i in range(n)], args.setup_rate,
                                        timeout=30 + n / args.setup_rate)
    except TimeoutError:
        calls = {0: sum(1 for c in carrier.calls.values() if not c.answered.is_set())}
    setups = sorted(c.setup for c in carrier.calls.values() if c.status == 200)
    return {
        "registered": regs.get(200, 0), "register_statuses": _keys(regs),
        "register_seconds": round(reg_s, 2), "answered": calls.get(200, 0),
        "call_statuses": _keys(calls), "setup_seconds": round(time.monotonic() - t, 2),
        "setup_p50_ms": round(setups[len(setups) // 2] * 1000, 2) if setups else None,
    }


def _keys(d: dict[int, int]) -> dict[str, int]:
    return {str(k): v for k, v in sorted(d.items())}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    n = args.calls
    host, port = args.sip.rsplit(":", 1)
    sip = (host, int(port))
    low, high = (int(x) for x in args.rtp_ports.split("-"))
    sock_a, sock_b = open_socket(CARRIER_HOST), open_socket("127.0.0.1")
    own = {sock_a.getsockname()[1], sock_b.getsockname()[1]}
    gc.freeze()
    out: dict[str, Any] = {"calls": n, "baseline": await _baseline(sock_a, sock_b, n, args.baseline_seconds, args.slots)}
    seats_agent = SipAgent("seats", host="127.0.0.1")
    carrier_agent = SipAgent("carrier", host=CARRIER_HOST, port=args.trunk_port)
    await seats_agent.open()
    await carrier_agent.open()
    answerer = SeatAnswerer(seats_agent, sock_b.getsockname(), lambda u: int(u) - FIRST_SEAT)
    carrier = CarrierLoad(carrier_agent, sip, sock_a.getsockname())
    try:
        out["setup"] = setup = await _setup(args, seats_agent, carrier, answerer, sip)
        ready = [i for i in range(n) if (c := carrier.calls.get(i)) is not None
                 and c.media is not None and i in answerer.media]
        out["bridged"] = len(ready)
        if len(ready) < n:
            log(f"only {len(ready)} of {n} calls bridged: {setup}")
            return out
        dest_a = [carrier.calls[i].media for i in range(n)]
        dest_b = [answerer.media[i] for i in range(n)]
        blaster = Blaster(sock_a, sock_b, dest_a, dest_b, slots=args.slots)  # type: ignore[arg-type]
        meters: dict[str, Meter] = {}
        cpu: dict[str, dict[str, float]] = {}

        def window(start: bool) -> None:
            if start:
                meters["floor"] = Meter(args.floor_pid or os.getpid(), FLOOR_CORE)
                meters["load"] = Meter(os.getpid(), args.core)
            else:
                cpu.update({k: m.read() for k, m in meters.items()})
            if args.profile_window and args.floor_pid:
                os.kill(args.floor_pid, signal.SIGUSR1 if start else signal.SIGUSR2)

        floor_drops0 = udp_drops(ports=set(range(low, high + 1)))
        own_drops0 = udp_drops(ports=own)
        log(f"{n} calls bridged; RTP: {args.warmup:g} s warm-up + {args.seconds:g} s measured")
        res = await blaster.run(args.warmup, args.seconds, on_window=window)
        out["relay"] = summarize(res, blaster.call_of_row)
        if args.dump:
            dump(res, args.dump)
        out["floor_cpu_pct"] = cpu["floor"]["cpu_pct"] if args.floor_pid else None
        out["floor_core_other_pct"] = cpu["floor"]["other_pct"]
        out["generator_cpu_pct"] = cpu["load"]["cpu_pct"]
        out["load_core_other_pct"] = cpu["load"]["other_pct"]
        out["floor_socket_drops"] = udp_drops(ports=set(range(low, high + 1))) - floor_drops0
        out["generator_socket_drops"] = udp_drops(ports=own) - own_drops0
        out["byes"] = _keys(await carrier.hangup_all())
    finally:
        await carrier_agent.close()
        await seats_agent.close()
        sock_a.close()
        sock_b.close()
    return out


def main() -> None:
    args = _parser().parse_args()
    pin(args.core)
    raise_nofile()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    result = asyncio.run(run(args))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
