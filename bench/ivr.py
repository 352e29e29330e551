"""IVR + queue throughput: callers per second that enter the IVR and reach a seat, no failure.

For each rate R: callfloor starts as a subprocess pinned to core 0 with the flow in
bench/ivr_flow/bench.toml (answer, a 0.6 s welcome, a 1.2 s "press 1" menu, enqueue "bench"),
one queue and --seats seats serving it (more when R needs them: seats are never the limit).
This driver, pinned to core 1, registers the seats over one UDP socket, makes them ready through
the HTTP API, and places callers from the carrier's address for --seconds at R per second. Each
caller sends its audio, presses 1 (RFC 4733) --dtmf-after seconds after the first prompt packet,
waits for a seat (the seat side answers at once and sends its audio) and hangs up after --talk
seconds. callfloor's event log (its SQLite `events` table) is read after it stops, to check that
every caller was queue.answered.

A level passes when every caller reached a seat and hung up cleanly, no SIP message was
retransmitted (--max-retransmissions), the event log agrees, and callers went out at
--tolerance x R or faster. Rates ramp through --rates until a level fails (re-run --confirm times
first; a level whose core 0 was busy with other processes is re-run too). One JSON object on
stdout, a line per level on stderr; --timeout bounds the whole run.

    .venv/bin/python bench/ivr.py                         # 2, 5, 10, 20 ... until one fails
    .venv/bin/python bench/ivr.py --rates 20,40 --seconds 10
    .venv/bin/python bench/ivr.py --profile 30            # one level under cProfile
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import shutil
import signal
import sqlite3
import sys
import time
import tomllib
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    BENCH_DIR,
    FLOOR_CORE,
    LOAD_CORE,
    Floor,
    FloorConfig,
    Meter,
    emit,
    log,
    machine,
    pin,
    raise_nofile,
    seat,
    udp_drops,
    workspace,
)
from ivr_flow.load import IvrLoad, percentiles  # noqa: E402
from profiled import profile_rows  # noqa: E402

FLOW = BENCH_DIR / "ivr_flow" / "bench.toml"
QUEUE = "bench"
DEFAULT_RATES = "2,5,10,20,30,40,50,60,80,100,120,150,200"
# Linux hands out 32768-60999 as ephemeral ports and the tests take 1000-port windows in
# 12000-31999; a port another process holds fails the call that callfloor gives it.
IVR_RTP_PORTS = "61000-65533"


class Run:
    """What a hard timeout has to reach: the running callfloor and load, the partial result.

    uvloop swallows exceptions raised in signal handlers, so the SIGALRM handler does not raise:
    it kills callfloor and stops the load, whose waits are all bounded; a second alarm a minute
    later prints what there is and exits.
    """

    expired = False
    floor: Floor | None = None
    load: IvrLoad | None = None
    result: dict[str, Any] = {}
    levels: list[dict[str, Any]] = []

    @classmethod
    def expire(cls, _sig: int, _frame: FrameType | None) -> None:
        """SIGALRM: the first time stop the level at hand, the second time give up."""
        if cls.expired:
            cls.result.update(levels=cls.levels, timed_out="--timeout, then 60 s more")
            emit(cls.result)
            os._exit(3)
        cls.expired = True
        if cls.load is not None:
            cls.load.aborted = True
        if cls.floor is not None and cls.floor.proc is not None:
            cls.floor.proc.kill()
        signal.alarm(60)


def _rates(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench/ivr.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rates", type=_rates, default=_rates(DEFAULT_RATES), metavar="R[,R...]",
                   help=f"caller rates (per second) to try in order (default {DEFAULT_RATES})")
    p.add_argument("--seconds", type=float, default=20.0, help="seconds of arrivals per level (default 20)")
    p.add_argument("--ramp", type=float, default=5.0,
                   help="seconds before CPU is measured (at most a quarter of --seconds; default 5)")
    p.add_argument("--seats", type=int, default=300,
                   help="seats at least (default 300; raised to 1.5 x what the rate keeps busy)")
    p.add_argument("--talk", type=float, default=2.0, help="seconds caller and seat talk (default 2)")
    p.add_argument("--dtmf-after", type=float, default=1.0,
                   help="seconds from the first prompt packet to the key press (default 1: in the menu prompt)")
    p.add_argument("--patience", type=float, default=10.0,
                   help="seconds a caller waits for a seat after the key before giving up (default 10)")
    p.add_argument("--wrap-up", type=float, default=1.0, help="the queue's wrap-up seconds (default 1)")
    p.add_argument("--rtp-ports", default=IVR_RTP_PORTS,
                   help=f"callfloor's RTP range, 4 ports per call (default {IVR_RTP_PORTS}: above the "
                        "ephemeral ports, apart from the tests' and the other benchmarks' ranges)")
    p.add_argument("--silent", action="store_true", help="callers and seats send no audio (only the key)")
    p.add_argument("--max-retransmissions", type=int, default=0,
                   help="SIP retransmissions (either way) a passing level may have (default 0)")
    p.add_argument("--tolerance", type=float, default=0.9, help="achieved/asked rate a level must reach (default 0.9)")
    p.add_argument("--confirm", type=int, default=1, help="re-runs of a failed level before it counts (default 1)")
    p.add_argument("--disturbed-pct", type=float, default=10.0,
                   help="other processes' share of core 0 (%%) above which a level is re-run (default 10)")
    p.add_argument("--pause", type=float, default=2.0, help="seconds between levels (default 2)")
    p.add_argument("--timeout", type=float, default=3600.0, help="hard limit for the whole run, seconds (default 3600)")
    p.add_argument("--bus-url", default=None, metavar="mqtt://HOST:PORT",
                   help="an external MQTT broker (e.g. Mosquitto) instead of the embedded one")
    p.add_argument("--log-level", default="WARNING", help="callfloor's log level (default WARNING)")
    p.add_argument("--profile", type=float, default=None, metavar="R",
                   help="run only rate R with callfloor under cProfile (steady window); list its hottest functions")
    p.add_argument("--top", type=int, default=25, help="functions listed with --profile (default 25)")
    p.add_argument("--keep", action="store_true", help="keep each level's temp dir (config, log, database)")
    return p


# -- the flow and its prompts ------------------------------------------------------------------
def _chord(seconds: float, freqs: tuple[float, ...], level: float = 0.25) -> np.ndarray:
    t = np.arange(int(seconds * 8000)) / 8000.0
    x = sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs)
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # 10 ms ramps: no clicks
    return np.asarray(x * fade * level, dtype=np.float32)


def write_flow(directory: Path) -> str:
    """Copy the benchmark's flow into ``directory`` with its prompts; returns the line's number."""
    prompts = directory / "prompts"
    prompts.mkdir(parents=True)
    shutil.copy(FLOW, directory / FLOW.name)
    soundfile.write(prompts / "welcome.wav", _chord(0.6, (440.0, 554.0)), 8000, subtype="PCM_16")
    soundfile.write(prompts / "menu.wav", _chord(1.2, (523.0, 659.0, 784.0)), 8000, subtype="PCM_16")
    hold = np.concatenate([_chord(0.5, (392.0, 494.0), 0.15), _chord(0.5, (440.0, 523.0), 0.15)] * 4)
    soundfile.write(prompts / "hold.wav", hold, 8000, subtype="PCM_16")
    with FLOW.open("rb") as f:
        return str(tomllib.load(f)["numbers"][0])


def seats_for(args: argparse.Namespace, rate: float) -> int:
    """Enough seats that none is ever missing: 1.5 x the rate times a seat's time per call."""
    busy = rate * (args.talk + args.wrap_up + 0.5)
    return max(int(args.seats), int(math.ceil(1.5 * busy)))


