"""Answering-machine detection accuracy on the clip set: how often, how fast, at what CPU cost.

Each clip of the manifest (``tests/fixtures/amd/manifest.toml`` by default, or ``--dir`` with
its own ``manifest.toml``) is fed to a fresh ``dialer.amd.AmdDetector`` in 20 ms chunks (as the
media tap does) until it decides, then ``finish()`` gives the verdict at the end of the time
budget. Prints one JSON object on stdout:

- per split (``tune``: the clips the thresholds were chosen on; ``test``: held out; ``all``) and
  per kind (``generated``, ``recorded``-style) within each split: accuracy ("unknown" counts as
  wrong), the share of clips left unknown, precision and recall per class, the confusion matrix
  truth → verdict (human / machine / unknown), time to decision p50 / p90 per true class
  (seconds of audio; an unknown counts at the end of the budget);
- ``cpu_s_per_audio_s``: this process's CPU time per second of audio analysed (one call's cost
  as a share of one core).

``--list`` prints a line per clip on stderr; ``--set key=value`` overrides a detector setting
(``AmdThresholds`` field names), to try thresholds on the tune split before changing a default.

    .venv/bin/python bench/amd.py
    .venv/bin/python bench/amd.py --list --split test
    .venv/bin/python bench/amd.py --set greeting=1.8 --set max_words=4
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

# bench/dialer.py is a sibling: with this directory first on the path, ``import dialer`` would
# find that script instead of the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from dialer.amd import HUMAN, MACHINE, UNKNOWN, AmdDetector, AmdThresholds  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "amd"
CHUNK = 160
CLASSES = (HUMAN, MACHINE)
VERDICTS = (HUMAN, MACHINE, UNKNOWN)


def run_clip(pcm: np.ndarray, config: AmdThresholds, chunk: int = CHUNK) -> dict[str, Any]:
    """Feed one clip; its verdict, reason, decision time, features and CPU seconds."""
    detector = AmdDetector(config)
    start = time.process_time()
    verdict = None
    for i in range(0, len(pcm), chunk):
        verdict = detector.feed(pcm[i : i + chunk])
        if detector.done:
            break
    final = verdict or detector.finish()
    cpu = time.process_time() - start
    detail = detector.detail
    return {"verdict": final, "reason": detector.reason, "detail": detail, "cpu_s": cpu,
            "decided_at": detail["decided_at"] if detail["decided_at"] >= 0 else detail["audio"]}


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy, precision/recall, confusion and decision times of some clips."""
    confusion = {t: dict.fromkeys(VERDICTS, 0) for t in CLASSES}
    for row in rows:
        confusion[row["label"]][row["verdict"]] += 1
    n = len(rows)
    correct = sum(confusion[c][c] for c in CLASSES)
    out: dict[str, Any] = {
        "clips": n,
        "accuracy": round(correct / n, 4) if n else None,
        "unknown_share": round(sum(confusion[t][UNKNOWN] for t in CLASSES) / n, 4) if n else None,
        "precision": {}, "recall": {}, "confusion": confusion, "time_to_decision_s": {},
    }
    for c in CLASSES:
        said = sum(confusion[t][c] for t in CLASSES)
        truth = sum(confusion[c].values())
        out["precision"][c] = round(confusion[c][c] / said, 4) if said else None
        out["recall"][c] = round(confusion[c][c] / truth, 4) if truth else None
        times = [r["decided_at"] for r in rows if r["label"] == c]
        out["time_to_decision_s"][c] = {"p50": _percentile(times, 50), "p90": _percentile(times, 90)}
    return out


def _override(pairs: list[str]) -> AmdThresholds:
    values: dict[str, object] = {}
    for pair in pairs:
        key, _, text = pair.partition("=")
        try:
            values[key.strip()] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            raise SystemExit(f"--set {pair}: the value must be a number or True/False") from None
    try:
        return AmdThresholds.from_mapping(values, where="--set")
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def load(directory: Path, manifest: Path) -> list[dict[str, Any]]:
    """The manifest's clips, each with its samples."""
    with manifest.open("rb") as f:
        clips: list[dict[str, Any]] = tomllib.load(f)["clip"]
    for clip in clips:
        pcm, rate = soundfile.read(str(directory / clip["file"]), dtype="int16")
        if rate != 8000 or pcm.ndim != 1:
            raise SystemExit(f"{clip['file']}: expected 8 kHz mono, got {rate} Hz, {pcm.ndim} dims")
        clip["pcm"] = pcm
    return clips


def main(argv: list[str] | None = None) -> int:
    """Run the set and print the JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=FIXTURES, help="clip directory")
    parser.add_argument("--manifest", type=Path, help="manifest (default DIR/manifest.toml)")
    parser.add_argument("--split", choices=("all", "tune", "test"), default="all",
                        help="clips to run (default all; figures are given per split anyway)")
    parser.add_argument("--chunk", type=int, default=CHUNK, help="samples per feed (default 160)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override an AmdThresholds field")
    parser.add_argument("--list", action="store_true", help="one line per clip on stderr")
    args = parser.parse_args(argv)
    config = _override(args.set)
    clips = load(args.dir, args.manifest or args.dir / "manifest.toml")
    rows = []
    for clip in clips:
        if args.split != "all" and clip["split"] != args.split:
            continue
        outcome = run_clip(clip["pcm"], config, args.chunk)
        rows.append({k: clip[k] for k in ("file", "label", "kind", "split")} | outcome)
        if args.list:
            d = outcome["detail"]
            mark = "ok " if outcome["verdict"] == clip["label"] else "BAD"
            print(f"{mark} {clip['split']:4} {clip['kind']:9} {clip['label']:7} -> "
                  f"{outcome['verdict']:7} {outcome['reason']:14} at {outcome['decided_at']:4.2f} s  "
                  f"init {d['initial_silence']:4.2f} greet {d['greeting_voiced']:4.2f}/"
                  f"{d['first_utterance']:4.2f} words {d['words']:2.0f} "
                  f"floor {d['noise_floor_dbfs']:6.1f} speech {d['speech_dbfs']:6.1f}  "
                  f"{clip['file']}", file=sys.stderr)
    audio = sum(r["detail"]["audio"] for r in rows)
    result: dict[str, Any] = {
        "benchmark": "amd",
        "question": "How accurately and how fast does the AMD tell a person from a machine?",
        "settings": dataclasses.asdict(config) | {"chunk": args.chunk},
        "clips": len(rows),
        "cpu_s_per_audio_s": round(sum(r["cpu_s"] for r in rows) / audio, 5) if audio else None,
    }
    for split in ("all", "tune", "test"):
        chosen = [r for r in rows if split == "all" or r["split"] == split]
        if not chosen:
            continue
        result[split] = summarise(chosen) | {
            kind: summarise([r for r in chosen if r["kind"] == kind])
            for kind in ("generated", "recorded") if any(r["kind"] == kind for r in chosen)}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
