"""The highest call rate (calls per second) callfloor sets up and tears down with no failed call and
no retransmission, driven by SIPp. Target: 200 CPS.

callfloor runs as a subprocess pinned to core 0 with --seats seats, one DID routed to each. Every
seat is registered (our own digest client, bench/sipload.py) with its Contact at one SIPp UAS on
127.0.0.1 that answers at once (bench/sipp/cps_uas.xml). A SIPp UAC on 127.0.0.2 (the trunk's
address) calls the DIDs in order (-inf, SEQUENTIAL) at -r R for R x --step-seconds calls: INVITE,
200, ACK, --hold ms, BYE (bench/sipp/cps_uac.xml). SIPp and this driver run on core 1.

Rates ramp through --rates until a step has a failed call, a retransmission (either SIPp) or
falls short of its rate; a bad step is re-run --confirm times before it counts (the machine may
be shared). One JSON object on stdout, a line per step on stderr.

    .venv/bin/python bench/cps.py                    # 50 ... until it breaks, a few minutes
    .venv/bin/python bench/cps.py --rates 200,400 --step-seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    BENCH_DIR,
    CARRIER_HOST,
    LOAD_CORE,
    Floor,
    FloorConfig,
    _child_setup,
    cpu_seconds,
    did,
    emit,
    free_port,
    log,
    machine,
    password,
    pin,
    raise_nofile,
    seat,
    workspace,
)
from profiled import profile_rows  # noqa: E402
from sipload import ContactAgent, register_all  # noqa: E402

SIPP_DIR = BENCH_DIR / "sipp"
DEFAULT_RATES = "50,100,150,200,250,300,400,500,600,800,1000,1200,1500"


def _rates(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench/cps.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rates", type=_rates, default=_rates(DEFAULT_RATES), metavar="R[,R...]",
                   help=f"call rates to try in order (default {DEFAULT_RATES})")
    p.add_argument("--step-seconds", type=float, default=10.0, help="calls per step = rate x this (default 10)")
    p.add_argument("--hold", type=int, default=1000, help="ms between ACK and BYE (default 1000)")
    p.add_argument("--seats", type=int, default=2000, help="seats registered, one DID each (default 2000)")
    p.add_argument("--confirm", type=int, default=1, help="re-runs of a bad step before it counts (default 1)")
    p.add_argument("--pause", type=float, default=3.0, help="seconds between steps (default 3)")
    p.add_argument("--tolerance", type=float, default=0.9, help="achieved/target rate a step must reach (default 0.9)")
    p.add_argument("--log-level", default="INFO", help="callfloor's log level (default INFO)")
    p.add_argument("--profile", type=int, default=None, metavar="R",
                   help="run callfloor under cProfile during the step at rate R; list its hottest functions")
    p.add_argument("--top", type=int, default=25, help="functions listed with --profile (default 25)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (config, logs, SIPp stats)")
    return p


def sipp_binary() -> str:
    """The sipp executable (Debian sip-tester)."""
    path = shutil.which("sipp")
    if path is None:
        raise SystemExit("sipp not found: apt-get install sip-tester")
    return path


def read_stats(path: Path) -> list[dict[str, str]]:
    """SIPp's -trace_stat CSV (';'-separated, one row per -fd period)."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return [row for row in csv.DictReader(f, delimiter=";") if row]


def _ms(text: str) -> float | None:
    """A SIPp duration 'HH:MM:SS:uuuuuu' (or 'HH:MM:SS:mmm') in milliseconds."""
    parts = text.strip().split(":")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None
    h, m, s = (int(p) for p in parts[:3])
    frac = int(parts[3]) / (1000 if len(parts[3]) == 6 else 1)
    return ((h * 60 + m) * 60 + s) * 1000 + frac