def floor_config(args: argparse.Namespace, ws: Path, seats: int, line: str) -> FloorConfig:
    """callfloor's configuration: the seats, the IVR line on the trunk, one queue."""
    sections = [
        "[ivr]", f"flows = {json.dumps(str(ws / 'flows'))}", 'moh = "hold"', "",
        "[[queues]]", f'name = "{QUEUE}"', 'strategy = "longest-idle"', "ring_timeout = 10",
        f"wrap_up = {args.wrap_up}",  # no max_wait: the callers give up (--patience)
        "announce_every = 3600",  # no announcements: their prompts are not generated
        "",
    ]
    low, high = (int(x) for x in args.rtp_ports.split("-"))
    return FloorConfig(seats=seats, data_dir=ws / "data", log_level=args.log_level, rtp_ports=(low, high),
                       extra_dids=(line,), seat_queues=(QUEUE,), sections=sections, bus_url=args.bus_url)


# -- one level ----------------------------------------------------------------------------------
async def make_ready(base: str, seats: int) -> dict[str, Any]:
    """POST presence "ready" for every seat; then wait until the queue sees them available."""
    gate = asyncio.Semaphore(20)
    states: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=base, timeout=10.0) as client:
        async def one(i: int) -> None:
            async with gate:
                r = await client.post(f"/api/seats/{seat(i)}/presence", json={"action": "ready"})
                key = r.json().get("presence", str(r.status_code)) if r.status_code == 200 else str(r.status_code)
                states[key] = states.get(key, 0) + 1

        await asyncio.gather(*(one(i) for i in range(seats)))
        available = 0
        for _ in range(50):
            queues = (await client.get("/api/queues")).json()
            available = next((q["available"] for q in queues if q["name"] == QUEUE), 0)
            if available >= seats:
                break
            await asyncio.sleep(0.1)
    return {"presence": states, "available": available}


