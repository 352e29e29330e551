"""How many concurrent bridged and recorded G.711 calls one core of callfloor carries with no
packet loss and a p99 added latency under 5 ms.

For each level N: callfloor starts as a subprocess pinned to core 0 (uvloop, N seats, N DIDs routed
one-to-one, recordings on), and a load process pinned to core 1 (bench/relay_load.py) measures a
baseline (its RTP looped back without callfloor), registers the N seats, places N calls from the
carrier address 127.0.0.2 and sends 50 PCMU packets/s each way per call for --seconds. Added
latency = latency through the relay minus the baseline's, at p50/p99/max.

Levels ramp from --start by --growth until one fails (or --max), then bisect to --resolution;
--calls runs exactly the levels given. Per-level lines go to stderr, one JSON object to stdout.
--profile runs one level with callfloor under cProfile and lists its hottest functions.

    .venv/bin/python bench/relay.py                      # the search, a few minutes
    .venv/bin/python bench/relay.py --calls 50,100       # just these levels
    .venv/bin/python bench/relay.py --profile --calls 200
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    BENCH_DIR,
    LOAD_CORE,
    PYTHON,
    RTP_PORTS,
    Floor,
    FloorConfig,
    emit,
    log,
    machine,
    run_pinned,
    workspace,
)
from profiled import profile_rows  # noqa: E402


def _levels(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench/relay.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=_levels, default=None, metavar="N[,N...]",
                   help="run exactly these levels (no search)")
    p.add_argument("--start", type=int, default=100, help="first level of the search (default 100)")
    p.add_argument("--growth", type=float, default=1.5, help="ramp factor between levels (default 1.5)")
    p.add_argument("--max", type=int, default=2400, help="highest level tried (default 2400)")
    p.add_argument("--resolution", type=int, default=10,
                   help="bisect until the gap is this many calls or 5%% of the passing level (default 10)")
    p.add_argument("--seconds", type=float, default=20.0, help="measured window per level (default 20)")
    p.add_argument("--warmup", type=float, default=2.0, help="RTP before the window (default 2)")
    p.add_argument("--baseline-seconds", type=float, default=5.0, help="loop-back baseline per level (default 5)")
    p.add_argument("--setup-rate", type=float, default=100.0, help="calls set up per second (default 100)")
    p.add_argument("--slots", type=int, default=20, help="send bursts per 20 ms tick (default 20: one per ms)")
    p.add_argument("--p99-limit", type=float, default=5.0, help="highest p99 added latency in ms that passes (default 5)")
    p.add_argument("--rtp-ports", default=RTP_PORTS,
                   help=f"callfloor's RTP range (default {RTP_PORTS}: clear of ephemeral ports and the tests' ranges)")
    p.add_argument("--log-level", default="INFO", help="callfloor's log level (default INFO)")
    p.add_argument("--disturbed-pct", type=float, default=10.0,
                   help="other processes' share of callfloor's core (%%) above which a level is re-run (default 10)")
    p.add_argument("--retries", type=int, default=2, help="re-runs of a disturbed level (default 2)")
    p.add_argument("--profile", action="store_true", help="run one level (first of --calls, default 200) under cProfile")
    p.add_argument("--top", type=int, default=25, help="functions listed with --profile (default 25)")
    p.add_argument("--keep", action="store_true", help="keep each level's temp dir (config, log, recordings)")
    p.add_argument("--dump", type=Path, default=None, metavar="DIR",
                   help="save every measured packet (stream, send time, latency) as DIR/relay-N.npz")
    return p


def _added(relay: dict[str, float], base: dict[str, float]) -> dict[str, float]:
    """Through-relay minus loop-back latency at p50 and p99; the worst packet minus the loop-back
    median (a difference of two maxima would subtract one noise spike from another)."""
    return {"p50": round(relay["p50"] - base["p50"], 3), "p99": round(relay["p99"] - base["p99"], 3),
            "max": round(relay["max"] - base["p50"], 3)}


def run_level(args: argparse.Namespace, n: int, *, profile: bool = False) -> dict[str, Any]:
    """Start callfloor, run the load process against it, and judge the level."""
    low, high = (int(x) for x in args.rtp_ports.split("-"))
    if 4 * n > high - low + 1:
        raise SystemExit(f"--rtp-ports {args.rtp_ports} holds too few ports for {n} calls (4 per call)")
    with workspace(args.keep, f"callfloor-relay-{n}-") as ws:
        cfg = FloorConfig(seats=n, data_dir=ws / "data", rtp_ports=(low, high), log_level=args.log_level)
        prof = ws / "callfloor.prof" if profile else None
        floor = Floor(cfg, ws, profile=prof)
        floor.start()
        try:
            cmd = [PYTHON, str(BENCH_DIR / "relay_load.py"), "--sip", f"{floor.sip[0]}:{floor.sip[1]}",
                   "--trunk-port", str(cfg.trunk_port), "--calls", str(n), "--seconds", str(args.seconds),
                   "--warmup", str(args.warmup), "--baseline-seconds", str(args.baseline_seconds),
                   "--setup-rate", str(args.setup_rate), "--slots", str(args.slots),
                   "--floor-pid", str(floor.pid), "--rtp-ports", args.rtp_ports,
                   *(["--profile-window"] if profile else []),
                   *(["--dump", str(args.dump / f"relay-{n}.npz")] if args.dump else [])]
            budget = args.baseline_seconds + 3 * n / args.setup_rate + args.warmup + args.seconds + 90
            proc = run_pinned(cmd, LOAD_CORE, budget)
        finally:
            code = floor.stop()
            floor.kill()
        if proc.returncode != 0 or not proc.stdout.strip():
            log(f"load process failed ({proc.returncode}); callfloor log:\n{floor.tail()}")
            return {"calls": n, "ok": False, "valid": False, "error": f"load process exited {proc.returncode}"}
        raw = json.loads(proc.stdout.strip().splitlines()[-1])
        level = _judge(args, raw)
        level["floor_exit"] = code
        if prof is not None:
            level["profile"] = profile_rows(prof, args.top)
        return level


def _judge(args: argparse.Namespace, raw: dict[str, Any]) -> dict[str, Any]:
    n = raw["calls"]
    level: dict[str, Any] = {"calls": n, "setup": raw.get("setup"), "baseline": raw["baseline"]}
    relay = raw.get("relay")
    if relay is None:  # a set-up failure (a port taken by another program, ...): not a figure
        level.update(ok=False, valid=False, error=f"only {raw.get('bridged', 0)} of {n} calls bridged")
        return level
    added = _added(relay["latency_ms"], raw["baseline"]["latency_ms"])
    gen = relay["generator"]
    valid = raw["generator_socket_drops"] == 0 and gen["send_refused"] == 0 and gen["bad_datagrams"] == 0
    level.update(
        ok=valid and relay["lost"] == 0 and added["p99"] < args.p99_limit,
        valid=valid, lost=relay["lost"], loss_pct=round(100 * relay["lost"] / max(1, relay["sent"]), 4),
        calls_with_loss=relay["calls_with_loss"], added_latency_ms=added, relay=relay,
        floor_cpu_pct=raw["floor_cpu_pct"], generator_cpu_pct=raw["generator_cpu_pct"],
        floor_core_other_pct=raw["floor_core_other_pct"], load_core_other_pct=raw["load_core_other_pct"],
        disturbed=raw["floor_core_other_pct"] > args.disturbed_pct,
        packets_relayed_per_s=relay["packets_per_s"], floor_socket_drops=raw["floor_socket_drops"],
        generator_socket_drops=raw["generator_socket_drops"], byes=raw.get("byes"),
    )
    return level


def _line(level: dict[str, Any]) -> str:
    if "relay" not in level:
        return f"N={level['calls']}: FAIL {level.get('error')}"
    a = level["added_latency_ms"]
    return (f"N={level['calls']}: {'ok' if level['ok'] else 'FAIL'} lost={level['lost']} "
            f"added p50/p99/max={a['p50']}/{a['p99']}/{a['max']} ms cpu={level['floor_cpu_pct']}% "
            f"relayed={level['packets_relayed_per_s']:.0f} pkt/s gen_cpu={level['generator_cpu_pct']}%"
            + f" other-on-core0={level['floor_core_other_pct']}%"
            + (" DISTURBED" if level["disturbed"] else "")
            + ("" if level["valid"] else " (generator dropped: level not valid)"))


def _round_to(value: float, step: int) -> int:
    return int(math.floor(value / step) * step)


def search(args: argparse.Namespace) -> tuple[int, list[dict[str, Any]]]:
    """Ramp, then bisect; returns the largest passing level and every level's figures."""
    levels: list[dict[str, Any]] = []

    def attempt(n: int) -> bool:
        for tries in range(1 + args.retries):
            log(f"level N={n}" + (f" (re-run {tries}: the last one was disturbed or not valid)" if tries else ""))
            level = run_level(args, n)
            level["attempt"] = tries
            levels.append(level)
            log(_line(level))
            if level["ok"] or (level.get("valid", True) and not level.get("disturbed")):
                break
        return bool(level["ok"])

    if args.calls:
        for n in args.calls:
            attempt(n)
        return max((lv["calls"] for lv in levels if lv["ok"]), default=0), levels
    good, bad, n = 0, None, args.start
    while n <= args.max:
        if not attempt(n):
            bad = n
            break
        good = n
        n = _round_to(n * args.growth, args.resolution)
    while bad is not None and bad - good > max(args.resolution, 0.05 * good):
        mid = _round_to((good + bad) / 2, args.resolution)
        if mid <= good:
            break
        if attempt(mid):
            good = mid
        else:
            bad = mid
    return good, levels


def main() -> None:
    args = _parser().parse_args()
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    result: dict[str, Any] = {
        "benchmark": "relay",
        "question": "concurrent bridged+recorded G.711 calls on one core, no loss, p99 added latency "
                    f"< {args.p99_limit:g} ms",
        "machine": machine(),
        "settings": {k: v for k, v in vars(args).items() if k not in ("keep",)},
    }
    if args.profile:
        n = args.calls[0] if args.calls else 200
        log(f"profiling callfloor at N={n}")
        level = run_level(args, n, profile=True)
        log(_line(level))
        for row in level.get("profile", []):
            log(f"  {row['tottime_s']:8.3f} s {row['pct']:5.1f}%  {row['ncalls']:>10}  {row['function']}")
        result["levels"] = [level]
    else:
        best, levels = search(args)
        result["max_calls"] = best
        result["levels"] = sorted(levels, key=lambda lv: lv["calls"])
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    emit(result)


if __name__ == "__main__":
    main()
