"""RecorderTap: a whole flush decoded at once gives the WAV that placing packet by packet gives,
for steady calls and for every odd packet (CSRCs, extensions, padding, events, other sizes)."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import numpy as np

from recordings.timeline import StereoTimeline
from recordings.wav import read_stereo
from telephony.net.recorder import RecorderTap, decode_batch, steady_run
from telephony.rtp.g711 import ALAW_DECODE, ULAW_DECODE

PCMA_DYNAMIC = 96  # channel 1 sends A-law under a dynamic payload type
Packet = tuple[int, float, bytes]  # channel, arrival (clock seconds), datagram


def rtp(pt: int, ts: int, ssrc: int, payload: bytes, *, marker: bool = False, csrc: int = 0,
        ext: bytes | None = None, pad: int = 0, seq: int = 0) -> bytes:
    """An RTP packet (RFC 3550 §5.1) with optional CSRCs, header extension and padding."""
    first = 0x80 | csrc | (0x10 if ext is not None else 0) | (0x20 if pad else 0)
    head = struct.pack("!BBHII", first, pt | (0x80 if marker else 0), seq, ts & 0xFFFFFFFF, ssrc)
    head += b"".join(struct.pack("!I", 0xC0C0 + i) for i in range(csrc))
    if ext is not None:
        head += struct.pack("!HH", 0xBEDE, len(ext) // 4) + ext
    return head + payload + (bytes(pad - 1) + bytes([pad]) if pad else b"")


def reference(packets: list[Packet], start: float, flushes: list[float], end: float) -> np.ndarray:
    """What the tap did before batching: parse, decode and add() each packet on its own."""
    tables = [{0: ULAW_DECODE, 8: ALAW_DECODE}, {0: ULAW_DECODE, 8: ALAW_DECODE, PCMA_DYNAMIC: ALAW_DECODE}]
    tl = StereoTimeline()
    pieces, pending = [], sorted(packets, key=lambda p: p[1])
    for now in [*flushes, end]:
        while pending and pending[0][1] <= now:
            ch, arrival, data = pending.pop(0)
            first = data[0]
            offset = 12 + 4 * (first & 0x0F)
            if first & 0x10:
                offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
            stop = len(data) - (data[-1] if first & 0x20 else 0)
            table = tables[ch].get(data[1] & 0x7F)
            if table is None or stop <= offset:
                continue
            ts, ssrc = struct.unpack_from("!II", data, 4)
            pcm = table[np.frombuffer(data[offset:stop], dtype=np.uint8)]
            tl.add(ch, arrival - start, ts, ssrc, pcm)
        pieces.append(tl.take(now - start))
    pieces.append(tl.finish())
    return np.concatenate(pieces)


def record(path: Path, packets: list[Packet], start: float, flushes: list[float], end: float) -> np.ndarray:
    """The tap as the relay drives it: append as packets arrive, flush on the relay's ticks."""
    tap = RecorderTap(path, start)
    tap.set_codec(1, PCMA_DYNAMIC, "pcma")
    pending = sorted(packets, key=lambda p: p[1])
    for now in flushes:
        while pending and pending[0][1] <= now:
            ch, arrival, data = pending.pop(0)
            tap.packets[ch].append(data)
            tap.arrivals[ch].append(arrival)
        tap.flush(now)
    for ch, arrival, data in pending:
        tap.packets[ch].append(data)
        tap.arrivals[ch].append(arrival)
    tap.close(end)
    frames, _ = read_stereo(path)
    return frames


def call(rng: random.Random, seconds: float, odd: float) -> list[Packet]:
    """Both sides of a call from clock time 100 s, 20 ms packets with jitter; a share ``odd`` of
    packets is unusual: DTMF events, CSRCs, extensions, padding, 10 ms packets, markers."""
    packets: list[Packet] = []
    ts = [0xFFFF_F000, 77_000]
    for k in range(int(seconds * 50)):
        for ch, pt, ssrc in ((0, 0, 0x1111), (1, PCMA_DYNAMIC, 0x2222)):
            payload = bytes(rng.getrandbits(8) for _ in range(160))
            arrival = 100.0 + k * 0.02 + rng.uniform(0.0, 0.03)
            kind = rng.random() / max(odd, 1e-9)
            if kind < 0.2:
                data = rtp(101, ts[ch], ssrc, bytes([5, 0x0A, 0, 160]))  # RFC 4733 event: not audio
            elif kind < 0.4:
                data = rtp(pt, ts[ch], ssrc, payload, csrc=2)
            elif kind < 0.6:
                data = rtp(pt, ts[ch], ssrc, payload, ext=b"\x10\x20\x30\x40", pad=4)
            elif kind < 0.8:
                data = rtp(pt, ts[ch], ssrc, payload[:80])  # a 10 ms packet ...
                packets.append((ch, arrival, data))
                data = rtp(pt, ts[ch] + 80, ssrc, payload[80:])  # ... and the next one
            elif kind < 1.0:
                data = rtp(pt, ts[ch], ssrc, payload, marker=True)
            else:
                data = rtp(pt, ts[ch], ssrc, payload, seq=k)
            packets.append((ch, arrival, data))
            ts[ch] += 160
    return packets