async def queue_stats(base: str) -> dict[str, Any] | None:
    """The queue's counters from GET /api/queues (None when callfloor is gone)."""
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10.0) as client:
            queues = (await client.get("/api/queues")).json()
    except httpx.HTTPError:
        return None
    q = next((q for q in queues if q["name"] == QUEUE), None)
    if q is None:
        return None
    return {"waiting": q["waiting"], **{k: round(v, 3) for k, v in q["stats"].items()}}


async def drive(args: argparse.Namespace, floor: Floor, line: str, seats: int, rate: float,
                profiling: bool) -> dict[str, Any]:
    """Register and ready the seats, place the callers, measure; the level's raw figures."""
    load = Run.load = IvrLoad(floor.sip, floor.cfg.trunk_port, line, audio=not args.silent,
                              dtmf_after=args.dtmf_after, patience=args.patience, talk=args.talk)
    await load.open()
    out: dict[str, Any] = {}
    try:
        t = time.monotonic()
        regs = await load.register(seats)
        out["registered"] = {str(k): v for k, v in sorted(regs.items())}
        out["ready"] = await make_ready(floor.http, seats)
        out["setup_s"] = round(time.monotonic() - t, 1)
        load.reset_counts()
        gc.collect()
        gc.freeze()
        rtp = set(range(floor.cfg.rtp_ports[0], floor.cfg.rtp_ports[1] + 1)) | {floor.cfg.sip_port}
        own = {load.seat_media.port, load.caller_media.port, load.seat_agent.port, load.carrier_agent.port}
        meters: dict[str, Meter] = {}
        drops = {"floor": udp_drops(ports=rtp), "load": udp_drops(ports=own)}

        def window(start: bool) -> None:
            if start:
                meters.update(floor=Meter(floor.pid, FLOOR_CORE), load=Meter(os.getpid(), LOAD_CORE))
            else:
                cpu = {k: m.read() for k, m in meters.items()}
                out["floor_cpu_pct"], out["floor_core_other_pct"] = cpu["floor"]["cpu_pct"], cpu["floor"]["other_pct"]
                out["load_cpu_pct"] = cpu["load"]["cpu_pct"]
                out["window_s"] = round(time.monotonic() - meters["floor"].t0, 1)
            if profiling:
                os.kill(floor.pid, signal.SIGUSR1 if start else signal.SIGUSR2)

        ramp = min(args.ramp, args.seconds / 4)
        budget = args.dtmf_after + args.patience + args.talk + 30
        out.update(await load.place(rate, args.seconds, window, ramp=ramp, budget=budget))
        await asyncio.sleep(0.5)  # the seats' BYEs trail the callers'
        out["floor_socket_drops"] = udp_drops(ports=rtp) - drops["floor"]
        out["load_socket_drops"] = udp_drops(ports=own) - drops["load"]
        out.update(load.summary())
        out["api_queue"] = await queue_stats(floor.http)
    finally:
        gc.unfreeze()
        await load.close()
        Run.load = None
    return out


