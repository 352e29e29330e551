"""Call audio analytics: how much faster than real time on one core, and how close to the truth.

Generates ``--calls`` synthetic two-channel calls (default 100 of 5 minutes at 8 kHz, seeded):
turns of speech-like syllables (tapered noise bursts at talker levels, pauses between syllables
and words), listeners' backchannels, turns that start before the other side has finished
(overtalk), dead air, an occasional hold with music on the agent's channel, and line noise on both
channels; some calls have an agent who lectures, turns cut in often, or a talker hot enough to
clip, so that each QA flag is raised now and then. Each call is analysed with
``recordings.analytics.analyze_call`` (this process pinned to one core, numpy single-threaded);
only the analysis is timed (CPU time), not the generation.

Prints one JSON object: ``x_realtime`` (seconds of call audio analysed per CPU second),
``per_call_ms`` (p50 / p90 / max CPU milliseconds per call), and ``accuracy``: per figure, the
mean absolute error against what the generator put in (talk per side, overtalk time and count,
hold, longest dead air) and, per QA flag, how often the analysis and the truth agree.

    .venv/bin/python bench/analytics.py
    .venv/bin/python bench/analytics.py --calls 10 --seconds 60
"""

from __future__ import annotations

import os

# Before numpy loads: one core means one thread in BLAS too (the loudness uses a matrix product).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit, log, machine, pin  # noqa: E402

from recordings.analytics import AnalyticsConfig, CallAnalytics, analyze_call, flags  # noqa: E402

RATE = 8000
GRID = 0.01  # the truth is kept on a 10 ms grid
CUSTOMER, AGENT = 0, 1


@dataclass
class Truth:
    """What the generator put into one call, as spans in seconds."""

    seconds: float
    talk: tuple[list[tuple[float, float]], list[tuple[float, float]]] = field(
        default_factory=lambda: ([], []))
    hold: list[tuple[float, float]] = field(default_factory=list)
    clipped_share: tuple[float, float] = (0.0, 0.0)  # samples beyond int16 before the cast


