"""The listener's mix from byte fixtures: two G.711 frames in, the exact mixed frame out."""

from __future__ import annotations

import numpy as np

from telephony.net.mixer import FRAME_SAMPLES, JitterFifo, decode_audio, mix, mix_payloads

# Eight μ-law codes, repeated to a 20 ms frame. They decode to
#   A: 0, 32124, -32124, 8316, -8316, 372, -372, 0 (0x7f is μ-law's "negative zero")
#   B: 0, 32124, 32124, 8316, -32124, 372, 148, -31100
# and sum to 0, 32767 (clipped), 0, 16632, -32768 (clipped), 744, -224, -31100.
CUSTOMER = bytes.fromhex("ff 80 00 9f 1f e0 60 7f") * 20
SEAT = bytes.fromhex("ff 80 80 9f 00 e0 ee 01") * 20
MIXED_PCMU = bytes.fromhex("ff 80 ff 8f 00 d4 69 01") * 20
MIXED_PCMA = bytes.fromhex("d5 aa d5 a5 2a f2 58 2b") * 20


def rtp(pt: int, payload: bytes, *, seq: int = 1, first: int = 0x80) -> bytes:
    """A plain RTP packet (RFC 3550 §5.1) with SSRC 0x11223344."""
    return bytes([first, pt]) + seq.to_bytes(2, "big") + (160 * seq).to_bytes(4, "big") + \
        bytes.fromhex("11223344") + payload


def test_two_pcmu_frames_mix_to_the_exact_pcmu_frame() -> None:
    assert len(CUSTOMER) == len(SEAT) == FRAME_SAMPLES
    assert mix_payloads([(CUSTOMER, "PCMU"), (SEAT, "PCMU")], "PCMU") == MIXED_PCMU


def test_the_mix_is_reencoded_in_the_listeners_law() -> None:
    assert mix_payloads([(CUSTOMER, "PCMU"), (SEAT, "PCMU")], "PCMA") == MIXED_PCMA


def test_sides_in_different_laws_are_each_decoded_with_their_own() -> None:
    # A-law d5 2a aa 55 d5 d5 d5 d5 decodes to 8, -32256, 32256, -8, 8, 8, 8, 8; added to the
    # customer's samples: 8, -132, 132, 8308, -8308, 380, -364, 8.
    seat_alaw = bytes.fromhex("d5 2a aa 55 d5 d5 d5 d5") * 20
    mixed = mix_payloads([(CUSTOMER, "PCMU"), (seat_alaw, "PCMA")], "PCMU")
    assert mixed == bytes.fromhex("fe 6f ef 9f 1f df 60 fe") * 20


def test_mix_clips_instead_of_wrapping() -> None:
    loud = np.full(4, 30000, dtype=np.int16)
    assert mix([loud, loud]).tolist() == [32767] * 4
    assert mix([-loud, -loud]).tolist() == [-32768] * 4
    assert mix([loud, -loud]).tolist() == [0] * 4


def test_decode_audio_keeps_g711_and_leaves_out_events_and_garbage() -> None:
    packets = [
        rtp(0, CUSTOMER[:8]),                  # the negotiated μ-law PT
        rtp(101, bytes.fromhex("01 0a 00a0")),  # an RFC 4733 event: not audio
        b"\x80\x00\x00",                       # too short to be RTP
        rtp(8, b"\xd5\xd5"),                   # static PCMA: two silent samples
        rtp(13, b"\x40"),                      # comfort noise: not mixed
    ]
    pcm, malformed = decode_audio(packets, 0, "PCMU")
    assert pcm.tolist() == [0, 32124, -32124, 8316, -8316, 372, -372, 0, 8, 8]
    assert malformed == 1


def test_decode_audio_uses_the_receivers_dynamic_pt() -> None:
    pcm, _ = decode_audio([rtp(96, b"\x2a\xaa")], 96, "PCMA")
    assert pcm.tolist() == [-32256, 32256]


def test_fifo_primes_two_frames_then_plays_in_order() -> None:
    fifo = JitterFifo(frame=4, prime=2, limit=6)
    fifo.push(np.arange(1, 5, dtype=np.int16))
    assert fifo.pull().tolist() == [0, 0, 0, 0]  # one frame in: still priming
    fifo.push(np.arange(5, 9, dtype=np.int16))
    assert fifo.pull().tolist() == [1, 2, 3, 4]
    assert fifo.pull().tolist() == [5, 6, 7, 8]
    assert fifo.pull().tolist() == [0, 0, 0, 0] and fifo.underruns == 1 and fifo.priming


def test_fifo_runs_dry_mid_frame_and_reprimes() -> None:
    fifo = JitterFifo(frame=4, prime=1, limit=6)
    fifo.push(np.array([1, 2, 3, 4, 5, 6], dtype=np.int16))
    assert fifo.pull().tolist() == [1, 2, 3, 4]
    assert fifo.pull().tolist() == [5, 6, 0, 0]
    assert (fifo.underruns, fifo.priming, len(fifo)) == (1, True, 0)


def test_fifo_drops_the_oldest_audio_beyond_its_limit() -> None:
    fifo = JitterFifo(frame=2, prime=2, limit=3)
    fifo.push(np.arange(1, 9, dtype=np.int16))  # 4 frames > limit 3: keep the newest 2
    assert (len(fifo), fifo.dropped) == (4, 4)
    assert fifo.pull().tolist() == [5, 6]
    assert fifo.pull().tolist() == [7, 8]