def read_event_log(db: Path) -> dict[str, Any] | None:
    """callfloor's own account, after it stopped: queue events and the callers' CDRs."""
    if not db.exists():
        return None
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        kinds = dict(con.execute("SELECT kind, COUNT(*) FROM events WHERE kind LIKE 'queue.%' GROUP BY kind"))
        waits = [w for (w,) in con.execute(
            "SELECT json_extract(data, '$.wait_s') FROM events WHERE kind = 'queue.answered'") if w is not None]
        seated = con.execute(
            "SELECT COUNT(DISTINCT c.caller) FROM events e JOIN calls c ON c.uuid = json_extract(e.data, '$.call')"
            " WHERE e.kind = 'queue.answered'").fetchone()[0]
        ends = dict(con.execute(
            "SELECT COALESCE(hangup_by, '') || ':' || COALESCE(end_reason, status), COUNT(*) FROM calls"
            " WHERE direction = 'inbound' GROUP BY 1"))
    finally:
        con.close()
    return {"queue_events": kinds, "callers_answered": seated, "queue_wait_ms": percentiles(waits),
            "inbound_calls": ends}


def run_level(args: argparse.Namespace, rate: float, attempt: int, *, profile: bool = False) -> dict[str, Any]:
    """Start callfloor for this level, drive it, stop it, read its event log, judge."""
    seats = seats_for(args, rate)
    with workspace(args.keep, f"callfloor-ivr-{rate:g}-") as ws:
        line = write_flow(ws / "flows")
        cfg = floor_config(args, ws, seats, line)
        prof = ws / "callfloor.prof" if profile else None
        floor = Run.floor = Floor(cfg, ws, profile=prof)
        level: dict[str, Any] = {"rate": rate, "attempt": attempt, "seats": seats}
        try:
            floor.start()
            level.update(asyncio.run(drive(args, floor, line, seats, rate, profile)))
        except (OSError, RuntimeError, TimeoutError, ValueError, httpx.HTTPError) as exc:
            level["error"] = f"{type(exc).__name__}: {exc}"
            log(f"level {rate:g} broke: {level['error']}\n{floor.tail(15)}")
        finally:
            level["floor_exit"] = floor.stop()
            floor.kill()
            Run.floor = None
        level["event_log"] = read_event_log(cfg.data_dir / "callfloor.db")
        if prof is not None:
            level["profile"] = profile_rows(prof, args.top)
        judge(args, level)
        if not level["ok"]:
            level["floor_log_tail"] = floor.tail(10).splitlines()
    return level