class Generator:
    """Synthetic calls, reproducible from a seed."""

    def __init__(self, seed: int, seconds: float) -> None:
        self.rng = np.random.default_rng(seed)
        self.seconds = seconds

    def call(self) -> tuple[np.ndarray, Truth]:
        rng, n = self.rng, round(self.seconds * RATE)
        x = np.empty((n, 2))
        for k in (0, 1):
            x[:, k] = rng.normal(0.0, 32768 * 10 ** (rng.uniform(-66, -50) / 20), n)
        truth = Truth(self.seconds)
        # Styles that raise the QA flags now and then: an agent who lectures, a heated call
        # (turns cut in), a talker hot enough to clip.
        style = rng.choice(["calm", "monologue", "heated", "hot"], p=[0.55, 0.15, 0.15, 0.15])
        hot = set(rng.choice(40, 8, replace=False).tolist()) if style == "hot" else set()
        overlaps = 0.5 if style == "heated" else 0.15
        t, speaker, turn, held = rng.uniform(0.3, 2.0), AGENT, 0, False
        end_of_call = self.seconds - 0.5
        while t < end_of_call - 1.0:
            r = rng.random()
            if not held and t > 30 and r < 0.015:
                length = min(rng.uniform(20, 240), end_of_call - t)
                self.music(x, t, t + length)
                truth.hold.append((t, t + length))
                t, speaker, held = t + length + rng.uniform(0.3, 1.5), AGENT, True
                continue
            if r < 0.075:
                t += rng.uniform(3, 30)  # dead air
                continue
            shortest, longest = (0.8, 10.0) if style != "monologue" else (
                (5.0, 25.0) if speaker == AGENT else (0.5, 2.5))
            stop = min(t + rng.uniform(shortest, longest), end_of_call)
            gain = 10.0 if turn in hot else 1.0
            truth.talk[speaker].append(self.speech(x, speaker, t, stop, gain))
            if stop - t > 3 and rng.random() < 0.5:  # "mhm" from the listener
                at = rng.uniform(t + 1, stop - 1)
                truth.talk[1 - speaker].append(self.speech(x, 1 - speaker, at, at + rng.uniform(0.15, 0.25)))
            overlap = rng.random() < overlaps and stop - t > 1.0
            cut_in = 3.0 if style == "heated" else 2.0
            t = stop - rng.uniform(0.4, min(cut_in, (stop - t) / 2)) if overlap else stop + rng.uniform(0.15, 1.2)
            speaker, turn = 1 - speaker, turn + 1
        x = np.rint(x)
        over = (x > 32767) | (x < -32768)
        truth.clipped_share = (float(over[:, 0].mean()), float(over[:, 1].mean()))
        return np.clip(x, -32768, 32767).astype(np.int16), truth

    def speech(self, x: np.ndarray, channel: int, start: float, stop: float,
               gain: float = 1.0) -> tuple[float, float]:
        """Syllables from ``start`` to ``stop``; returns the span actually voiced."""
        rng = self.rng
        base = rng.uniform(-30, -16)
        t, last = start, start
        while True:
            length = min(rng.uniform(0.08, 0.3), stop - t)
            if length < 0.04:
                break
            a, b = round(t * RATE), round((t + length) * RATE)
            ramp = min(80, (b - a) // 2)  # 10 ms raised-cosine edges
            env = np.ones(b - a)
            env[:ramp] = env[b - a - ramp :][::-1] = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
            level = 32768 * 10 ** ((base + rng.uniform(-4, 4)) / 20) * gain
            x[a:b, channel] = rng.normal(0.0, level, b - a) * env
            last = t + length
            t = last + (rng.uniform(0.1, 0.25) if rng.random() < 0.3 else rng.uniform(0.03, 0.12))
        return start, last

    def music(self, x: np.ndarray, start: float, stop: float) -> None:
        """Hold music on the agent's channel: notes with a second harmonic, steady level."""
        a, b = round(start * RATE), round(stop * RATE)
        t = np.arange(b - a) / RATE
        notes = self.rng.choice([392.0, 440.0, 494.0, 523.0, 587.0, 659.0], size=int(t[-1] / 0.4) + 1)
        freq = notes[(t // 0.4).astype(int)]
        phase = 2 * np.pi * np.cumsum(freq) / RATE
        amp = 32768 * 10 ** (self.rng.uniform(-26, -18) / 20)
        x[a:b, AGENT] = amp * (np.sin(phase) + 0.3 * np.sin(2 * phase))


def _mask(spans: list[tuple[float, float]], cells: int) -> np.ndarray:
    mask = np.zeros(cells, dtype=bool)
    for a, b in spans:
        mask[round(a / GRID) : round(b / GRID)] = True
    return mask


def _runs(mask: np.ndarray) -> np.ndarray:
    edges = np.diff(mask.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


def true_figures(truth: Truth, c: AnalyticsConfig) -> dict[str, Any]:
    """The figures the analysis should find, computed from the generator's spans."""
    cells = round(truth.seconds / GRID)
    cust, agent = (_mask(spans, cells) for spans in truth.talk)
    hold = _mask(truth.hold, cells)
    both = _runs(cust & agent)
    over = both[both >= round(c.min_overtalk_s / GRID)]
    quiet = _runs(~cust & ~agent & ~hold)
    anyone = np.count_nonzero(cust | agent)
    ratio = np.count_nonzero(agent) / anyone if anyone else 0.0
    longest = quiet.max() * GRID if len(quiet) else 0.0
    true_flags = {"long_dead_air": longest > c.flag_dead_air_s,
                  "overtalk": anyone and over.sum() / anyone > c.flag_overtalk_share,
                  "agent_dominates": ratio > c.flag_agent_talk_ratio, "clipping": max(truth.clipped_share) > c.flag_clipping_share,
                  "long_hold": hold.sum() * GRID > c.flag_hold_s}
    return {"customer_talk_s": cust.sum() * GRID, "agent_talk_s": agent.sum() * GRID,
            "overtalk_s": over.sum() * GRID, "overtalk_count": len(over),
            "hold_s": hold.sum() * GRID, "longest_dead_air_s": longest,
            "clipped_share": max(truth.clipped_share),
            "flags": {name for name, on in true_flags.items() if on}}


def found_figures(a: CallAnalytics, c: AnalyticsConfig) -> dict[str, Any]:
    return {"customer_talk_s": a.customer.talk_s, "agent_talk_s": a.agent.talk_s,
            "overtalk_s": a.overtalk_s, "overtalk_count": a.overtalk_count, "hold_s": a.hold_s,
            "longest_dead_air_s": a.longest_dead_air_s,
            "clipped_share": max(a.customer.clipped_share, a.agent.clipped_share),
            "flags": set(flags(a, c))}


def accuracy(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """Mean absolute error per figure (and the mean true value, for scale); flag agreement."""
    out: dict[str, Any] = {}
    for key in ("customer_talk_s", "agent_talk_s", "overtalk_s", "overtalk_count", "hold_s",
                "longest_dead_air_s", "clipped_share"):
        errors = [abs(found[key] - true[key]) for true, found in pairs]
        out[key] = {"mean_abs_error": round(float(np.mean(errors)), 6),
                    "mean_true": round(float(np.mean([true[key] for true, _ in pairs])), 6)}
    flag_stats = {}
    for name in ("long_dead_air", "overtalk", "agent_dominates", "clipping", "long_hold"):
        t = [name in true["flags"] for true, _ in pairs]
        f = [name in found["flags"] for _, found in pairs]
        flag_stats[name] = {"true": sum(t), "raised": sum(f),
                            "agree": sum(a == b for a, b in zip(t, f, strict=True))}
    out["flags"] = flag_stats
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=300.0, help="length of each call")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--core", type=int, default=1, help="CPU to pin this process to")
    args = parser.parse_args(argv)
    core = pin(args.core)
    config = AnalyticsConfig()
    gen = Generator(args.seed, args.seconds)
    cpu_ms: list[float] = []
    wall = 0.0
    pairs = []
    for i in range(args.calls):
        samples, truth = gen.call()
        if i == 0:
            analyze_call(samples, RATE, config)  # warm-up: first-touch allocations, imports
        start, start_wall = time.process_time(), time.perf_counter()
        result = analyze_call(samples, RATE, config)
        cpu_ms.append((time.process_time() - start) * 1000)
        wall += time.perf_counter() - start_wall
        pairs.append((true_figures(truth, config), found_figures(result, config)))
        if (i + 1) % 10 == 0:
            log(f"{i + 1}/{args.calls} calls, {np.mean(cpu_ms):.1f} ms CPU per call")
    audio_s = args.calls * args.seconds
    cpu_s = sum(cpu_ms) / 1000
    emit({
        "benchmark": "analytics",
        "question": "How much faster than real time does one core analyse two-channel calls?",
        "machine": machine(),
        "settings": {"calls": args.calls, "seconds": args.seconds, "rate": RATE, "seed": args.seed,
                     "core": core},
        "audio_s": audio_s,
        "cpu_s": round(cpu_s, 3),
        "wall_s": round(wall, 3),
        "x_realtime": round(audio_s / cpu_s, 1) if cpu_s else None,
        "per_call_ms": {"p50": round(float(np.percentile(cpu_ms, 50)), 2),
                        "p90": round(float(np.percentile(cpu_ms, 90)), 2),
                        "max": round(max(cpu_ms), 2)},
        "accuracy": accuracy(pairs),
    })


if __name__ == "__main__":
    main()