def summarize_stats(rows: list[dict[str, str]]) -> dict[str, Any]:
    """The counters that decide a step, from the last row (cumulative) and the periodic rows."""
    if not rows:
        return {"error": "no statistics written"}
    last = rows[-1]

    def count(name: str) -> int:
        value = last.get(name, "0").strip()
        return int(value) if value.isdigit() else 0

    out: dict[str, Any] = {
        "created": count("TotalCallCreated"), "successful": count("SuccessfulCall(C)"),
        "failed": count("FailedCall(C)"), "retransmissions": count("Retransmissions(C)"),
        "unexpected": count("FailedUnexpectedMessage(C)"), "timeouts": count("FailedCallRejected(C)"),
        "max_concurrent": max((int(r.get("CurrentCall", "0") or 0) for r in rows), default=0),
    }
    for key, name in (("setup_ms_avg", "ResponseTimesetup(C)"), ("bye_ms_avg", "ResponseTimebye(C)")):
        if name in last:
            value = _ms(last[name])
            out[key] = None if value is None else round(value, 2)
    prefix = "ResponseTimeRepartitionsetup_"
    buckets = {k[len(prefix):]: int(v) for k, v in last.items() if k and k.startswith(prefix) and v.isdigit()}
    if buckets:
        out["setup_ms_histogram"] = buckets
    return out


class Sipp:
    """One SIPp run in ``workdir``, pinned to the load core; stats go to ``<name>.csv``."""

    def __init__(self, name: str, args: list[str], workdir: Path) -> None:
        self.name = name
        self.workdir = workdir
        self.stats = workdir / f"{name}.csv"
        cmd = [sipp_binary(), *args, "-nostdin", "-trace_stat", "-stf", str(self.stats), "-fd", "1",
               "-trace_err", "-error_file", str(workdir / f"{name}_errors.log")]
        with open(workdir / f"{name}.out", "wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
                                         preexec_fn=functools.partial(_child_setup, LOAD_CORE))

    def wait(self, timeout: float) -> int:
        """Wait for SIPp to finish; past ``timeout`` it is asked to quit, then killed."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)  # SIPp: stop creating calls and quit
            try:
                return self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()

    def errors(self, lines: int = 5) -> list[str]:
        """The first lines of SIPp's error log."""
        path = self.workdir / f"{self.name}_errors.log"
        if not path.exists():
            return []
        return [x for x in path.read_text(errors="replace").splitlines() if x.strip()][:lines]


def run_step(args: argparse.Namespace, floor: Floor, ws: Path, uas_port: int, rate: int,
             attempt: int) -> dict[str, Any]:
    """One rate: the UAS, then the UAC for rate x step-seconds calls; judged on both."""
    calls = max(1, round(rate * args.step_seconds))
    work = ws / f"step-{rate}-{attempt}"
    work.mkdir()
    budget = calls / rate + args.hold / 1000 + 30
    uas = Sipp("uas", ["-sf", str(SIPP_DIR / "cps_uas.xml"), "-i", "127.0.0.1", "-p", str(uas_port),
                       "-mi", "127.0.0.1", "-mp", str(free_port()), "-m", str(calls)], work)
    time.sleep(0.3)
    profiling = args.profile == rate and attempt == 0
    if profiling:
        os.kill(floor.pid, signal.SIGUSR1)
    cpu0, t0 = cpu_seconds(floor.pid), time.monotonic()
    uac = Sipp("uac", [f"{floor.sip[0]}:{floor.sip[1]}", "-sf", str(SIPP_DIR / "cps_uac.xml"),
                       "-inf", str(ws / "dids.csv"), "-i", CARRIER_HOST, "-p", str(floor.cfg.trunk_port),
                       "-mi", CARRIER_HOST, "-mp", str(free_port(CARRIER_HOST)), "-r", str(rate),
                       "-rp", "1000", "-m", str(calls), "-l", str(int(args.seats * 0.9)),
                       "-d", str(args.hold), "-timeout", f"{budget:.0f}s"], work)
    uac_code = uac.wait(budget + 10)
    cpu1, t1 = cpu_seconds(floor.pid), time.monotonic()
    if profiling:
        os.kill(floor.pid, signal.SIGUSR2)
    uas_code = uas.wait(10)
    u, s = summarize_stats(read_stats(uac.stats)), summarize_stats(read_stats(uas.stats))
    creating = max(t1 - t0 - args.hold / 1000 - 2 * (u.get("setup_ms_avg") or 0) / 1000, 1e-3)
    achieved = round(min(calls, u.get("created", 0)) / creating, 1)
    clean = (uac_code == 0 and u.get("failed", 1) == 0 and u.get("retransmissions", 1) == 0
             and s.get("failed", 1) == 0 and s.get("retransmissions", 1) == 0
             and u.get("successful") == calls)
    step = {
        "rate": rate, "calls": calls, "attempt": attempt,
        "ok": clean and achieved >= args.tolerance * rate, "clean": clean,
        "achieved_cps": achieved, "floor_cpu_pct": round(100 * (cpu1 - cpu0) / (t1 - t0), 1),
        "seconds": round(t1 - t0, 1), "uac": u, "uas": s, "uac_exit": uac_code, "uas_exit": uas_code,
    }
    errors = uac.errors() + uas.errors()
    if errors:
        step["sipp_errors"] = errors
    return step