def test_a_steady_call_matches_packet_by_packet(tmp_path: Path) -> None:
    packets = call(random.Random(5), 6.0, odd=0.0)
    flushes = [100.37 + 0.5 * i for i in range(12)]
    expected = reference(packets, 99.9, flushes, 106.5)
    got = record(tmp_path / "a.wav", packets, 99.9, flushes, 106.5)
    assert len(expected) > 6 * 8000 - 400
    assert np.array_equal(got, expected)


def test_odd_packets_match_packet_by_packet(tmp_path: Path) -> None:
    for seed, odd in ((1, 0.02), (2, 0.3), (3, 1.0)):
        packets = call(random.Random(seed), 4.0, odd=odd)
        flushes = [100.11 + 0.5 * i for i in range(8)]
        expected = reference(packets, 100.0, flushes, 104.2)
        got = record(tmp_path / f"{seed}.wav", packets, 100.0, flushes, 104.2)
        assert np.array_equal(got, expected), seed


LAWS = np.full(128, -1, dtype=np.int8)
LAWS[0], LAWS[8] = 0, 1


def test_steady_run_reads_one_ssrc_with_consecutive_timestamps() -> None:
    payload = bytes(range(160))
    packets = [rtp(0, 0xFFFF_FF00 + 160 * k, 0xCAFE, payload, marker=k == 0, seq=k) for k in range(5)]
    run = steady_run(packets, LAWS)
    assert run is not None
    assert (run.timestamp, run.ssrc, run.size) == (0xFFFF_FF00, 0xCAFE, 160)
    assert np.array_equal(run.pcm, np.tile(ULAW_DECODE[:160], 5))


def test_steady_run_declines_anything_else() -> None:
    payload = bytes(160)

    def five(**change: int) -> list[bytes]:
        return [rtp(change.get("pt", 0), 160 * k + (change.get("gap", 0) if k == 3 else 0),
                    change.get("ssrc", 1) if k == 2 else 1, payload) for k in range(5)]

    assert steady_run(five(), LAWS) is not None
    assert steady_run(five(gap=1), LAWS) is None  # a timestamp jump
    assert steady_run(five(ssrc=2), LAWS) is None  # a second sender
    assert steady_run(five(pt=101), LAWS) is None  # not audio
    assert steady_run([*five(), rtp(0, 800, 1, payload[:80])], LAWS) is None  # another size
    assert steady_run([*five()[:4], rtp(0, 640, 1, payload, pad=4)], LAWS) is None
    assert steady_run([*five()[:4], rtp(0, 640, 1, payload[:156], csrc=1)], LAWS) is None
    assert steady_run([rtp(0, 0, 1, b"")], LAWS) is None  # a header only


def test_decode_batch_skips_events_empty_and_malformed_packets() -> None:
    packets = [rtp(0, 0, 1, b"\x00\xff"), rtp(101, 2, 1, b"\x01\x02\x03\x04"), rtp(8, 2, 1, b""),
               b"\x90\x00" + bytes(12), rtp(8, 4, 1, b"\xd5", pad=2, csrc=1)]
    batch = decode_batch(packets, [1.0, 2.0, 3.0, 4.0, 5.0], LAWS, 0.5)
    assert batch is not None
    assert batch.arrivals.tolist() == [0.5, 4.5]
    assert batch.timestamps.tolist() == [0, 4] and batch.ssrcs.tolist() == [1, 1]
    assert batch.lengths.tolist() == [2, 1]
    assert batch.pcm.tolist() == [ULAW_DECODE[0], ULAW_DECODE[0xFF], ALAW_DECODE[0xD5]]
    assert decode_batch([rtp(101, 0, 1, b"\x01\x02\x03\x04")], [1.0], LAWS, 0.0) is None
