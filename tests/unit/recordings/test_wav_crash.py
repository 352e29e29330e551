"""A recorder killed with SIGKILL: repair_wav makes the file whole, with every flushed frame."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recordings.wav import RepairStatus, read_stereo, repair_wav

ROOT = Path(__file__).resolve().parents[3]
CHUNK = 8000  # one second of stereo frames per flush, as the recorder tap does

# The child writes chunk i as a known pattern, flushes, and reports "flushed <i+1>".
#   idle:      after N flushes, buffers one more chunk, says "ready" and waits to be killed
#   mid-flush: on flush N, kills itself after the data is appended but before the header patch
#   torn:      after N flushes, appends 3 stray bytes (a torn frame) and kills itself
#   running:   flushes as fast as it can until the parent kills it
CHILD = """
import os, signal, sys
import numpy as np
from pathlib import Path
from recordings.wav import StereoWavWriter

mode, path, n, chunk = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def pattern(i):
    left = (np.arange(i * chunk, (i + 1) * chunk) % 65536 - 32768).astype(np.int16)
    return np.stack([left, ~left], axis=1)

def die(*args):
    os.kill(os.getpid(), signal.SIGKILL)

w = StereoWavWriter(path)
i = 0
while mode == "running" or i < n:
    if mode == "mid-flush" and i == n - 1:
        os.pwrite = die
    w.write(pattern(i))
    w.flush()
    i += 1
    print("flushed", i, flush=True)
if mode == "torn":
    os.write(w._fd, b"abc")
    die()
w.write(pattern(i))
print("ready", flush=True)
sys.stdin.readline()
"""


def pattern(n_chunks: int) -> np.ndarray:
    left = (np.arange(n_chunks * CHUNK) % 65536 - 32768).astype(np.int16)
    return np.stack([left, ~left], axis=1)


def run_child(mode: str, path: Path, n: int) -> tuple[int, int]:
    """Run the recorder child until it dies or is killed; return (flushes reported, returncode)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", CHILD, mode, str(path), str(n), str(CHUNK)]
    child = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env
    )
    assert child.stdout is not None
    flushed = 0
    try:
        for line in child.stdout:
            if line.startswith("flushed"):
                flushed = int(line.split()[1])
            if line.startswith("ready") or (mode == "running" and flushed >= n):
                child.send_signal(signal.SIGKILL)
                break
        return flushed, child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_kill_between_flushes_keeps_every_flushed_frame(tmp_path: Path) -> None:
    path = tmp_path / "rec" / "call.wav"
    flushed, rc = run_child("idle", path, 3)
    assert (flushed, rc) == (3, -signal.SIGKILL)
    result = repair_wav(path)
    assert result.status is RepairStatus.OK and result.frames == 3 * CHUNK
    data, rate = read_stereo(path)
    assert rate == 8000 and np.array_equal(data, pattern(3))


def test_kill_inside_flush_leaves_a_stale_header_that_repair_fixes(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    flushed, rc = run_child("mid-flush", path, 4)
    assert (flushed, rc) == (3, -signal.SIGKILL)
    result = repair_wav(path)
    # The fourth chunk reached the file; only its header patch was lost.
    assert result.status is RepairStatus.REPAIRED
    assert (result.frames, result.truncated_bytes) == (4 * CHUNK, 0)
    data, _ = read_stereo(path)
    assert np.array_equal(data, pattern(4))


def test_kill_after_a_torn_frame_truncates_it(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    flushed, rc = run_child("torn", path, 2)
    assert (flushed, rc) == (2, -signal.SIGKILL)
    result = repair_wav(path)
    assert result.status is RepairStatus.REPAIRED
    assert (result.frames, result.truncated_bytes) == (2 * CHUNK, 3)
    assert np.array_equal(read_stereo(path)[0], pattern(2))


@pytest.mark.parametrize("flushes", [5, 40])
def test_kill_while_writing_flat_out(tmp_path: Path, flushes: int) -> None:
    path = tmp_path / "call.wav"
    flushed, rc = run_child("running", path, flushes)
    assert rc == -signal.SIGKILL and flushed >= flushes
    result = repair_wav(path)
    assert result.status in (RepairStatus.OK, RepairStatus.REPAIRED)
    # Everything reported flushed is there (the child may have flushed more before it died;
    # a write cut short by SIGKILL can even leave part of a chunk, which repair keeps).
    assert result.frames >= flushed * CHUNK
    data, _ = read_stereo(path)
    assert len(data) == result.frames
    expected = pattern(result.frames // CHUNK + 1)[: result.frames]
    assert np.array_equal(data, expected)