def _line(step: dict[str, Any]) -> str:
    u, s = step["uac"], step["uas"]
    return (f"R={step['rate']}: {'ok' if step['ok'] else 'FAIL'} achieved={step['achieved_cps']} cps "
            f"ok={u.get('successful')}/{step['calls']} failed={u.get('failed')}+{s.get('failed')} "
            f"retrans={u.get('retransmissions')}+{s.get('retransmissions')} "
            f"setup={u.get('setup_ms_avg')} ms cpu={step['floor_cpu_pct']}%")


async def register(floor: Floor, seats: int, uas_port: int) -> dict[int, int]:
    """Register every seat with its Contact at the SIPp UAS."""
    agent = ContactAgent("bench-registrar", ("127.0.0.1", uas_port), host="127.0.0.1")
    await agent.open()
    try:
        return await register_all(agent, [(seat(i), password(seat(i))) for i in range(seats)], floor.sip)
    finally:
        await agent.close()


def main() -> None:
    args = _parser().parse_args()
    pin(LOAD_CORE)
    raise_nofile()
    started = time.monotonic()
    result: dict[str, Any] = {
        "benchmark": "cps",
        "question": "highest calls/s with no failed call and no retransmission (target 200)",
        "machine": machine(),
        "settings": {k: v for k, v in vars(args).items() if k != "keep"},
    }
    steps: list[dict[str, Any]] = []
    best = 0
    with workspace(args.keep, "callfloor-cps-") as ws:
        cfg = FloorConfig(seats=args.seats, data_dir=ws / "data", log_level=args.log_level)
        (ws / "dids.csv").write_text("SEQUENTIAL\n" + "".join(f"{did(i)};\n" for i in range(args.seats)))
        uas_port = free_port()
        prof = ws / "callfloor.prof" if args.profile else None
        with Floor(cfg, ws, profile=prof) as floor:
            t = time.monotonic()
            regs = asyncio.run(register(floor, args.seats, uas_port))
            result["registered"] = {str(k): v for k, v in regs.items()}
            log(f"registered {regs} in {time.monotonic() - t:.1f} s")
            for rate in args.rates:
                step = {}
                for attempt in range(1 + args.confirm):
                    if steps:
                        time.sleep(args.pause)
                    step = run_step(args, floor, ws, uas_port, rate, attempt)
                    steps.append(step)
                    log(_line(step))
                    if step["ok"]:
                        break
                if not step["ok"]:
                    break
                best = rate
            result["floor_log_tail"] = floor.tail(5)
        if prof is not None:
            result["profile"] = profile_rows(prof, args.top)
            for row in result["profile"]:
                log(f"  {row['tottime_s']:8.3f} s {row['pct']:5.1f}%  {row['ncalls']:>10}  {row['function']}")
    result["max_clean_cps"] = best
    result["target_cps"] = 200
    result["steps"] = steps
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    emit(result)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