def judge(args: argparse.Namespace, level: dict[str, Any]) -> dict[str, Any]:
    """ok: every caller reached a seat cleanly, no retransmission, the event log agrees, the
    rate was kept; disturbed: core 0 was busy with other processes (a re-run is due)."""
    callers = level.get("callers", 0)
    retrans = level.get("retransmissions", {})
    logged = level.get("event_log") or {}
    checks = {
        "all_reached_a_seat": callers > 0 and level.get("completed") == callers,
        "no_retransmissions": sum(retrans.values()) <= args.max_retransmissions if retrans else False,
        "event_log_agrees": not logged or logged.get("callers_answered") == callers,
        "rate_kept": (level.get("achieved_cps") or 0) >= args.tolerance * level["rate"] or callers == 1,
        "seats_heard_callers": args.silent or level.get("seats_heard_caller") == level.get("reached_seat"),
        "setup": (level.get("registered", {}).get("200") == level["seats"] and "error" not in level
                  and level.get("ready", {}).get("available") == level["seats"]),
    }
    level["checks"] = checks
    level["ok"] = all(checks.values())
    level["disturbed"] = (level.get("floor_core_other_pct") or 0) > args.disturbed_pct
    return level


def _line(lv: dict[str, Any]) -> str:
    if "callers" not in lv:
        return f"R={lv['rate']:g}: FAIL {lv.get('error')}"
    t, k = lv.get("time_to_seat_ms") or {}, lv.get("key_to_seat_ms") or {}
    r = lv["retransmissions"]
    failed = [name for name, good in lv["checks"].items() if not good]
    return (f"R={lv['rate']:g}: {'ok' if lv['ok'] else 'FAIL ' + ','.join(failed)} "
            f"callers={lv['callers']} seated={lv['reached_seat']} ok={lv['completed']} "
            f"failures={lv['failures'] or 0} to-seat p50/p99={t.get('p50')}/{t.get('p99')} ms "
            f"key-to-seat p50/p99={k.get('p50')}/{k.get('p99')} ms retrans={r['from_floor']}+{r['to_floor']} "
            f"cpu={lv.get('floor_cpu_pct')}% load={lv.get('load_cpu_pct')}% "
            f"other-on-core0={lv.get('floor_core_other_pct')}%" + (" DISTURBED" if lv["disturbed"] else ""))


def ramp_levels(args: argparse.Namespace, levels: list[dict[str, Any]]) -> float:
    """Ramp through the rates until one fails (after re-runs); returns the best passing rate."""
    best = 0.0
    for rate in args.rates:
        level: dict[str, Any] = {}
        for attempt in range(1 + args.confirm):
            if Run.expired:
                return best
            if levels:
                time.sleep(args.pause)
            log(f"level R={rate:g}/s for {args.seconds:g} s" + (f" (re-run {attempt})" if attempt else ""))
            level = run_level(args, rate, attempt)
            levels.append(level)
            log(_line(level))
            if level["ok"]:
                break
        if not level["ok"] or Run.expired:
            break
        best = rate
    return best


def main() -> None:
    args = _parser().parse_args()
    pin(LOAD_CORE)
    raise_nofile()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()

    signal.signal(signal.SIGALRM, Run.expire)
    signal.alarm(max(1, int(args.timeout)))
    started = time.monotonic()
    result = Run.result = {
        "benchmark": "ivr",
        "question": "callers per second that enter the IVR, press 1, wait in a queue and reach a seat, "
                    "with no failure",
        "machine": machine(),
        "settings": {k: v for k, v in vars(args).items() if k != "keep"},
    }
    levels = Run.levels
    try:
        if args.profile is not None:
            log(f"profiling callfloor at R={args.profile:g}/s")
            level = run_level(args, args.profile, 0, profile=True)
            levels.append(level)
            log(_line(level))
            for row in level.get("profile", []):
                log(f"  {row['tottime_s']:8.3f} s {row['pct']:5.1f}%  {row['ncalls']:>10}  {row['function']}")
            result["max_clean_cps"] = None
        else:
            result["max_clean_cps"] = ramp_levels(args, levels)
    finally:
        signal.alarm(0)
    if Run.expired:
        result["timed_out"] = f"--timeout {args.timeout:g} s: callfloor was killed in the last level"
    result["levels"] = levels
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    emit(result)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
